package scan

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// testNow is inside the sample registration's validity.
var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// testCards are real tally QR cards of the sample registration under a few
// names, issued with a fixed test key, and a verifier that trusts that key.
type testCards struct {
	texts    []string
	verifier *verifier.Verifier
}

func newTestCards(t testing.TB) *testCards {
	t.Helper()
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)), "did:web:scan.example.org")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	cards := &testCards{}
	for i, name := range []string{"Fatima Hassan Abdi", "فاطمة حسن عبدي", "Jean-Baptiste Nkurunziza Habimana"} {
		var c credentials.Credential
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		c.Subject.(*credentials.Registration).FullName = name
		if err := credentials.Prepare(&c, k.DID, bytes.NewReader(bytes.Repeat([]byte{byte(11 + i)}, 64))); err != nil {
			t.Fatal(err)
		}
		c.Status = credentials.StatusEntries("https://scan.example.org/status", 1, 1000+i)
		text, err := credentials.IssueCard(&c, k, c.ValidFrom)
		if err != nil {
			t.Fatal(err)
		}
		cards.texts = append(cards.texts, text)
	}
	iss, err := verifier.NewTrustedIssuer("Scan test issuer", credentials.Types(), k)
	if err != nil {
		t.Fatal(err)
	}
	list := verifier.NewTrustList("scan tests")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	cards.verifier, err = verifier.New(verifier.Options{Trust: list, Now: func() time.Time { return testNow }, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	return cards
}

// verify checks that text is a valid card with the verifier library.
func (c *testCards) verify(t testing.TB, text string) {
	t.Helper()
	res, err := c.verifier.Verify(context.Background(), []byte(text))
	if err != nil {
		t.Errorf("the decoded text does not verify: %v", err)
		return
	}
	if res.Credential.Type != credentials.TypeRegistration {
		t.Errorf("verified a %s, want a registration", res.Credential.Type)
	}
}
