package verifier_test

import (
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// signedTrust signs a trust list naming the fixture's issuer with anchor,
// issued at.
func signedTrust(t *testing.T, f *fixture, anchor *credentials.Key, at time.Time) []byte {
	t.Helper()
	signed, err := verifier.SignTrustList(f.trustFor(t, credentials.Types()...), anchor, at, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// A signed list issued later than now (beyond the clock skew) is refused.
func TestTrustListFromTheFuture(t *testing.T) {
	f := newFixture(t)
	anchor := testKey(t, "consortium", "")
	opts := verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor.Public}, Now: clockNow}
	_, err := verifier.ParseTrustList(signedTrust(t, f, anchor, testNow.Add(time.Hour)), opts)
	if !errors.Is(err, verifier.ErrTrustListFromFuture) {
		t.Fatalf("a list issued in an hour: %v, want ErrTrustListFromFuture", err)
	}
	soon := signedTrust(t, f, anchor, testNow.Add(time.Minute))
	if _, err := verifier.ParseTrustList(soon, opts); err != nil {
		t.Fatalf("a list issued within the clock skew: %v", err)
	}
	opts.ClockSkew = -1
	if _, err := verifier.ParseTrustList(soon, opts); !errors.Is(err, verifier.ErrTrustListFromFuture) {
		t.Fatalf("with no clock skew, a list issued in a minute: %v", err)
	}
}

// A list older than the newest accepted from the same anchor is refused;
// lists of other anchors, and plain files, are not compared with it.
func TestTrustListRollback(t *testing.T) {
	f := newFixture(t)
	anchor := testKey(t, "consortium", "")
	other := testKey(t, "other-anchor", "")
	old := signedTrust(t, f, anchor, testNow.Add(-48*time.Hour))
	current := signedTrust(t, f, anchor, testNow)
	state := verifier.NewTrustListState()
	opts := verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor.Public, other.Public}, AllowUnsigned: true, Now: clockNow, Seen: state}

	list, err := verifier.ParseTrustList(current, opts)
	if err != nil {
		t.Fatal(err)
	}
	if list.Anchor() == "" || !state.Accept(list) || state.Accept(list) {
		t.Fatalf("accepting the current list: anchor %q, state %v", list.Anchor(), state.Newest)
	}
	if _, err := verifier.ParseTrustList(old, opts); !errors.Is(err, verifier.ErrOlderTrustList) {
		t.Fatalf("an older list: %v, want ErrOlderTrustList", err)
	}
	if _, err := verifier.ParseTrustList(current, opts); err != nil {
		t.Fatalf("the same list again: %v", err)
	}
	if _, err := verifier.ParseTrustList(signedTrust(t, f, other, testNow.Add(-72*time.Hour)), opts); err != nil {
		t.Fatalf("another anchor's list is compared with this anchor's: %v", err)
	}
	plain, _ := f.trust.Marshal()
	if _, err := verifier.ParseTrustList(plain, opts); err != nil {
		t.Fatalf("a plain list: %v", err)
	}

	// The state survives a round trip, and still refuses the older list.
	data, err := state.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := verifier.ParseTrustListState(data)
	if err != nil {
		t.Fatal(err)
	}
	opts.Seen = back
	if _, err := verifier.ParseTrustList(old, opts); !errors.Is(err, verifier.ErrOlderTrustList) {
		t.Fatalf("after a round trip of the state, an older list: %v", err)
	}
	for _, bad := range []string{`{"version":2,"newest":{}}`, `{"version":1,"newest":{"x":"yesterday"}}`, `{"version":1,"newest":{},"extra":1}`, `[]`} {
		if _, err := verifier.ParseTrustListState([]byte(bad)); err == nil {
			t.Fatalf("state %s was accepted", bad)
		}
	}
}
