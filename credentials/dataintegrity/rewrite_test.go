package dataintegrity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

const (
	credNS      = "https://www.w3.org/2018/credentials#"
	xsdDateTime = "http://www.w3.org/2001/XMLSchema#dateTime"
)

// Rewrites of a signed credential's JSON that express the same RDF
// statements: the signature still covers them, so each must either be
// refused or give exactly the original decision (validity, status, types,
// subject, seed). The attack they stand for: the JSON stops showing the
// expiry or the status at the top level, while the signed statements keep
// them, and a verifier that reads the JSON accepts a revoked or expired
// credential.
func TestDataIntegrityRewritesKeepTheDecision(t *testing.T) {
	k := diKey(t, 2, "did:web:dadaab.example.org")
	raw := issueDI(t, "registration.json", k)
	var orig map[string]any
	if err := json.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	vcID := orig["id"].(string)
	until := orig["validUntil"].(string)
	typedUntil := func() map[string]any { return map[string]any{"@value": until, "@type": xsdDateTime} }
	addContext := func(m map[string]any, extra map[string]any) {
		m["@context"] = append(m["@context"].([]any), extra)
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any) map[string]any
	}{
		{"issuer as an object", func(m map[string]any) map[string]any {
			m["issuer"] = map[string]any{"id": m["issuer"]}
			return m
		}},
		{"a status entry's type as an array", func(m map[string]any) map[string]any {
			for _, e := range m["credentialStatus"].([]any) {
				e.(map[string]any)["type"] = []any{e.(map[string]any)["type"]}
			}
			return m
		}},
		{"@graph", func(m map[string]any) map[string]any {
			ctx := m["@context"]
			delete(m, "@context")
			return map[string]any{"@context": ctx, "@graph": []any{m}}
		}},
		{"validUntil through @included", func(m map[string]any) map[string]any {
			delete(m, "validUntil")
			m["@included"] = []any{map[string]any{"id": vcID, credNS + "validUntil": typedUntil()}}
			return m
		}},
		{"validUntil through @reverse inside the issuer", func(m map[string]any) map[string]any {
			delete(m, "validUntil")
			m["issuer"] = map[string]any{"id": m["issuer"], "@reverse": map[string]any{
				credNS + "issuer": map[string]any{"id": vcID, credNS + "validUntil": typedUntil()},
			}}
			return m
		}},
		{"validUntil under @nest", func(m map[string]any) map[string]any {
			addContext(m, map[string]any{"more": "@nest"})
			m["more"] = map[string]any{"validUntil": m["validUntil"]}
			delete(m, "validUntil")
			return m
		}},
		{"validUntil as a full IRI", func(m map[string]any) map[string]any {
			delete(m, "validUntil")
			m[credNS+"validUntil"] = typedUntil()
			return m
		}},
		{"validUntil through an alias", func(m map[string]any) map[string]any {
			addContext(m, map[string]any{"expiry": map[string]any{"@id": credNS + "validUntil", "@type": xsdDateTime}})
			m["expiry"] = m["validUntil"]
			delete(m, "validUntil")
			return m
		}},
		{"id through a keyword alias", func(m map[string]any) map[string]any {
			addContext(m, map[string]any{"ident": "@id"})
			m["ident"] = m["id"]
			delete(m, "id")
			return m
		}},
		{"status entries through @included", func(m map[string]any) map[string]any {
			entries := m["credentialStatus"].([]any)
			ids := make([]any, len(entries))
			for i, e := range entries {
				ids[i] = e.(map[string]any)["id"]
			}
			m["credentialStatus"] = ids
			m["@included"] = entries
			return m
		}},
		{"status entries as full IRIs", func(m map[string]any) map[string]any {
			m[credNS+"credentialStatus"] = m["credentialStatus"]
			delete(m, "credentialStatus")
			return m
		}},
		{"claim under a nested context's alias", func(m map[string]any) map[string]any {
			sub := obj(m, "credentialSubject")
			sub["@context"] = map[string]any{"seedOfDedup": credentials.ContextIRI + "dedupSeed"}
			sub["seedOfDedup"] = sub["dedupSeed"]
			delete(sub, "dedupSeed")
			return m
		}},
		{"claim as a full IRI", func(m map[string]any) map[string]any {
			sub := obj(m, "credentialSubject")
			sub[credentials.ContextIRI+"dedupSeed"] = sub["dedupSeed"]
			delete(sub, "dedupSeed")
			return m
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			proof := m["proof"]
			delete(m, "proof")
			out := tc.edit(m)
			out["proof"] = proof
			changed, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			sameDecision(t, raw, changed, k)
		})
	}
}

// The rewrites above keep the credential's expiry where a reader of the
// JSON would miss it; the decision must still see it.
func TestDataIntegrityHiddenExpiryIsSeen(t *testing.T) {
	k := diKey(t, 2, "did:web:dadaab.example.org")
	raw := issueDI(t, "registration.json", k)
	hidden := editJSON(t, raw, func(m map[string]any) {
		until := m["validUntil"]
		delete(m, "validUntil")
		m["issuer"] = map[string]any{"id": m["issuer"], "@reverse": map[string]any{
			credNS + "issuer": map[string]any{"id": m["id"], credNS + "validUntil": map[string]any{"@value": until, "@type": xsdDateTime}},
		}}
	})
	d, err := testProc.Parse(context.Background(), hidden)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.VerifySignature(k.Public); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)
	if !d.Credential().ValidUntil.Equal(want) || !d.View().ValidUntil.Equal(want) {
		t.Fatalf("validUntil = %v / %v, want %v", d.Credential().ValidUntil, d.View().ValidUntil, want)
	}
	if len(d.Credential().Status) != 2 {
		t.Fatalf("status = %v", d.Credential().Status)
	}
}

// Symmetric blank nodes make RDF canonicalization cost n!: such inputs are
// refused before any signature check, and quickly; a few alike blank nodes
// are still fine.
func TestDataIntegrityBoundsCanonicalization(t *testing.T) {
	k := diKey(t, 3, "")
	poison := func(m int) []byte {
		children := make([]any, m)
		for i := range children {
			children[i] = map[string]any{}
		}
		doc := map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
			"type":     []any{"VerifiableCredential"},
			"issuer":   k.DID,
			"credentialSubject": map[string]any{"parts": []any{
				map[string]any{"part": children}, map[string]any{"part": children},
			}},
			"proof": map[string]any{
				"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
				"verificationMethod": k.ID, "proofValue": "z" + strings.Repeat("1", 64),
			},
		}
		b, _ := json.Marshal(doc)
		return b
	}
	for _, m := range []int{9, 40} {
		_, err := testProc.Parse(context.Background(), poison(m))
		if !errors.Is(err, dataintegrity.ErrTooComplex) || !errors.Is(err, credentials.ErrMalformed) {
			t.Fatalf("m=%d: err = %v, want ErrTooComplex", m, err)
		}
	}
	// Two identical objects are allowed, signed and verified.
	doc := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleCredential"},
		"issuer":            k.DID,
		"credentialSubject": map[string]any{"visit": []any{map[string]any{"place": "A"}, map[string]any{"place": "A"}}},
	}
	b, _ := json.Marshal(doc)
	signed, err := testProc.Sign(context.Background(), b, k, diNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyJSON(signed, k.Public); err != nil {
		t.Fatal(err)
	}
	// A cancelled context stops the work.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := testProc.Parse(ctx, signed); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

// The checks that run before any JSON-LD processing bound its cost: depth,
// object and value counts, and @context members.
func TestDataIntegrityShapeLimits(t *testing.T) {
	nest := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	many := func(n int, item string) string {
		return `{"@context":"x","a":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`
	}
	for name, in := range map[string]string{
		"deep":          nest(40),
		"many objects":  many(300, "{}"),
		"many values":   many(5000, "1"),
		"many contexts": many(9, `{"@context":{}}`),
		"duplicate":     `{"a":1,"a":2}`,
		"trailing":      `{"a":1} {}`,
		"not an object": `[1]`,
	} {
		_, err := testProc.Parse(context.Background(), []byte(in))
		if !errors.Is(err, credentials.ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// A credential's inline contexts are processed before its signature is
// checked, and a new one cannot come from the cache: their size is bounded.
func TestDataIntegrityInlineContextsAreBounded(t *testing.T) {
	k := diKey(t, 2, "did:web:dadaab.example.org")
	raw := issueDI(t, "registration.json", k)
	big := editJSON(t, raw, func(m map[string]any) {
		extra := map[string]any{}
		for i := range 600 {
			extra[fmt.Sprintf("term%d", i)] = fmt.Sprintf("https://example.org/t%d", i)
		}
		m["@context"] = append(m["@context"].([]any), extra)
	})
	if _, err := testProc.Parse(context.Background(), big); !errors.Is(err, dataintegrity.ErrTooComplex) || !errors.Is(err, credentials.ErrMalformed) {
		t.Fatalf("err = %v, want ErrTooComplex", err)
	}
	// tally's own context, and a few hundred more terms, are fine.
	fine := editJSON(t, raw, func(m map[string]any) {
		extra := map[string]any{}
		for i := range 300 {
			extra[fmt.Sprintf("term%d", i)] = fmt.Sprintf("https://example.org/t%d", i)
		}
		m["@context"] = append(m["@context"].([]any), extra)
	})
	if err := verifyJSON(fine, k.Public); err != nil {
		t.Fatal(err)
	}
}
