package trustsync_test

import (
	"context"

	"encoding/json"
	"errors"
	"github.com/tally-id/tally/credentials"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// setup is an issuer on the network, a consortium anchor, a signed trust
// list naming the issuer, and a clock.
type setup struct {
	clk    *clock
	iss    *issuerServer
	anchor *trustsyncAnchor
	dir    string
}

type trustsyncAnchor struct {
	jwk  json.RawMessage
	list []byte
}

func newSetup(t *testing.T) *setup {
	clk := &clock{t: testNow}
	iss := newIssuerServer(t, clk)
	a := testKey(t, "consortium", "did:web:consortium.example")
	return &setup{clk: clk, iss: iss, dir: t.TempDir(),
		anchor: &trustsyncAnchor{jwk: anchorJWK(t, a), list: iss.signedList(t, a, "Consortium", testNow.Add(-time.Hour), 30*24*time.Hour)}}
}

// service starts a Service on the setup's database, as tally serve does.
func (s *setup) service(t *testing.T, offline bool) (*trustsync.Service, func()) {
	t.Helper()
	st, closeDB := openStores(t, s.dir)
	svc, err := trustsync.New(ctx, trustsync.Options{
		Stores: st, Anchors: []json.RawMessage{s.anchor.jwk}, ConfigList: s.anchor.list, ConfigListName: "consortium.jws",
		Verifier: verifier.Options{Now: s.clk.Now, Offline: offline},
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	return svc, closeDB
}

func TestNetworkDownThenBack(t *testing.T) {
	s := newSetup(t)
	svc, closeDB := s.service(t, false)
	defer closeDB()
	cred := s.iss.credential(t)

	res, err := svc.Verifier().Verify(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Status.Checked || res.Status.Stale {
		t.Fatalf("status %+v, want checked and fresh", res.Status)
	}
	if kept := svc.StatusLists(); len(kept) != 2 || kept[0].Issuer != s.iss.key.DID || kept[0].LastError != "" {
		t.Fatalf("status lists kept: %+v", kept)
	}

	// The network goes down; the list goes stale; verification goes on
	// from the cache, with a warning.
	s.iss.down()
	s.clk.add(10 * time.Minute)
	res, err = svc.Verifier().Verify(ctx, cred)
	if err != nil {
		t.Fatalf("offline from the cache: %v", err)
	}
	if !res.Status.Stale || len(res.Warnings) == 0 {
		t.Fatalf("no staleness warning: %+v %v", res.Status, res.Warnings)
	}
	svc.RefreshDue(ctx)
	kept := svc.StatusLists()[0]
	if kept.LastError == "" || kept.Failures == 0 || !kept.NextFetch.After(s.clk.Now()) {
		t.Fatalf("a failed refresh is not recorded: %+v", kept)
	}

	// Meanwhile the issuer revokes the credential; the network comes back;
	// the refresher picks the revocation up.
	s.iss.revoke(testIndex)
	s.iss.up()
	if next := svc.RefreshDue(ctx); next.IsZero() {
		t.Fatal("no next refresh")
	}
	if svc.StatusLists()[0].Failures == 0 {
		t.Fatal("the refresher did not wait for its backoff")
	}
	s.clk.add(5 * time.Minute)
	svc.RefreshDue(ctx)
	kept = svc.StatusLists()[0]
	if kept.LastError != "" || kept.Failures != 0 || !kept.FetchedAt.Equal(s.clk.Now()) {
		t.Fatalf("the refresher did not catch up: %+v", kept)
	}
	// The verifier has the new list (no fetch needed for the check).
	s.iss.down()
	if _, err := svc.Verifier().Verify(ctx, cred); reason(err) != verifier.Revoked {
		t.Fatalf("after the network came back: %v, want revoked", err)
	}
}

func TestRestartOfflineWithCaches(t *testing.T) {
	s := newSetup(t)
	svc, closeDB := s.service(t, false)
	cred := s.iss.credential(t)
	s.iss.revoke(testIndex)
	if _, err := svc.Verifier().Verify(ctx, cred); reason(err) != verifier.Revoked {
		t.Fatalf("%v, want revoked", err)
	}
	closeDB()

	// Restart with no network at all, offline: the revocation is still
	// known, from the list kept.
	s.iss.down()
	s.clk.add(2 * time.Hour)
	svc, closeDB = s.service(t, true)
	defer closeDB()
	if _, err := svc.Verifier().Verify(ctx, cred); reason(err) != verifier.Revoked {
		t.Fatalf("restarted offline: %v, want revoked from the cache", err)
	}
	if svc.TrustList() == nil || len(svc.Lists()) != 1 || svc.Lists()[0].Issuers != 1 {
		t.Fatalf("the trust list is not in force after the restart: %+v", svc.Lists())
	}
	svc.RefreshNow(ctx)
	if kept := svc.StatusLists()[0]; !strings.Contains(kept.LastError, "offline") {
		t.Fatalf("offline refresh: %+v", kept)
	}
	if s.iss.hits != 1 {
		t.Fatalf("the issuer was asked %d times, want once (offline fetches nothing)", s.iss.hits)
	}
}

func TestTrustListRollback(t *testing.T) {
	s := newSetup(t)
	a := testKey(t, "consortium", "did:web:consortium.example")
	older := s.iss.signedList(t, a, "Consortium", testNow.Add(-48*time.Hour), 30*24*time.Hour)
	newer := s.iss.signedList(t, a, "Consortium", testNow.Add(-time.Minute), 30*24*time.Hour)

	svc, closeDB := s.service(t, false)
	if _, err := svc.AddList(ctx, trustsync.NewList{Raw: newer}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddList(ctx, trustsync.NewList{Raw: older}); !errors.Is(err, verifier.ErrOlderTrustList) {
		t.Fatalf("an older signed list: %v, want ErrOlderTrustList", err)
	}
	closeDB()

	// After a restart, the older list is still refused: given as --trust,
	// it is not used, and the page says why.
	s.anchor.list = older
	svc, closeDB = s.service(t, false)
	defer closeDB()
	var cfg *trustsync.ListSource
	for _, l := range svc.Lists() {
		if l.ID == trustsync.ConfigListID {
			cfg = &l
		}
	}
	if cfg == nil || !strings.Contains(cfg.LastError, "older") {
		t.Fatalf("the older --trust file: %+v", cfg)
	}
	if _, err := svc.AddList(ctx, trustsync.NewList{Raw: older}); !errors.Is(err, verifier.ErrOlderTrustList) {
		t.Fatalf("after a restart: %v, want ErrOlderTrustList", err)
	}

	// A list fetched from a URL: a replayed older one is refused, the
	// newer stays in force.
	serve := newer
	s.iss.mu.Lock()
	s.iss.trust = func() []byte { return serve }
	s.iss.mu.Unlock()
	src, err := svc.AddList(ctx, trustsync.NewList{URL: "http://" + s.iss.addr + "/trust", Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	serve = older
	s.clk.add(2 * time.Minute)
	svc.RefreshDue(ctx)
	for _, l := range svc.Lists() {
		if l.ID == src.ID && (!strings.Contains(l.LastError, "older") || !l.Issued.Equal(testNow.Add(-time.Minute))) {
			t.Fatalf("a replayed list at the URL: %+v", l)
		}
	}
	if _, err := svc.Verifier().Verify(ctx, s.iss.credential(t)); err != nil {
		t.Fatalf("the newer list stopped being in force: %v", err)
	}
}

func TestLapsedList(t *testing.T) {
	s := newSetup(t)
	a := testKey(t, "consortium", "did:web:consortium.example")
	s.anchor.list = s.iss.signedList(t, a, "Consortium", testNow.Add(-time.Hour), 2*time.Hour)
	svc, closeDB := s.service(t, false)
	defer closeDB()
	cred := s.iss.credential(t)
	if _, err := svc.Verifier().Verify(ctx, cred); err != nil {
		t.Fatal(err)
	}
	s.clk.add(2 * time.Hour)
	_, err := svc.Verifier().Verify(ctx, cred)
	if reason(err) != verifier.UntrustedIssuer || !strings.Contains(err.Error(), "trusted only until") {
		t.Fatalf("a lapsed list: %v, want untrusted issuer, saying until when", err)
	}
	// A lapsed list cannot be uploaded either.
	if _, err := svc.AddList(ctx, trustsync.NewList{Raw: s.anchor.list}); err == nil || !strings.Contains(err.Error(), "lapsed") {
		t.Fatalf("uploading a lapsed list: %v", err)
	}
}

func TestAnchors(t *testing.T) {
	s := newSetup(t)
	svc, closeDB := s.service(t, false)
	defer closeDB()
	other := testKey(t, "another anchor", "did:web:other.example")
	a, err := svc.AddAnchor(ctx, "Another consortium", anchorJWK(t, other))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAnchor(ctx, "Again", anchorJWK(t, other)); !errors.Is(err, trustsync.ErrExists) {
		t.Fatalf("the same anchor twice: %v", err)
	}
	for _, bad := range []struct{ name, jwk, field string }{
		{"", string(anchorJWK(t, other)), "name"},
		{"X", `{"kty":"OKP"}`, "jwk"},
		{"X", "", "jwk"},
	} {
		var fe *trustsync.FieldError
		if _, err := svc.AddAnchor(ctx, bad.name, []byte(bad.jwk)); !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("AddAnchor(%q, %q): %v, want an error on %s", bad.name, bad.jwk, err, bad.field)
		}
	}
	list := s.iss.signedList(t, other, "Other", testNow, time.Hour)
	src, err := svc.AddList(ctx, trustsync.NewList{Raw: list})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveAnchor(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, l := range svc.Lists() {
		if l.ID == src.ID && !strings.Contains(l.LastError, "not in force") {
			t.Fatalf("a list whose anchor was removed is still in force: %+v", l)
		}
	}
	if err := svc.RemoveAnchor(ctx, svc.Anchors()[0].ID); !errors.Is(err, trustsync.ErrFromConfig) {
		t.Fatalf("removing the configured anchor: %v", err)
	}
	if err := svc.RemoveList(ctx, trustsync.ConfigListID); !errors.Is(err, trustsync.ErrFromConfig) {
		t.Fatalf("removing the configured list: %v", err)
	}
	if err := svc.RemoveList(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveList(ctx, src.ID); !errors.Is(err, trustsync.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

// TestLocalStatusInProcess: the instance's own lists are read in-process,
// with no network at all, even offline.
func TestLocalStatusInProcess(t *testing.T) {
	s := newSetup(t)
	st, closeDB := openStores(t, s.dir)
	defer closeDB()
	s.iss.revoke(testIndex)
	calls := 0
	local := func(_ context.Context, url, _ string) ([]byte, time.Duration, bool, error) {
		if !strings.HasPrefix(url, s.iss.base+"/") {
			return nil, 0, false, nil
		}
		calls++
		l := s.iss.list
		if strings.Contains(url, "suspension") {
			l = s.iss.susp
		}
		body, err := credentials.IssueStatusList(l, s.iss.key, s.clk.Now())
		return body, 5 * time.Minute, true, err
	}
	s.iss.down()
	svc, err := trustsync.New(ctx, trustsync.Options{
		Stores: st, Local: func(context.Context) ([]*verifier.TrustedIssuer, error) {
			return []*verifier.TrustedIssuer{s.iss.entry(t)}, nil
		},
		LocalStatus: local, Verifier: verifier.Options{Now: s.clk.Now, Offline: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Verifier().Verify(ctx, s.iss.credential(t)); reason(err) != verifier.Revoked || calls != 1 {
		t.Fatalf("%v after %d in-process reads, want revoked after 1", err, calls)
	}
}

// TestLocalIssuersFollowed: an organisation added to the instance (or a key
// rotated) is trusted after the next refresh pass, with no restart.
func TestLocalIssuersFollowed(t *testing.T) {
	s := newSetup(t)
	local := []*verifier.TrustedIssuer{s.iss.entry(t)}
	svc, err := trustsync.New(ctx, trustsync.Options{
		Local:    func(context.Context) ([]*verifier.TrustedIssuer, error) { return local, nil },
		Verifier: verifier.Options{Now: s.clk.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	k := testKey(t, "new org", "did:web:new-org.example")
	iss, err := verifier.NewTrustedIssuer("New organisation", credentials.Types(), k)
	if err != nil {
		t.Fatal(err)
	}
	local = append(local, iss)
	before := svc.Verifier()
	svc.RefreshDue(ctx)
	if _, ok := svc.TrustList().Issuer(k.DID); !ok || svc.Verifier() == before {
		t.Fatal("the new organisation is not trusted after a refresh pass")
	}
	before = svc.Verifier()
	svc.RefreshDue(ctx)
	if svc.Verifier() != before {
		t.Fatal("a pass with nothing changed rebuilt the verifier")
	}
}
