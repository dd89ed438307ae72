package trustsync

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// FuzzParseAnchor: an anchor's JWK, as pasted on the admin page, is read
// without panicking, and an anchor accepted has an id and a public key.
func FuzzParseAnchor(f *testing.F) {
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseAnchor(data, "x", time.Unix(0, 0))
		if err != nil {
			return
		}
		if a.ID == "" || len(a.JWK) == 0 {
			t.Fatalf("anchor accepted without an id or key: %+v", a)
		}
		if _, _, err := credentials.ParseJWK(a.JWK); err != nil {
			t.Fatalf("the anchor kept does not read back: %v", err)
		}
	})
}

// FuzzStatusMeta: what is read of a fetched status list before it is
// checked never panics.
func FuzzStatusMeta(f *testing.F) {
	seed := sha256.Sum256([]byte("fuzz"))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "did:web:a.example")
	if err != nil {
		f.Fatal(err)
	}
	l, err := credentials.NewStatusList("https://a.example/status/revocation/0", k.DID, credentials.PurposeRevocation, credentials.MinStatusListSize)
	if err != nil {
		f.Fatal(err)
	}
	body, err := credentials.IssueStatusList(l, k, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	tl, err := credentials.NewTokenStatusList("https://a.example/status/token/0", k.DID, 2, 1024)
	if err == nil {
		if tb, err := credentials.IssueTokenStatusList(tl, k, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
			f.Add(tb)
		}
	}
	f.Add([]byte("a.b.c"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _, _, _, _ = statusMeta(data)
	})
}

// FuzzCheckListURL: a trust list URL is https, or http to this machine.
func FuzzCheckListURL(f *testing.F) {
	for _, s := range []string{"https://trust.example/list.jws", "http://127.0.0.1:8080/t", "http://example.org/t", "ftp://x", "https://u@x/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkListURL(s)
	})
}
