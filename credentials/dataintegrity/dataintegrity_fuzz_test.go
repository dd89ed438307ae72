package dataintegrity_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

var updateDICorpus = flag.Bool("update-di", false, "rewrite the seed corpus of FuzzParseDataIntegrity")

const diCorpusDir = "testdata/fuzz/FuzzParseDataIntegrity"

// diSeeds are the seed inputs of FuzzParseDataIntegrity: credentials that
// parse and verify, the W3C vector, and near misses.
func diSeeds(t testing.TB) map[string][]byte {
	k := diKey(t, 1, "")
	seeds := map[string][]byte{}
	for _, s := range []string{"registration.json", "eligibility.json", "referral.json"} {
		c := loadSample(t, s)
		// A fixed "random" source keeps the corpus files stable.
		if err := credentials.Prepare(c, k.DID, bytes.NewReader(bytes.Repeat([]byte{7}, 64))); err != nil {
			t.Fatal(err)
		}
		c.Status = credentials.StatusEntries("https://dadaab.example.org/status", 7, 40961)
		raw, err := testProc.Issue(c, k, diNow)
		if err != nil {
			t.Fatal(err)
		}
		seeds[strings.TrimSuffix(s, ".json")] = raw
	}
	reg := seeds["registration"]
	seeds["w3c-vector"], _ = os.ReadFile("testdata/di/w3c-vc-di-eddsa-rdfc-2022.json")
	seeds["two-proofs"] = editJSON(t, reg, func(m map[string]any) { m["proof"] = []any{m["proof"], m["proof"]} })
	seeds["undefined-term"] = editJSON(t, reg, func(m map[string]any) { obj(m, "credentialSubject")["x"] = 1 })
	seeds["remote-context"] = editJSON(t, reg, func(m map[string]any) { m["@context"] = append(m["@context"].([]any), "https://example.org/c") })
	seeds["blank-node"] = editJSON(t, reg, func(m map[string]any) { obj(m, "credentialSubject")["id"] = "_:b0" })
	seeds["empty-object"] = []byte(`{}`)
	return seeds
}

// TestDIFuzzCorpus keeps the seed corpus files in step with diSeeds; run
// with -update-di to rewrite them.
func TestDIFuzzCorpus(t *testing.T) {
	for name, data := range diSeeds(t) {
		path := filepath.Join(diCorpusDir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *updateDICorpus {
			if err := os.MkdirAll(diCorpusDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s is missing: run go test -run TestDIFuzzCorpus -update-di ./credentials", name)
		}
	}
}

// FuzzParseDataIntegrity: ParseDataIntegrity never panics, every error
// wraps ErrMalformed or ErrUnsupported, and whatever parses names its
// issuer's key and never verifies with an unrelated key.
func FuzzParseDataIntegrity(f *testing.F) {
	for _, data := range diSeeds(f) {
		f.Add(data)
	}
	unrelated := diKey(f, 200, "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := testProc.Parse(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, credentials.ErrMalformed) && !errors.Is(err, credentials.ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if d.Format() != credentials.FormatDataIntegrity || d.View() == nil {
			t.Fatal("parsed without a credential")
		}
		if !strings.HasPrefix(d.KeyID(), d.Issuer()+"#") {
			t.Fatalf("key id %s is not a key of the issuer %s", d.KeyID(), d.Issuer())
		}
		if err := d.VerifySignature(unrelated.Public); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("verifies with an unrelated key: err = %v", err)
		}
	})
}
