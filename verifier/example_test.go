package verifier_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// An integrator's whole use of the library: a case-management system at a
// service point reads a card from its QR scanner, checks it, and asks its
// own registry whether the person was already served, by dedup token.
func Example() {
	ctx := context.Background()
	card, trustJSON := exampleCardAndTrustList() // from the scanner and a file

	// Once, at start-up: the trust list (in production, a list signed by
	// the consortium: pass its public key as anchor and false), and the
	// domain key the consortium shares for deduplication.
	trust, err := verifier.ParseTrustList(trustJSON, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		fmt.Println("bad trust list:", err)
		return
	}
	v, err := verifier.New(verifier.Options{
		Trust:        trust,
		Now:          func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) },
		MaxStatusAge: 0, // offline-friendly: accept unchecked status, with a warning
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	domain, _ := verifier.ParseDedupKey("dadaab-consortium",
		[]byte("8f3c1a5e9b2d4f6071829a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f"))

	// For every scan:
	res, err := v.Verify(ctx, card)
	var rejected *verifier.Error
	if errors.As(err, &rejected) {
		switch rejected.Reason {
		case verifier.Revoked, verifier.Suspended:
			fmt.Println("refer to the help desk:", rejected.Detail)
		case verifier.Expired:
			fmt.Println("ask the person to renew their registration")
		default:
			fmt.Println("not accepted:", rejected)
		}
		return
	}
	reg := res.Credential.Subject.(*credentials.Registration)
	token, _ := res.DedupToken(domain)
	fmt.Println("valid", res.Credential.Type, "issued by", res.IssuerName)
	fmt.Println("name:", reg.FullName, "born", reg.DateOfBirth)
	fmt.Println("dedup token:", token)
	// Output:
	// valid RegistrationCredential issued by Organisation A
	// name: Fatima Hassan Abdi born 1991-03-14
	// dedup token: yq5uazmartvs3mna4jryu52gae
}

// exampleCardAndTrustList plays the issuer's part: a card printed at
// registration, and the trust list entry of its issuer.
func exampleCardAndTrustList() ([]byte, []byte) {
	seed := sha256.Sum256([]byte("example issuer"))
	key, _ := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "did:web:org-a.example")
	var c credentials.Credential
	_ = json.Unmarshal([]byte(`{
		"type": "RegistrationCredential",
		"validFrom": "2026-11-01T00:00:00Z", "validUntil": "2027-11-01T00:00:00Z",
		"credentialSubject": {"registrationId": "KE-DAD-2026-000123", "fullName": "Fatima Hassan Abdi",
			"dateOfBirth": "1991-03-14", "gender": "female", "dedupSeed": "AAECAwQFBgcICQoLDA0ODw"}}`), &c)
	c.ID = "urn:uuid:2f1c0f46-8a36-4a7e-9a51-0d7b8c1e5f10"
	if err := credentials.Prepare(&c, key.DID, nil); err != nil {
		panic(err)
	}
	card, err := credentials.IssueCard(&c, key, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	iss, _ := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), key)
	list := verifier.NewTrustList("Dadaab service points")
	_ = list.Add(iss)
	trustJSON, _ := list.Marshal()
	return []byte(card), trustJSON
}
