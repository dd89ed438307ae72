package dataintegrity_test

import (
	"context"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

// testProc is the Processor every test shares, as a verifier would.
var testProc = func() *dataintegrity.Processor {
	p, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		panic(err)
	}
	return p
}()

// loadSample reads one of the repository's sample inputs.
func loadSample(t testing.TB, name string) *credentials.Credential {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

// verifyJSON parses raw and checks its proof with pub.
func verifyJSON(raw []byte, pub crypto.PublicKey) error {
	d, err := testProc.Parse(context.Background(), raw)
	if err != nil {
		return err
	}
	return d.VerifySignature(pub)
}
