package verifier_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-id/tally/verifier"
)

// The seed corpus of FuzzParseDedupKey lives in
// testdata/fuzz/FuzzParseDedupKey/. Refresh it with
//
//	go test ./verifier -run TestDedupKeyFuzzCorpus -update-dedup-fuzz
var updateDedupFuzz = flag.Bool("update-dedup-fuzz", false, "rewrite the seed corpus of FuzzParseDedupKey")

const dedupKeyHex = "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// dedupKeySeed is one input of FuzzParseDedupKey.
type dedupKeySeed struct {
	domain string
	data   []byte
}

// dedupKeySeeds are (domain, key file) pairs: files that parse, and near
// misses.
func dedupKeySeeds() map[string]dedupKeySeed {
	return map[string]dedupKeySeed{
		"plain":      {"dadaab-consortium", []byte(dedupKeyHex + "\n")},
		"upper":      {"dadaab-consortium", []byte(strings.ToUpper(dedupKeyHex))},
		"spaces":     {"d", []byte(" \t\r\n" + dedupKeyHex + "\r\n\n")},
		"short":      {"d", []byte(dedupKeyHex[:63])},
		"long":       {"d", []byte(dedupKeyHex + "0")},
		"33-bytes":   {"d", []byte(dedupKeyHex + "00")},
		"prefix-0x":  {"d", []byte("0x" + dedupKeyHex)},
		"bom":        {"d", []byte("\ufeff" + dedupKeyHex)},
		"inner":      {"d", []byte(dedupKeyHex[:32] + " " + dedupKeyHex[32:])},
		"not-hex":    {"d", []byte(strings.Replace(dedupKeyHex, "f", "g", 1))},
		"no-domain":  {" ", []byte(dedupKeyHex)},
		"nbsp":       {"d", []byte("\u00a0" + dedupKeyHex + "\u0085")},
		"empty-file": {"d", []byte{}},
	}
}

// TestDedupKeyFuzzCorpus writes the seed corpus with -update-dedup-fuzz,
// and otherwise checks that it is there.
func TestDedupKeyFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, s := range dedupKeySeeds() {
		corpus[name] = fuzzSeed{s.domain, s.data}
	}
	fuzzCorpus(t, "FuzzParseDedupKey", *updateDedupFuzz, "update-dedup-fuzz", corpus)
}

var hexKey = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// FuzzParseDedupKey: ParseDedupKey accepts exactly a non-blank domain and
// 64 hex digits with white space around them; the key is those digits;
// MarshalText writes them in lower case, and parses back to the same key.
func FuzzParseDedupKey(f *testing.F) {
	for _, seed := range dedupKeySeeds() {
		f.Add(seed.domain, seed.data)
	}
	f.Fuzz(func(t *testing.T, domain string, data []byte) {
		k, err := verifier.ParseDedupKey(domain, data)
		digits := strings.TrimSpace(string(data))
		valid := strings.TrimSpace(domain) != "" && hexKey.MatchString(digits)
		if (err == nil) != valid {
			t.Fatalf("ParseDedupKey(%q, %q): err = %v, want accepted = %v", domain, data, err, valid)
		}
		if err != nil {
			return
		}
		if k.Domain != domain || hex.EncodeToString(k.Secret[:]) != strings.ToLower(digits) {
			t.Fatalf("ParseDedupKey(%q, %q) = %q %x", domain, data, k.Domain, k.Secret)
		}
		text, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if want := []byte(strings.ToLower(digits) + "\n"); !bytes.Equal(text, want) {
			t.Fatalf("MarshalText = %q, want %q", text, want)
		}
		back, err := verifier.ParseDedupKey(domain, text)
		if err != nil || back != k {
			t.Fatalf("the key MarshalText wrote parses to %v, %v", back, err)
		}
	})
}
