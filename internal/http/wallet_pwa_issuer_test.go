package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
)

// TestWalletIssuerDIDWeb: the wallet finds another issuer's keys in its
// did:web document, fetched with the wallet's bounded client, and refuses
// a document of another DID, a missing one, and one too large.
func TestWalletIssuerDIDWeb(t *testing.T) {
	var doc []byte
	status := http.StatusOK
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/orgs/far/did.json" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write(doc)
	}))
	defer ts.Close()
	did := "did:web:" + strings.ReplaceAll(strings.TrimPrefix(ts.URL, "http://"), ":", "%3A") + ":orgs:far"
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := credentials.NewKey(sk, did)
	if err != nil {
		t.Fatal(err)
	}
	d, err := credentials.NewDIDDocument(key)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = json.Marshal(d)
	s := &Server{fetch: fetch.New(fetch.Options{AllowLoopback: true, MaxBytes: 32 << 10})}
	ctx := context.Background()
	iss, err := s.walletIssuer(ctx, did)
	if err != nil {
		t.Fatal(err)
	}
	if iss.DID != did || len(iss.PublicKeys()) != 1 {
		t.Fatalf("issuer %s with %d keys", iss.DID, len(iss.PublicKeys()))
	}
	// Not on loopback: the wallet refuses to reach it.
	if _, err := (&Server{fetch: fetch.New(fetch.Options{})}).walletIssuer(ctx, did); err == nil {
		t.Fatal("a loopback issuer reached by a wallet that may not")
	}
	for name, c := range map[string]struct {
		did    string
		body   []byte
		status int
	}{
		"another DID":  {did, []byte(strings.Replace(string(doc), did, "did:web:evil.example", -1)), http.StatusOK},
		"not found":    {strings.Replace(did, ":far", ":near", 1), doc, http.StatusOK},
		"server error": {did, doc, http.StatusInternalServerError},
		"too large":    {did, []byte(`{"id":"` + strings.Repeat("a", 40<<10) + `"}`), http.StatusOK},
		"not JSON":     {did, []byte("<html>"), http.StatusOK},
		"no key":       {did, []byte(`{"id":"` + did + `","verificationMethod":[]}`), http.StatusOK},
		"not a DID":    {"https://example.org", doc, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			saved, savedStatus := doc, status
			doc, status = c.body, c.status
			defer func() { doc, status = saved, savedStatus }()
			if _, err := s.walletIssuer(ctx, c.did); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
