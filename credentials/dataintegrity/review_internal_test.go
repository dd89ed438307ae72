package dataintegrity

import (
	"encoding/json"
	"testing"
)

// A property-scoped context applies to the values of its property,
// strings coerced to IRIs included: there, "urn:foo" is a compact IRI of
// the scoped prefix urn. The plain path must give the dataset expansion
// gives (which is what another issuer's JSON-LD processor signed), or
// decline.
func TestReviewPlainPathPropertyScopedIRIValue(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{
		"@context": ["https://www.w3.org/ns/credentials/v2", {
			"p": {"@id": "https://ex.org/p", "@type": "@id", "@context": {"urn": "https://scoped.example/"}}
		}],
		"type": ["VerifiableCredential"],
		"issuer": "did:example:x",
		"credentialSubject": {"p": "urn:foo"}
	}`)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	plainNQ, plainOK, expandNQ, expandErr := canonicalBoth(t, p, doc)
	if expandErr != nil {
		t.Fatal(expandErr)
	}
	if plainOK && plainNQ != expandNQ {
		t.Fatalf("the paths disagree:\nplain:\n%s\nexpansion:\n%s", plainNQ, expandNQ)
	}
}

// The plain path caches a scoped context by the context it applies to and
// the term. But a term's local context depends on where the term is
// looked up: as a node's second type, in the context before the types (A's
// scoped context does not count); as a property of a node of type A, in
// A's scoped context. One credential's processing must not change the
// dataset computed for another: whichever came first, both must match
// expansion.
func TestReviewScopedContextCacheKeepsCredentialsApart(t *testing.T) {
	inline := map[string]any{
		"A": map[string]any{"@id": "https://ex.org/A", "@context": map[string]any{
			"B": map[string]any{"@id": "https://ex.org/Bprop", "@type": "@vocab", "@context": map[string]any{"x": "https://ex.org/x"}},
		}},
		"B": map[string]any{"@id": "https://ex.org/B", "@context": map[string]any{"q": "https://ex.org/q1"}},
		"q": "https://ex.org/q0",
		"s": "https://ex.org/s",
	}
	doc := func(subject string) map[string]any {
		var s any
		if err := json.Unmarshal([]byte(subject), &s); err != nil {
			t.Fatal(err)
		}
		return map[string]any{
			"@context":          []any{"https://www.w3.org/ns/credentials/v2", inline},
			"type":              []any{"VerifiableCredential"},
			"issuer":            "did:example:x",
			"credentialSubject": s,
		}
	}
	twoTypes := `{"s": {"type": ["A", "B"], "q": "v"}}`
	typeAndProperty := `{"s": {"type": "A", "B": "q"}}`
	for _, order := range [][2]string{{twoTypes, typeAndProperty}, {typeAndProperty, twoTypes}} {
		p, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, subject := range order {
			plainNQ, plainOK, expandNQ, expandErr := canonicalBoth(t, p, doc(subject))
			if expandErr != nil {
				t.Fatal(expandErr)
			}
			if plainOK && plainNQ != expandNQ {
				t.Errorf("after %s, the paths disagree on %s:\nplain:\n%s\nexpansion:\n%s", order[0], subject, plainNQ, expandNQ)
			}
		}
	}
}
