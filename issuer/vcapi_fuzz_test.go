package issuer

import (
	"encoding/json"
	"flag"
	"slices"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fuzzcorpus"
)

var updateVCAPIFuzz = flag.Bool("update-vcapi-fuzz", false, "write the seed corpus of FuzzVCAPIRequest to testdata/fuzz")

const fuzzOrgDID = "did:web:tally.example:orgs:demo"

// vcAPISeeds are requests as the VC API and VCDM 2.0 suites send them,
// good and bad: a credential, issue options, a status update.
func vcAPISeeds() map[string]fuzzcorpus.Seed {
	good := `{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"id":"urn:uuid:1f6e2b8a-3c1d-4e5f-8a9b-0c1d2e3f4a5b","type":["VerifiableCredential","ExampleAlumniCredential"],"issuer":"` + fuzzOrgDID + `","validFrom":"2026-01-01T00:00:00Z","credentialSubject":{"id":"did:example:1","alumniOf":{"name":"Example University"}}}`
	update := `{"credentialId":"urn:uuid:1f6e2b8a-3c1d-4e5f-8a9b-0c1d2e3f4a5b","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"},"status":true}`
	return map[string]fuzzcorpus.Seed{
		"good":              {[]byte(good), []byte(`{"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}}`), []byte(update)},
		"jwt":               {[]byte(good), []byte(`{"format":"jwt"}`), []byte(`{"credentialId":"x","credentialStatus":[{"type":"BitstringStatusListCredential","status":"suspended"}]}`)},
		"issuer-object":     {[]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","issuer":{"id":"` + fuzzOrgDID + `"},"credentialSubject":[{"id":"did:example:1"}]}`), []byte(`{}`), []byte(`{}`)},
		"status-in-request": {[]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"` + fuzzOrgDID + `","credentialSubject":{"id":"did:example:1"},"credentialStatus":[{"type":"BitstringStatusListEntry","statusPurpose":"revocation"},{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}]}`), []byte(`null`), []byte(`{"credentialStatus":null}`)},
		"wrong-types":       {[]byte(`{"@context":4,"type":[2,null],"issuer":4,"credentialSubject":[null,true,4],"validFrom":"soon","proof":{}}`), []byte(`{"format":"ldp","credentialStatus":{"type":"StatusList2021Entry"}}`), []byte(`{"credentialId":"","credentialStatus":{"type":"x","statusPurpose":"message"},"status":false}`)},
		"not-objects":       {[]byte(`[1,2]`), []byte(`"x"`), []byte(`[`)},
	}
}

// TestVCAPIFuzzCorpus keeps FuzzVCAPIRequest's seeds in testdata.
func TestVCAPIFuzzCorpus(t *testing.T) {
	fuzzcorpus.Keep(t, "FuzzVCAPIRequest", *updateVCAPIFuzz, "go test ./issuer -run TestVCAPIFuzzCorpus -update-vcapi-fuzz", vcAPISeeds())
}

// FuzzVCAPIRequest checks that the VC API's request decoding never
// panics, and that what it accepts is what tally may sign: the issuer is
// the organisation's DID, no proof, no status entry of the caller's
// making, a known format, and status purposes that include revocation.
func FuzzVCAPIRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, credential, options, update []byte) {
		var opts VCIssueOptions
		_ = json.Unmarshal(options, &opts)
		req, err := readVCRequest(credential, opts, fuzzOrgDID)
		if err == nil {
			if _, has := req.doc["proof"]; has {
				t.Fatal("accepted a credential with a proof")
			}
			if _, has := req.doc["credentialStatus"]; has {
				t.Fatal("kept the caller's credentialStatus")
			}
			switch iss := req.doc["issuer"].(type) {
			case string:
				if iss != fuzzOrgDID {
					t.Fatalf("accepted issuer %q", iss)
				}
			case map[string]any:
				if iss["id"] != fuzzOrgDID {
					t.Fatalf("accepted issuer %v", iss)
				}
			default:
				t.Fatalf("accepted issuer %v", iss)
			}
			if req.format != VCFormatDI && req.format != VCFormatJWT {
				t.Fatalf("format %q", req.format)
			}
			if req.status != nil && !slices.Contains(req.status, credentials.PurposeRevocation) {
				t.Fatalf("status purposes %v without revocation", req.status)
			}
			if len(req.id) > MaxVCIDLen {
				t.Fatalf("an id of %d bytes", len(req.id))
			}
			if _, err := json.Marshal(req.doc); err != nil {
				t.Fatalf("an accepted credential does not encode: %v", err)
			}
		} else if _, ok := err.(*InvalidError); !ok {
			t.Fatalf("not an InvalidError: %v", err)
		}
		var in VCStatusUpdate
		if json.Unmarshal(update, &in) == nil {
			var p problems
			_, change := readStatusChange(&p, in)
			if (change == 0) == (len(p) == 0) {
				t.Fatalf("change %d with problems %v", change, p)
			}
		}
	})
}
