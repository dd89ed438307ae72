package referral_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier/referral"
)

// TestResolver: did:web documents are read over loopback http in tests
// only, bounded in size, and must be of the DID asked for.
func TestResolver(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/did.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	did, err := credentials.DIDWeb(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	doc := func(id string) string {
		b, _ := json.Marshal(credentials.DIDDocument{ID: id, Service: []credentials.DIDService{{ID: id + "#fb", Type: credentials.ServiceReferralFeedback, ServiceEndpoint: "https://a.example/fb"}}})
		return string(b)
	}
	ctx := context.Background()
	resolve := referral.NewResolver(referral.ResolverOptions{InsecureLoopback: true, MaxBytes: 4096, Timeout: 2 * time.Second})

	body = doc(did)
	got, err := resolve(ctx, did)
	if err != nil {
		t.Fatal(err)
	}
	if ep, ok := got.ServiceEndpoint(credentials.ServiceReferralFeedback); !ok || ep != "https://a.example/fb" {
		t.Fatalf("endpoint %q", ep)
	}
	for name, tc := range map[string]struct {
		body string
		did  string
		opts referral.ResolverOptions
	}{
		"another DID's document":   {doc("did:web:evil.example"), did, referral.ResolverOptions{InsecureLoopback: true}},
		"too large":                {doc(did) + strings.Repeat(" ", 5000), did, referral.ResolverOptions{InsecureLoopback: true, MaxBytes: 4096}},
		"not JSON":                 {"<html>", did, referral.ResolverOptions{InsecureLoopback: true}},
		"plain http outside tests": {doc(did), did, referral.ResolverOptions{Timeout: time.Second}},
		"a did:key":                {doc(did), "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", referral.ResolverOptions{InsecureLoopback: true}},
	} {
		t.Run(name, func(t *testing.T) {
			body = tc.body
			if _, err := referral.NewResolver(tc.opts)(ctx, tc.did); err == nil {
				t.Fatal("resolved")
			}
		})
	}
}
