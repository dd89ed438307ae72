package credentials_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// The seed corpus of FuzzCredentialJSON lives in
// testdata/fuzz/FuzzCredentialJSON/. Refresh it with
//
//	go test ./credentials -run TestCredentialFuzzCorpus -update-credential-fuzz
var updateCredentialFuzz = flag.Bool("update-credential-fuzz", false, "rewrite the seed corpus of FuzzCredentialJSON")

// credentialMembers are the members of a credential's JSON an error may
// name first.
var credentialMembers = map[string]bool{
	"credential": true, "@context": true, "id": true, "type": true, "issuer": true, "validFrom": true,
	"validUntil": true, "credentialSubject": true, "credentialStatus": true,
}

// credentialSeeds are credentials in JSON: the samples as written, as
// tally writes them once prepared, in the other shapes VCDM 2.0 allows,
// and near misses.
func credentialSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	for _, name := range samples {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "samples", name))
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(name, ".json")
		seeds[base] = raw
		seeds[base+"-prepared"] = []byte(mustJSON(t, prepared(t, name, k)))
	}
	reg := seeds["registration-prepared"]
	edit := func(f func(m map[string]any)) []byte { return editJSON(t, reg, f) }
	seeds["type-string"] = edit(func(m map[string]any) { m["type"] = "RegistrationCredential" })
	seeds["two-types"] = edit(func(m map[string]any) { m["type"] = []string{"RegistrationCredential", "ReferralCredential"} })
	seeds["issuer-object"] = edit(func(m map[string]any) { m["issuer"] = map[string]any{"id": k.DID, "name": "DRC"} })
	seeds["status-object"] = edit(func(m map[string]any) { m["credentialStatus"] = m["credentialStatus"].([]any)[0] })
	seeds["status-index"] = edit(func(m map[string]any) {
		m["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = "+0042"
	})
	seeds["context-string"] = edit(func(m map[string]any) { m["@context"] = credentials.BaseContext })
	seeds["context-other-first"] = edit(func(m map[string]any) { m["@context"] = []any{"https://example.org/c", credentials.BaseContext} })
	seeds["unknown-claim"] = edit(func(m map[string]any) { obj(m, "credentialSubject")["shoeSize"] = 44 })
	seeds["claim-type"] = edit(func(m map[string]any) { obj(m, "credentialSubject")["householdSize"] = "five" })
	seeds["fractional-time"] = edit(func(m map[string]any) { m["validFrom"] = "2026-11-01T09:30:00.123456789+03:00" })
	seeds["bad-time"] = edit(func(m map[string]any) { m["validUntil"] = "2026-13-01T00:00:00Z" })
	seeds["subject-null"] = edit(func(m map[string]any) { m["credentialSubject"] = nil })
	seeds["not-utf8"] = []byte("{\"type\":\"RegistrationCredential\",\"credentialSubject\":{\"fullName\":\"\xff\"}}")
	seeds["null"] = []byte("null")
	seeds["array"] = []byte(`[{"type":"RegistrationCredential"}]`)
	return seeds
}

// TestCredentialFuzzCorpus writes the seed corpus with
// -update-credential-fuzz, and otherwise checks that it is there.
func TestCredentialFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, raw := range credentialSeeds(t) {
		corpus[name] = fuzzSeed{raw}
	}
	fuzzCorpus(t, "FuzzCredentialJSON", *updateCredentialFuzz, "update-credential-fuzz", corpus)
}

// checkFieldErrors checks that err says which member of the credential is
// wrong: it is a *FieldError, or a *ValidationError of them, each naming a
// member of the credential.
func checkFieldErrors(t *testing.T, err error) {
	var problems []*credentials.FieldError
	var fe *credentials.FieldError
	var ve *credentials.ValidationError
	switch {
	case errors.As(err, &fe):
		problems = []*credentials.FieldError{fe}
	case errors.As(err, &ve):
		if len(ve.Problems) == 0 {
			t.Fatal("a ValidationError lists no problem")
		}
		problems = ve.Problems
	default:
		t.Fatalf("error of type %T names no field: %v", err, err)
	}
	for _, p := range problems {
		root, _, _ := strings.Cut(p.Field, ".")
		root, _, _ = strings.Cut(root, "[")
		if !credentialMembers[root] || p.Problem == "" {
			t.Fatalf("error names %q, not a member of the credential, or says nothing: %v", p.Field, p)
		}
	}
}

// FuzzCredentialJSON: json.Unmarshal into a Credential never panics; on
// well-formed JSON its errors name the member that is wrong; whatever
// decodes encodes to JSON that decodes and encodes again to the same
// bytes; and Validate's errors name fields too.
func FuzzCredentialJSON(f *testing.F) {
	for _, raw := range credentialSeeds(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c credentials.Credential
		if err := json.Unmarshal(data, &c); err != nil {
			// Malformed JSON is encoding/json's to report, before it
			// calls the credential's decoder.
			if json.Valid(data) {
				checkFieldErrors(t, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			checkFieldErrors(t, err)
		}
		once, err := json.Marshal(&c)
		if err != nil {
			t.Fatalf("a decoded credential does not encode: %v", err)
		}
		var back credentials.Credential
		if err := json.Unmarshal(once, &back); err != nil {
			t.Fatalf("an encoded credential does not decode: %v\n%s", err, once)
		}
		twice, err := json.Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		if string(once) != string(twice) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, twice)
		}
	})
}
