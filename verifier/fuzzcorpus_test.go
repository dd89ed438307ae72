package verifier_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeed is one seed input of a fuzz target: the values of its
// arguments, each a []byte or a string.
type fuzzSeed []any

// fuzzCorpus keeps the seed corpus of the fuzz target name in
// testdata/fuzz/<name>/seed-<key>, in Go's "go test fuzz v1" format. With
// update set it writes every seed (leaving the inputs the fuzzer saved
// alone); otherwise it checks that each seed file is there.
func fuzzCorpus(t *testing.T, name string, update bool, flagName string, seeds map[string]fuzzSeed) {
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
				t.Errorf("seed %s is missing: run go test ./verifier -run %s -%s", path, t.Name(), flagName)
			}
			continue
		}
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range seed {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			default:
				t.Fatalf("fuzz seed value of type %T", v)
			}
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
