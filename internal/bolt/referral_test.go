package bolt_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/referral"
)

// referringOrg is organisation A over real HTTP on a loopback port: its
// did:web document names its feedback endpoint, which checks each
// feedback JWT with B's key and counts them by jti.
type referringOrg struct {
	addr, did string
	bKey      *credentials.Key
	mu        sync.Mutex
	got       map[string]int
	srv       *httptest.Server
}

// newReferringOrg reserves a loopback port for A without serving on it:
// A is down until up is called.
func newReferringOrg(t *testing.T, bKey *credentials.Key) *referringOrg {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &referringOrg{addr: l.Addr().String(), bKey: bKey, got: map[string]int{}}
	l.Close()
	if a.did, err = credentials.DIDWeb(a.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a.srv != nil {
			a.srv.Close()
		}
	})
	return a
}

func (a *referringOrg) up(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", a.addr)
	if err != nil {
		t.Fatalf("the port of the referring organisation was taken meanwhile: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/did.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(credentials.DIDDocument{ID: a.did, Service: []credentials.DIDService{
			{ID: a.did + "#fb", Type: credentials.ServiceReferralFeedback, ServiceEndpoint: "http://" + a.addr + "/feedback"}}})
	})
	mux.HandleFunc("POST /feedback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, referral.MaxFeedbackJWT+1))
		ft, err := referral.ParseFeedback(body)
		if err == nil {
			err = ft.Verify([]*credentials.Key{a.bKey})
		}
		if err != nil || ft.Claims.Audience != a.did || r.Header.Get("Content-Type") != referral.FeedbackMediaType {
			http.Error(w, "refused", http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.got[ft.Claims.ID]++
		a.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	a.srv = httptest.NewUnstartedServer(mux)
	a.srv.Listener = l
	a.srv.Start()
}

func (a *referringOrg) received() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for k, v := range a.got {
		out[k] = v
	}
	return out
}

// receivingOrg is organisation B's referral service on db.
func receivingOrg(t *testing.T, db *bolt.DB, key *credentials.Key) *referral.Service {
	t.Helper()
	st, err := bolt.NewReferralStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := referral.New(referral.Options{
		Store: st, Outbox: st,
		Signer:           func(context.Context, string) (*credentials.Key, error) { return key, nil },
		Resolve:          referral.NewResolver(referral.ResolverOptions{InsecureLoopback: true, Timeout: 2 * time.Second}),
		InsecureLoopback: true, MinRetry: time.Millisecond, MaxRetry: 4 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func bKey(t *testing.T) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte("organisation b"))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "did:web:b.example")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// receiveAndAccept records a referral from a at B and accepts it,
// queuing its feedback.
func receiveAndAccept(t *testing.T, svc *referral.Service, from, id string) {
	t.Helper()
	ctx := context.Background()
	staff := audit.Staff("staff-1")
	p := &referral.Presented{Record: referral.Received{ID: id, Org: "b", From: from, Service: "primary-health-care"}}
	if _, created, err := svc.Receive(ctx, staff, p); err != nil || !created {
		t.Fatalf("receive: %v, %v", created, err)
	}
	if _, created, err := svc.Receive(ctx, staff, p); err != nil || created {
		t.Fatalf("received twice: %v, %v", created, err)
	}
	if _, err := svc.Change(ctx, staff, "b", "did:web:b.example", id, referral.ChangeInput{State: referral.StateAccepted}); err != nil {
		t.Fatal(err)
	}
	// The same change again queues nothing more.
	if _, err := svc.Change(ctx, staff, "b", "did:web:b.example", id, referral.ChangeInput{State: referral.StateAccepted}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Change(ctx, staff, "b", "did:web:b.example", id, referral.ChangeInput{State: referral.StateDeclined, Code: "no-capacity"}); !errors.Is(err, referral.ErrState) {
		t.Fatalf("declined after acceptance: %v", err)
	}
}

// TestReferralOutboxRetry: feedback to a referring organisation that is
// down is retried with backoff, and delivered once it is up, once.
func TestReferralOutboxRetry(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	key := bKey(t)
	a := newReferringOrg(t, key)
	svc := receivingOrg(t, db, key)
	receiveAndAccept(t, svc, a.did, "urn:uuid:11111111-1111-4111-8111-111111111111")

	st, _ := bolt.NewReferralStore(db.Bolt())
	for i := 1; i <= 3; i++ {
		n, next, err := svc.DeliverDue(ctx)
		if err != nil || n != 0 || next.IsZero() {
			t.Fatalf("attempt %d with A down: %d delivered, next %v, %v", i, n, next, err)
		}
		pending, err := st.Pending(ctx)
		if err != nil || len(pending) != 1 || pending[0].Attempts != i || !strings.Contains(pending[0].Problem, "could not be read") {
			t.Fatalf("attempt %d: pending %+v, %v", i, pending, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.up(t)
	if n, _, err := svc.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("with A up: %d delivered, %v", n, err)
	}
	if n, _, err := svc.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("delivered again: %d, %v", n, err)
	}
	got := a.received()
	if len(got) != 1 {
		t.Fatalf("A received %v", got)
	}
	rec, err := svc.Received(ctx, "b", "urn:uuid:11111111-1111-4111-8111-111111111111")
	if err != nil || len(rec.Changes) != 1 || rec.Changes[0].Delivered.IsZero() || got[rec.Changes[0].Feedback] != 1 {
		t.Fatalf("the record: %+v, %v", rec, err)
	}
}

// TestReferralOutboxRestart: feedback queued before the process stopped
// is delivered after it starts again, by Run.
func TestReferralOutboxRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), bolt.FileName)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	key := bKey(t)
	a := newReferringOrg(t, key)
	svc := receivingOrg(t, db, key)
	receiveAndAccept(t, svc, a.did, "urn:uuid:22222222-2222-4222-8222-222222222222")
	if n, _, err := svc.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("with A down: %d, %v", n, err)
	}
	db.Close()

	db = openAt(t, path)
	a.up(t)
	svc = receivingOrg(t, db, key)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(a.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	got := a.received()
	if len(got) != 1 {
		t.Fatalf("after the restart A received %v", got)
	}
	for _, n := range got {
		if n != 1 {
			t.Fatalf("a feedback was delivered %d times", n)
		}
	}
}

func openAt(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
