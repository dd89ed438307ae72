// Package fuzzcorpus keeps the seed corpora of fuzz targets in testdata, in
// Go's "go test fuzz v1" format. Tests only.
package fuzzcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Seed is one seed input of a fuzz target: the values of its arguments,
// each a []byte or a string.
type Seed []any

// Keep keeps the seed corpus of the fuzz target name in
// testdata/fuzz/<name>/seed-<key>. With update set it writes every seed
// (leaving the inputs the fuzzer saved alone); otherwise it checks that each
// seed file is there, so that a seed added to a test is not forgotten in
// the corpus. regenerate is the command that writes them, for the message.
func Keep(t *testing.T, name string, update bool, regenerate string, seeds map[string]Seed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", name)
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for key, seed := range seeds {
		path := filepath.Join(dir, "seed-"+key)
		if !update {
			if _, err := os.Stat(path); err != nil {
				t.Errorf("seed %s is missing: run %s", path, regenerate)
			}
			continue
		}
		text, err := Encode(seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Encode writes a seed in the "go test fuzz v1" format.
func Encode(seed Seed) (string, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range seed {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		default:
			return "", fmt.Errorf("fuzz seed value of type %T: only []byte and string", v)
		}
	}
	return b.String(), nil
}
