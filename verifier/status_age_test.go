package verifier_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// clockAt is a clock the test moves.
type clockAt struct{ now time.Time }

func (c *clockAt) Now() time.Time { return c.now }

func bothPurposes() []string {
	return []string{credentials.PurposeRevocation, credentials.PurposeSuspension}
}

// A list's age is its signed age even when it was fetched just now: a
// server (or someone on the way) handing out a list signed two days ago
// does not make the status fresh.
func TestFetchedStatusListAgeIsSignedAge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatJWT, sample(t, "registration", f.key, f.base), f.key)
	f.serve(testNow.Add(-48*time.Hour), "")

	_, err := f.verifier(t, verifier.Options{MaxStatusAge: 24 * time.Hour}).Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
	if !strings.Contains(err.Error(), "2 days old") {
		t.Fatalf("the rejection does not say how old the list is: %v", err)
	}

	res, err := f.verifier(t, verifier.Options{}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("the default policy rejected an old list: %v", err)
	}
	if !res.Status.Checked || !res.Status.Stale || res.Status.Age != 48*time.Hour || !res.Status.CheckedAt.Equal(testNow.Add(-48*time.Hour)) {
		t.Fatalf("status: %+v", res.Status)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "status not checked since") || !strings.Contains(res.Warnings[0], "2 days ago") {
		t.Fatalf("warnings %q do not name the age", res.Warnings)
	}
}

// MaxStatusAge holds for a cached list too, even one the cache would keep
// for longer.
func TestCachedStatusListAgeCounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	f.serve(testNow, "max-age=86400")
	clock := &clockAt{testNow}
	v := f.verifier(t, verifier.Options{Now: clock.Now, MaxStatusAge: time.Hour})
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	hits := f.fetches()
	clock.now = testNow.Add(2 * time.Hour)
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
	if f.fetches() != hits {
		t.Fatal("the list was fetched again within its max-age")
	}
}

// A list signed in the future (beyond the clock skew) is not used.
func TestStatusListSignedInTheFuture(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatJWT, sample(t, "registration", f.key, f.base), f.key)
	f.serve(testNow.Add(time.Hour), "")
	res, err := f.verifier(t, verifier.Options{}).Verify(ctx, raw)
	if err != nil || res.Status.Checked || !strings.Contains(res.Status.Problem, "still to come") {
		t.Fatalf("a list from the future was used: %v %+v", err, res.Status)
	}
	v := f.verifier(t, verifier.Options{Offline: true})
	if err := v.LoadStatusList(f.signedList(t, credentials.PurposeRevocation, testNow.Add(time.Hour))); err == nil {
		t.Fatal("a list from the future was loaded")
	}
	// Within the clock skew, it is.
	if err := v.LoadStatusList(f.signedList(t, credentials.PurposeRevocation, testNow.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
}

// An older list never replaces a newer one for the same issuer and URL,
// fetched or loaded: a list from before a suspension cannot be played back
// to lift it.
func TestOlderStatusListNeverReplacesNewer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatJWT, sample(t, "registration", f.key, f.base), f.key)
	before := f.signedList(t, credentials.PurposeSuspension, testNow.Add(-time.Hour)) // not suspended yet
	f.setStatus(t, credentials.PurposeSuspension, testIndex)
	clock := &clockAt{testNow}
	v := f.verifier(t, verifier.Options{Now: clock.Now})
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)

	// Past the cache lifetime, the server hands out the lists of an hour
	// before the suspension.
	f.clearStatus(t, credentials.PurposeSuspension, testIndex)
	f.serve(testNow.Add(-time.Hour), "")
	clock.now = testNow.Add(10 * time.Minute)
	hits := f.fetches()
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)
	if f.fetches() == hits {
		t.Fatal("the list was not fetched again past its max-age")
	}
	if err := v.LoadStatusList(before); !errors.Is(err, verifier.ErrOlderStatusList) {
		t.Fatalf("LoadStatusList of an older list: %v, want ErrOlderStatusList", err)
	}
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)

	// A newer list lifts the suspension.
	for _, p := range bothPurposes() {
		if err := v.LoadStatusList(f.signedList(t, p, testNow.Add(5*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("a newer list did not replace the older one: %v", err)
	}
}

// The cache lifetime is the smaller of the list's ttl and the HTTP
// max-age, and never more than a day.
func TestStatusCacheLifetime(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		cacheControl string
		ttl          time.Duration
		later        time.Duration // when the list must be fetched again
	}{
		{"a year's max-age", "max-age=31536000", 0, 25 * time.Hour},
		{"a max-age too large to count", "max-age=99999999999999", 0, 25 * time.Hour},
		{"a year's ttl", "no-cache", 365 * 24 * time.Hour, 25 * time.Hour},
		{"ttl shorter than max-age", "max-age=3600", time.Minute, 2 * time.Minute},
		{"max-age shorter than ttl", "max-age=60", time.Hour, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, p := range bothPurposes() {
				f.lists[credentials.StatusListPath(p, 3)].TTL = tc.ttl
			}
			f.serve(testNow, tc.cacheControl)
			raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
			clock := &clockAt{testNow}
			v := f.verifier(t, verifier.Options{Now: clock.Now})
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Fatal(err)
			}
			hits := f.fetches()
			clock.now = testNow.Add(tc.later)
			f.serve(clock.now, tc.cacheControl)
			res, err := v.Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if f.fetches() != hits+2 || res.Status.Stale || res.Status.Age != 0 {
				t.Fatalf("after %v: %d fetches (want %d), status %+v", tc.later, f.fetches(), hits+2, res.Status)
			}
		})
	}
}

// recordingFetcher fetches nothing and remembers what it was asked for.
type recordingFetcher struct{ urls []string }

func (r *recordingFetcher) FetchStatusList(_ context.Context, url, _ string) ([]byte, time.Duration, error) {
	r.urls = append(r.urls, url)
	return nil, 0, errors.New("not fetched")
}

// Status lists are fetched over https; plain http only from this machine.
func TestStatusBaseMustBeHTTPS(t *testing.T) {
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{"https://org-a.example/status", true},
		{"http://127.0.0.1:8080/status", true},
		{"http://127.9.9.9/status", true},
		{"http://localhost/status", true},
		{"http://[::1]:8080/status", true},
		{"http://org-a.example/status", false},
		{"http://10.0.0.1/status", false},
		{"http://localhost.org-a.example/status", false},
		{"ftp://org-a.example/status", false},
		{"https://someone@org-a.example/status", false},
		{"https:///status", false},
	} {
		t.Run(tc.base, func(t *testing.T) {
			list := `{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":["RegistrationCredential"],"statusBase":"` + tc.base + `"}]}`
			_, err := verifier.ParseTrustList([]byte(list), verifier.TrustListOptions{AllowUnsigned: true})
			if tc.ok != (err == nil) {
				t.Fatalf("statusBase %s: err = %v", tc.base, err)
			}
		})
	}

	// At resolve time: an absolute http URL of an issuer with no status
	// base, or a status base made http after the list was read.
	ctx := context.Background()
	f := newFixture(t)
	for name, trust := range map[string]func() *verifier.TrustList{
		"no status base": func() *verifier.TrustList {
			iss, _ := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), f.key)
			list := verifier.NewTrustList("no base")
			_ = list.Add(iss)
			return list
		},
		"http status base": func() *verifier.TrustList {
			list := f.trustFor(t, credentials.Types()...)
			iss, _ := list.Issuer(f.key.DID)
			iss.StatusBase = "http://org-a.example/status"
			return list
		},
	} {
		t.Run(name, func(t *testing.T) {
			fetcher := &recordingFetcher{}
			raw := issue(t, credentials.FormatJWT, sample(t, "registration", f.key, "http://org-a.example/status"), f.key)
			res, err := f.verifier(t, verifier.Options{Trust: trust(), Fetcher: fetcher}).Verify(ctx, raw)
			if err != nil || res.Status.Checked || len(fetcher.urls) > 0 {
				t.Fatalf("a status list was fetched over plain http: %v %+v %q", err, res.Status, fetcher.urls)
			}
			if !strings.Contains(res.Status.Problem, "https") {
				t.Fatalf("the problem does not say why: %q", res.Status.Problem)
			}
		})
	}
}

// A list past its validUntil is never used, fetched, loaded or cached, even
// when it says the credential is revoked: its word has lapsed. A list that
// names no validUntil is valid for DefaultStatusListValidity.
func TestLapsedStatusListNeverUsed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	clock := &clockAt{testNow}
	offline := f.verifier(t, verifier.Options{Now: clock.Now, Offline: true})
	for _, p := range bothPurposes() {
		if err := offline.LoadStatusList(f.signedList(t, p, testNow)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := offline.Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)

	clock.now = testNow.Add(credentials.DefaultStatusListValidity + time.Second)
	res, err := offline.Verify(ctx, raw)
	if err != nil || res.Status.Checked || !strings.Contains(res.Status.Problem, "expired") {
		t.Fatalf("a lapsed cached list was used: %v %+v", err, res.Status)
	}
	_, err = f.verifier(t, verifier.Options{Now: clock.Now, Offline: true, MaxStatusAge: 30 * 24 * time.Hour}).Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)

	// Loaded or fetched, a lapsed list is refused.
	if err := offline.LoadStatusList(f.signedList(t, credentials.PurposeRevocation, testNow)); err == nil {
		t.Fatal("a lapsed list was loaded")
	}
	f.serve(testNow, "")
	res, err = f.verifier(t, verifier.Options{Now: clock.Now}).Verify(ctx, raw)
	if err != nil || res.Status.Checked {
		t.Fatalf("a lapsed fetched list was used: %v %+v", err, res.Status)
	}
}

// ExpireStatusLists (journey, issue 7): lists below the prefix are fetched
// again at their next use, well within their lifetime; others are not.
func TestExpireStatusListsFetchCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.serve(testNow, "max-age=3600")
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	v := f.verifier(t, verifier.Options{Now: func() time.Time { return testNow }})
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	hits := f.fetches()
	v.ExpireStatusLists("https://elsewhere.example/")
	if _, err := v.Verify(ctx, raw); err != nil || f.fetches() != hits {
		t.Fatalf("another prefix expired the lists: %d fetches, want %d (%v)", f.fetches(), hits, err)
	}
	v.ExpireStatusLists(f.base + "/")
	if _, err := v.Verify(ctx, raw); err != nil || f.fetches() != hits+2 {
		t.Fatalf("after ExpireStatusLists: %d fetches, want %d (%v)", f.fetches(), hits+2, err)
	}
}
