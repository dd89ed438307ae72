package credentials_test

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// TestDIDDocumentServices: a document's services and keys survive JSON,
// and PublicKeys keeps only Multikeys of the document's own DID.
func TestDIDDocumentServices(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed), "did:web:a.example")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := credentials.NewDIDDocument(k)
	if err != nil {
		t.Fatal(err)
	}
	doc.Service = []credentials.DIDService{{ID: doc.ID + "#fb", Type: credentials.ServiceReferralFeedback, ServiceEndpoint: "https://a.example/fb"}}
	// A method of another DID is not this document's key.
	doc.VerificationMethod = append(doc.VerificationMethod, credentials.VerificationMethod{
		ID: "did:web:b.example#x", Type: "Multikey", Controller: "did:web:b.example", PublicKeyMultibase: doc.VerificationMethod[0].PublicKeyMultibase})
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back credentials.DIDDocument
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if ep, ok := back.ServiceEndpoint(credentials.ServiceReferralFeedback); !ok || ep != "https://a.example/fb" {
		t.Errorf("ServiceEndpoint = %q, %v", ep, ok)
	}
	if _, ok := back.ServiceEndpoint("Other"); ok {
		t.Error("a service of another type was found")
	}
	keys := back.PublicKeys()
	if len(keys) != 1 || keys[0].ID != k.ID || !k.Public.(ed25519.PublicKey).Equal(keys[0].Public) {
		t.Errorf("PublicKeys = %+v, want the one key %s", keys, k.ID)
	}
}
