package trustsync_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// thousandIssuers is a signed trust list of n issuers, and its anchor.
func thousandIssuers(t testing.TB, n int) ([]byte, json.RawMessage) {
	t.Helper()
	list := verifier.NewTrustList(fmt.Sprintf("Consortium of %d", n))
	for i := range n {
		did := fmt.Sprintf("did:web:issuer-%d.example", i)
		iss, err := verifier.NewTrustedIssuer(fmt.Sprintf("Issuer %d", i), credentials.Types(), testKey(t, did, did))
		if err != nil {
			t.Fatal(err)
		}
		iss.StatusBase = fmt.Sprintf("https://issuer-%d.example/status/org", i)
		if err := list.Add(iss); err != nil {
			t.Fatal(err)
		}
	}
	anchor := testKey(t, "big anchor", "did:web:consortium.example")
	body, err := verifier.SignTrustList(list, anchor, testNow.Add(-time.Minute), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return body, anchorJWK(t, anchor)
}

// TestThousandIssuers: a 1,000-issuer signed list loads fast, and the
// verifier built on it keeps little: the list's body stays in the store.
func TestThousandIssuers(t *testing.T) {
	st, closeDB := openStores(t, t.TempDir())
	defer closeDB()
	clk := &clock{t: testNow}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	body, anchor := thousandIssuers(t, 1000)
	start := time.Now()
	svc, err := trustsync.New(ctx, trustsync.Options{
		Stores: st, Anchors: []json.RawMessage{anchor}, ConfigList: body, ConfigListName: "big.jws",
		Verifier: verifier.Options{Now: clk.Now},
	})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	body = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1,000 issuers: loaded (parsed, checked, stored, indexed) in %v; %.2f MB kept on the heap (%d → %d bytes)", took, float64(kept)/(1<<20), before.HeapAlloc, after.HeapAlloc)
	if got := len(svc.TrustList().Issuers); got != 1000 {
		t.Fatalf("%d issuers trusted", got)
	}
	if took > 5*time.Second {
		t.Errorf("loading took %v", took)
	}
	if kept > 8<<20 {
		t.Errorf("the verifier keeps %d MB for 1,000 issuers", kept>>20)
	}
	runtime.KeepAlive(svc)
}
