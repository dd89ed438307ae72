package referral

import (
	"context"
	"testing"

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
