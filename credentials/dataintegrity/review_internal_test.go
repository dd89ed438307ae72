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
