package http_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trustbloc/did-go/doc/did"
	vdrapi "github.com/trustbloc/did-go/vdr/api"
	vcdi "github.com/trustbloc/vc-go/dataintegrity"
	"github.com/trustbloc/vc-go/dataintegrity/suite/eddsa2022"
	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/issuer"
)

// servedDIDs resolves an organisation's did:web to the keys of the DID
// document the test server serves at /orgs/ORG/did.json, as vc-go's Data
// Integrity verifier asks. did-go keeps a Multikey's multicodec header in
// the key it decodes, which vc-go then refuses as an Ed25519 key; the
// keys are handed over as raw Ed25519VerificationKey2018 values.
type servedDIDs struct {
	e *env
}

func (r servedDIDs) Resolve(id string, _ ...vdrapi.DIDMethodOption) (*did.DocResolution, error) {
	slug := id[strings.LastIndex(id, ":")+1:]
	res, err := r.e.ts.Client().Get(r.e.ts.URL + "/orgs/" + slug + "/did.json")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var served struct {
		ID                 string `json:"id"`
		VerificationMethod []struct {
			ID                 string `json:"id"`
			Controller         string `json:"controller"`
			PublicKeyMultibase string `json:"publicKeyMultibase"`
		} `json:"verificationMethod"`
	}
	if err := json.NewDecoder(res.Body).Decode(&served); err != nil {
		return nil, err
	}
	if served.ID != id {
		return nil, fmt.Errorf("the document served is %s's", served.ID)
	}
	doc := &did.Doc{ID: served.ID}
	for _, m := range served.VerificationMethod {
		pub, err := credentials.ParseMultikey(m.PublicKeyMultibase)
		if err != nil {
			return nil, err
		}
		raw, ok := pub.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s is not an Ed25519 key", m.ID)
		}
		vm := did.NewVerificationMethodFromBytes(m.ID, "Ed25519VerificationKey2018", m.Controller, raw)
		doc.VerificationMethod = append(doc.VerificationMethod, *vm)
		doc.AssertionMethod = append(doc.AssertionMethod, *did.NewReferencedVerification(vm, did.AssertionMethod))
	}
	return &did.DocResolution{DIDDocument: doc}, nil
}

// TestVCAPIVerifiesWithVCGo: a credential issued over the VC API, and
// its status list in JSON-LD, verify with trustbloc/vc-go's own Data
// Integrity verifier, which resolves the organisation's did:web from the
// DID document tally serves; a changed credential does not.
func TestVCAPIVerifiesWithVCGo(t *testing.T) {
	e := newEnv(t)
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	loader := di.DocumentLoader()
	v, err := vcdi.NewVerifier(&vcdi.Options{DIDResolver: servedDIDs{e}},
		eddsa2022.NewVerifierInitializer(&eddsa2022.VerifierInitializerOptions{LDDocumentLoader: loader}))
	if err != nil {
		t.Fatal(err)
	}
	parse := func(raw []byte) (*verifiable.Credential, error) {
		return verifiable.ParseCredential(raw, verifiable.WithJSONLDDocumentLoader(loader), verifiable.WithDataIntegrityVerifier(v), verifiable.WithStrictValidation())
	}
	vc := e.vcIssue(t, vcIssueBody(vcCredential(nil), `{"credentialStatus":{"type":"BitstringStatusListEntry"}}`), e.asToken("demo", issuer.RoleRegistrar))
	got, err := parse(vc)
	if err != nil {
		t.Fatalf("vc-go refuses the credential: %v", err)
	}
	if got.Contents().Issuer.ID != demoDID {
		t.Fatalf("vc-go reads issuer %s", got.Contents().Issuer.ID)
	}
	changed := strings.Replace(string(vc), "Example University", "Another University", 1)
	if _, err := parse([]byte(changed)); err == nil {
		t.Fatal("vc-go accepts a changed credential")
	}

	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/status/demo/revocation/0", nil)
	req.Header.Set("Accept", "application/vc+ld+json")
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse([]byte(readBody(t, res))); err != nil {
		t.Fatalf("vc-go refuses the JSON-LD status list: %v", err)
	}
}
