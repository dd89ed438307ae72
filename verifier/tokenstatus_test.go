package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func (f *fixture) setBitstringDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bitstringDown = down
}

// An SD-JWT VC's status.status_list is read from the issuer's Token Status
// List over HTTP: INVALID is revoked, SUSPENDED suspended, even when the
// Bitstring Status Lists cannot be read.
func TestTokenStatusOfSDJWT(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		purpose string
		want    verifier.Reason
	}{
		{credentials.PurposeRevocation, verifier.Revoked},
		{credentials.PurposeSuspension, verifier.Suspended},
	} {
		t.Run(tc.purpose, func(t *testing.T) {
			f := newFixture(t)
			raw := issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, f.base), f.key)
			f.setBitstringDown(true)
			res, err := f.verifier(t, verifier.Options{MaxStatusAge: time.Hour}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("the token status list was not read: %v", err)
			}
			if !res.Status.Checked || res.Status.Stale || len(res.Warnings) != 0 {
				t.Fatalf("status %+v, warnings %q", res.Status, res.Warnings)
			}
			f.mu.Lock()
			accept := f.tokenAccept
			f.mu.Unlock()
			if accept != credentials.TokenStatusListMediaType {
				t.Fatalf("Accept: %q", accept)
			}

			f.setStatus(t, tc.purpose, testIndex)
			_, err = f.verifier(t, verifier.Options{}).Verify(ctx, raw)
			wantReason(t, err, tc.want)
		})
	}
	// With both kinds of list readable, a revocation is found either way.
	f := newFixture(t)
	raw := issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, f.base), f.key)
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	_, err := f.verifier(t, verifier.Options{}).Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)
}

// tokenServer serves whatever body it is given as the Token Status List at
// /status/token/3, and no Bitstring Status List.
type tokenServer struct {
	srv  *httptest.Server
	base string
	mu   sync.Mutex
	body []byte
}

func newTokenServer(t *testing.T) *tokenServer {
	s := &tokenServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.URL.Path != "/status/token/3" || s.body == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", credentials.TokenStatusListMediaType)
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.srv.Close)
	s.base = s.srv.URL + "/status"
	return s
}

func (s *tokenServer) serve(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

// tokenListAt is a Token Status List of 131,072 2-bit statuses at uri,
// with statuses set, signed by k at at (its issuer iss: "" for none).
func tokenListAt(t *testing.T, k *credentials.Key, uri, iss string, at time.Time, set map[int]credentials.TokenStatus) []byte {
	t.Helper()
	l, err := credentials.NewTokenStatusList(uri, iss, 2, credentials.MinStatusListSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range set {
		if err := l.Set(i, s); err != nil {
			t.Fatal(err)
		}
	}
	body, err := credentials.IssueTokenStatusList(l, k, at)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// A Status List Token is used only when it is the issuer's, for the URI
// the credential names, and current; a status tally does not know, or an
// index outside the list, rejects the credential.
func TestTokenStatusListChecks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ts := newTokenServer(t)
	uri := ts.base + "/token/3"
	iss, _ := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), f.key)
	iss.StatusBase = ts.base
	trust := verifier.NewTrustList("token")
	if err := trust.Add(iss); err != nil {
		t.Fatal(err)
	}
	raw := issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, ts.base), f.key)
	impostor := *testKey(t, "stranger", f.key.DID)
	impostor.ID = f.key.ID
	small := &credentials.TokenStatusList{URI: uri, Issuer: f.key.DID, Bits: 2, Statuses: make([]byte, 4)}
	smallBody, err := credentials.IssueTokenStatusList(small, f.key, testNow)
	if err != nil {
		t.Fatal(err)
	}
	bitstring := f.signedList(t, credentials.PurposeRevocation, testNow)

	for _, tc := range []struct {
		name    string
		body    []byte
		problem string          // why the list is not used; or
		reject  verifier.Reason // why the credential is rejected whatever the policy
	}{
		{"for another URI", tokenListAt(t, f.key, ts.base+"/token/4", f.key.DID, testNow, nil), "says it is", 0},
		{"signed by another key", tokenListAt(t, &impostor, uri, f.key.DID, testNow, nil), "signature does not verify", 0},
		{"of another issuer", tokenListAt(t, testKey(t, "org-b", "did:web:org-b.example"), uri, "did:web:org-b.example", testNow, nil), "not by", 0},
		{"lapsed", tokenListAt(t, f.key, uri, f.key.DID, testNow.Add(-15*24*time.Hour), nil), "expired", 0},
		{"from the future", tokenListAt(t, f.key, uri, f.key.DID, testNow.Add(time.Hour), nil), "still to come", 0},
		{"a bitstring list", bitstring, "typ", 0},
		{"a status tally does not know", tokenListAt(t, f.key, uri, f.key.DID, testNow, map[int]credentials.TokenStatus{testIndex: 3}), "", verifier.StatusUnavailable},
		{"an index outside the list", smallBody, "", verifier.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts.serve(tc.body)
			res, err := f.verifier(t, verifier.Options{Trust: trust}).Verify(ctx, raw)
			if tc.reject != 0 {
				wantReason(t, err, tc.reject)
				return
			}
			if err != nil || res.Status.Checked || !strings.Contains(res.Status.Problem, tc.problem) {
				t.Fatalf("the list was used: %v, status %+v", err, res.Status)
			}
			_, err = f.verifier(t, verifier.Options{Trust: trust, MaxStatusAge: 24 * time.Hour}).Verify(ctx, raw)
			wantReason(t, err, verifier.StatusUnavailable)
		})
	}

	// An old list is as old as its signature.
	ts.serve(tokenListAt(t, f.key, uri, f.key.DID, testNow.Add(-48*time.Hour), nil))
	_, err = f.verifier(t, verifier.Options{Trust: trust, MaxStatusAge: 24 * time.Hour}).Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
	res, err := f.verifier(t, verifier.Options{Trust: trust}).Verify(ctx, raw)
	if err != nil || !res.Status.Stale || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 days ago") {
		t.Fatalf("an old token list: %v %+v %q", err, res.Status, res.Warnings)
	}
}

// Token Status Lists handed to LoadStatusList: verified and aged as fetched
// ones, never replaced by an older one; one without iss belongs to the
// issuer whose status base it is below.
func TestLoadTokenStatusList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, f.base), f.key)
	uri := f.base + "/token/3"
	clock := &clockAt{testNow}
	v := f.verifier(t, verifier.Options{Offline: true, Now: clock.Now, MaxStatusAge: 24 * time.Hour})

	if err := v.LoadStatusList(tokenListAt(t, f.key, uri, f.key.DID, testNow, map[int]credentials.TokenStatus{testIndex: credentials.TokenSuspended})); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)
	older := tokenListAt(t, f.key, uri, f.key.DID, testNow.Add(-time.Hour), nil)
	if err := v.LoadStatusList(older); !errors.Is(err, verifier.ErrOlderStatusList) {
		t.Fatalf("an older token list: %v, want ErrOlderStatusList", err)
	}
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Suspended)

	// A newer list, without iss, lifts the suspension.
	clock.now = testNow.Add(time.Hour)
	if err := v.LoadStatusList(tokenListAt(t, f.key, uri, "", testNow.Add(30*time.Minute), nil)); err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(ctx, raw)
	if err != nil || !res.Status.Checked || res.Status.Age != 30*time.Minute {
		t.Fatalf("after the newer list: %v %+v", err, res.Status)
	}
	if err := v.LoadStatusList(tokenListAt(t, f.key, "https://elsewhere.example/token/3", "", testNow, nil)); err == nil {
		t.Fatal("a token list below no trusted status base was loaded")
	}

	// Past its exp, the list is no longer used.
	clock.now = testNow.Add(credentials.DefaultStatusListValidity + time.Hour)
	res, err = f.verifier(t, verifier.Options{Offline: true, Now: clock.Now}).Verify(ctx, raw)
	if err != nil || res.Status.Checked {
		t.Fatalf("nothing loaded: %v %+v", err, res.Status)
	}
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a lapsed token list was used: %v", err)
	}
}
