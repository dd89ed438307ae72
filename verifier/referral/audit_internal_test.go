package referral

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

// ctxAuditor refuses an entry whose context is done, as the bbolt store does.
type ctxAuditor struct{ entries []audit.Entry }

func (a *ctxAuditor) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if err := ctx.Err(); err != nil {
		return audit.Entry{}, err
	}
	a.entries = append(a.entries, e)
	return e, nil
}

// TestAuditOutlivesItsRequest: a referral recorded, accepted or closed is
// in the audit log even when the request was cancelled after the change
// was stored (a retry finds it done and writes no entry of its own).
func TestAuditOutlivesItsRequest(t *testing.T) {
	a := &ctxAuditor{}
	s := &Service{opts: Options{Audit: a}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.audit(ctx, audit.System("test"), "demo", audit.ActionReferralAccept, "urn:uuid:0b9e4c4e-5a8f-4c1e-9a43-2f1d2b8c7e11"); err != nil {
		t.Fatalf("audit after the request was cancelled: %v", err)
	}
	if len(a.entries) != 1 {
		t.Fatalf("%d entries, want 1", len(a.entries))
	}
}

// oneStore keeps received referrals by org and id, as the bbolt store does.
type oneStore struct {
	Store
	byKey map[string]Received
}

func (s *oneStore) AddReceived(_ context.Context, r Received) (Received, bool, error) {
	if old, ok := s.byKey[r.Org+"\x00"+r.ID]; ok {
		return old, false, nil
	}
	s.byKey[r.Org+"\x00"+r.ID] = r
	return r, true, nil
}

// TestReceiveIDOfAnotherIssuer: a referral whose id another organisation's
// referral recorded already (an id read off that card, say) is refused:
// it is not taken for the one recorded, whose feedback goes elsewhere.
func TestReceiveIDOfAnotherIssuer(t *testing.T) {
	st := &oneStore{byKey: map[string]Received{}}
	s := &Service{opts: Options{Store: st, Audit: &ctxAuditor{}}}
	s.opts.Now = time.Now
	ctx := context.Background()
	id := "urn:uuid:0b9e4c4e-5a8f-4c1e-9a43-2f1d2b8c7e11"
	if _, created, err := s.Receive(ctx, audit.System("test"), &Presented{Record: Received{ID: id, Org: "other", From: "did:web:b.example"}}); err != nil || !created {
		t.Fatalf("first: created %v, %v", created, err)
	}
	if _, _, err := s.Receive(ctx, audit.System("test"), &Presented{Record: Received{ID: id, Org: "other", From: "did:web:b.example"}}); err != nil {
		t.Fatalf("the same referral again: %v", err)
	}
	_, _, err := s.Receive(ctx, audit.System("test"), &Presented{Record: Received{ID: id, Org: "other", From: "did:web:a.example"}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "referral" {
		t.Fatalf("another issuer's referral of the same id: %v, want an input error on referral", err)
	}
}
