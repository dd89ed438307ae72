package credentials

import "testing"

// namesTallyType lists tally's types in a switch, to allocate nothing on
// the verifier's hot path: it must know every type Types lists, and no
// other.
func TestNamesTallyTypeKnowsEveryType(t *testing.T) {
	for _, typ := range Types() {
		if !namesTallyType([]string{"VerifiableCredential", string(typ)}) {
			t.Errorf("namesTallyType does not know %s", typ)
		}
	}
	for _, other := range []string{"VerifiableCredential", "ExampleAlumniCredential", "*", ""} {
		if namesTallyType([]string{other}) {
			t.Errorf("namesTallyType takes %q for a tally type", other)
		}
	}
}
