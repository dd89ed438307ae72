package verifier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// Another trusted issuer must not be able to stand in for an issuer's
// status list: not by claiming its URL, not through the cache.
func TestStatusListOfAnotherIssuer(t *testing.T) {
	ctx := context.Background()
	a := newFixture(t)
	b := newFixture(t)
	b.key = testKey(t, "org-b", "did:web:org-b.example")
	trust := a.trustFor(t, credentials.Types()...)
	issB, _ := verifier.NewTrustedIssuer("Organisation B", credentials.Types(), b.key)
	issB.StatusBase = b.base
	if err := trust.Add(issB); err != nil {
		t.Fatal(err)
	}
	raw := issue(t, credentials.FormatQR, sample(t, "registration", a.key, a.base), a.key)
	a.setStatus(t, credentials.PurposeRevocation, testIndex)
	v := a.verifier(t, verifier.Options{Trust: trust, Offline: true})

	// B signs a clean list that claims to be A's revocation list.
	clean, _ := credentials.NewStatusList(a.base+"/revocation/3", b.key.DID, credentials.PurposeRevocation, credentials.MinStatusListSize)
	body, err := credentials.IssueStatusList(clean, b.key, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.LoadStatusList(body); err == nil {
		t.Fatal("B's list was accepted at A's URL")
	}
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		body, _ := credentials.IssueStatusList(a.lists[credentials.StatusListPath(p, 3)], a.key, testNow)
		if err := v.LoadStatusList(body); err != nil {
			t.Fatal(err)
		}
	}
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)
}

// A list's age counts from its signature, not from when a file was copied.
func TestStatusAgeFromSignature(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	now := testNow.Add(72 * time.Hour)
	v := f.verifier(t, verifier.Options{Offline: true, MaxStatusAge: 24 * time.Hour, Now: func() time.Time { return now }})
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		body, _ := credentials.IssueStatusList(f.lists[credentials.StatusListPath(p, 3)], f.key, testNow) // signed 3 days ago
		if err := v.LoadStatusList(body); err != nil {                                                    // "fetched" just now
			t.Fatal(err)
		}
	}
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
}

// A suspension the verifier knows of rejects the credential even when the
// revocation list cannot be read.
func TestKnownSuspensionWithoutRevocationList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	f.setStatus(t, credentials.PurposeSuspension, testIndex)
	v := f.verifier(t, verifier.Options{Offline: true})
	body, _ := credentials.IssueStatusList(f.lists[credentials.StatusListPath(credentials.PurposeSuspension, 3)], f.key, testNow)
	if err := v.LoadStatusList(body); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)
}

// The verifier fetches only below the issuer's status base: it follows no
// redirect, and a credential's absolute URL that climbs out is not fetched.
func TestStatusFetchStaysBelowTheBase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the verifier fetched %s from elsewhere", r.URL)
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/status/revocation/3", http.StatusFound))
	defer redirect.Close()

	iss, _ := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), f.key)
	iss.StatusBase = redirect.URL + "/status"
	trust := verifier.NewTrustList("redirecting")
	_ = trust.Add(iss)
	raw := issue(t, credentials.FormatJWT, sample(t, "registration", f.key, redirect.URL+"/status"), f.key)
	res, err := f.verifier(t, verifier.Options{Trust: trust}).Verify(ctx, raw)
	if err != nil || res.Status.Checked {
		t.Fatalf("a redirected list was used: %v %+v", err, res)
	}

	climbing := sample(t, "registration", f.key, f.base+"/x/..")
	res, err = f.verifier(t, verifier.Options{}).Verify(ctx, issue(t, credentials.FormatJWT, climbing, f.key))
	if err != nil || res.Status.Checked || len(res.Warnings) == 0 {
		t.Fatalf("a list outside the base was used: %v %+v", err, res)
	}
}

// slowFetcher counts fetches and makes each take a while, so that
// concurrent verifications overlap.
type slowFetcher struct {
	next  verifier.StatusFetcher
	mu    sync.Mutex
	calls int
}

func (f *slowFetcher) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	return f.next.FetchStatusList(ctx, url, mediaType)
}

// A crowd of verifications on an empty cache asks the issuer once per
// list, not once per verification.
func TestConcurrentFetchesMerged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	fetcher := &slowFetcher{next: verifier.HTTPStatusFetcher{}}
	v := f.verifier(t, verifier.Options{Fetcher: fetcher})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, raw); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Two lists: revocation and suspension.
	if fetcher.calls != 2 || f.fetches() != 2 {
		t.Errorf("64 verifications fetched %d times (%d served), want 2", fetcher.calls, f.fetches())
	}
}

// An issuer on the same instance says its lists changed: the next
// verification reads them again, and the revocation counts at once.
func TestExpireStatusLists(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	v := f.verifier(t, verifier.Options{})
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("within the list's lifetime the cached list counts: %v", err)
	}
	v.ExpireStatusLists("https://elsewhere.example/status/")
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("another issuer's lists expired: %v", err)
	}
	fetched := f.fetches()
	v.ExpireStatusLists(f.base + "/")
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)
	if f.fetches() == fetched {
		t.Error("the lists were not fetched again")
	}
}
