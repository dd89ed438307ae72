package dataintegrity_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// examplePresentation is a VCDM 2.0 presentation by holder of one Data
// Integrity credential by issuer.
func examplePresentation(t *testing.T, issuer, holder *credentials.Key) map[string]any {
	t.Helper()
	vc := signDoc(t, map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            issuer.DID,
		"credentialSubject": map[string]any{"id": holder.DID, "alumniOf": map[string]any{"name": "Example University"}},
	}, issuer)
	var cred map[string]any
	if err := json.Unmarshal(vc, &cred); err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"@context":             []any{"https://www.w3.org/ns/credentials/v2"},
		"type":                 []any{"VerifiablePresentation"},
		"holder":               holder.DID,
		"verifiableCredential": []any{cred},
	}
}

func signVP(t *testing.T, vp map[string]any, k *credentials.Key, challenge, domain string) []byte {
	t.Helper()
	b, err := json.Marshal(vp)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testProc.SignPresentation(context.Background(), b, k, diNow, challenge, domain)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPresentation: a holder's authentication proof on a presentation is
// parsed, its signed challenge and domain read, its signature checked,
// and every change to what it signs is found.
func TestPresentation(t *testing.T) {
	ctx := context.Background()
	issuer, holder, stranger := diKey(t, 21, ""), diKey(t, 22, ""), diKey(t, 23, "")
	vp := examplePresentation(t, issuer, holder)
	raw := signVP(t, vp, holder, "c-123", "https://verifier.example")
	p, err := testProc.ParsePresentation(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.VerifySignature(holder.Public); err != nil {
		t.Fatal(err)
	}
	if p.Holder() != holder.DID || p.KeyID() != holder.ID || p.Challenge() != "c-123" || p.Domain() != "https://verifier.example" || len(p.Credentials()) != 1 {
		t.Fatalf("holder %s key %s challenge %q domain %q, %d credentials", p.Holder(), p.KeyID(), p.Challenge(), p.Domain(), len(p.Credentials()))
	}
	if err := verifyJSON(p.Credentials()[0], issuer.Public); err != nil {
		t.Fatalf("the embedded credential: %v", err)
	}
	if err := p.VerifySignature(stranger.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("another key: %v", err)
	}

	edit := func(change func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	proof := func(change func(p map[string]any)) []byte {
		return edit(func(m map[string]any) { change(m["proof"].(map[string]any)) })
	}
	badSig := []struct {
		name string
		raw  []byte
	}{
		{"challenge changed", proof(func(p map[string]any) { p["challenge"] = "c-124" })},
		{"domain changed", proof(func(p map[string]any) { p["domain"] = "https://evil.example" })},
		{"challenge removed", proof(func(p map[string]any) { delete(p, "challenge") })},
		{"a credential removed", edit(func(m map[string]any) { m["verifiableCredential"] = []any{} })},
	}
	for _, tc := range badSig {
		t.Run(tc.name, func(t *testing.T) {
			p, err := testProc.ParsePresentation(ctx, tc.raw)
			if err == nil {
				err = p.VerifySignature(holder.Public)
			}
			if !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("%v, want a bad signature", err)
			}
		})
	}
	malformed := []struct {
		name string
		raw  []byte
	}{
		{"purpose assertionMethod", proof(func(p map[string]any) { p["proofPurpose"] = "assertionMethod" })},
		{"another holder named", edit(func(m map[string]any) { m["holder"] = stranger.DID })},
		{"not a presentation", signDoc(t, map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiableCredential"},
			"issuer": issuer.DID, "credentialSubject": map[string]any{"id": holder.DID},
		}, issuer)},
		{"no proof", edit(func(m map[string]any) { delete(m, "proof") })},
	}
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := testProc.ParsePresentation(ctx, tc.raw); !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("%v, want malformed", err)
			}
		})
	}
}

// FuzzParsePresentation: any input is parsed or refused with an error
// wrapping ErrMalformed or ErrUnsupported, within bounds, and never
// verifies with a key that did not sign it. Its seeds are signed
// presentations and near misses, made in code (they are signed with fixed
// keys at a fixed time, so they are stable).
func FuzzParsePresentation(f *testing.F) {
	t := &testing.T{}
	issuer, holder := diKey(f, 21, ""), diKey(f, 22, "")
	vp := examplePresentation(t, issuer, holder)
	b, _ := json.Marshal(vp)
	signed, err := testProc.SignPresentation(context.Background(), b, holder, diNow, "c-1", "https://verifier.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add(b)
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","proof":{}}`))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","verifiableCredential":[1],"proof":{"type":"DataIntegrityProof"}}`))
	stranger := diKey(f, 23, "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := testProc.ParsePresentation(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, credentials.ErrMalformed) && !errors.Is(err, credentials.ErrUnsupported) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if p.VerifySignature(stranger.Public) == nil {
			t.Fatal("a key that signed nothing verifies")
		}
	})
}
