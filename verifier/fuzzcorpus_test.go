package verifier_test

import (
	"testing"

	"github.com/tally-id/tally/internal/fuzzcorpus"
)

// fuzzSeed is one seed input of a fuzz target.
type fuzzSeed = fuzzcorpus.Seed

// fuzzCorpus keeps the seed corpus of the fuzz target name (see
// fuzzcorpus.Keep); flagName is the flag that rewrites it.
func fuzzCorpus(t *testing.T, name string, update bool, flagName string, seeds map[string]fuzzSeed) {
	t.Helper()
	fuzzcorpus.Keep(t, name, update, "go test ./verifier -run "+t.Name()+" -"+flagName, seeds)
}
