package credentials

import (
	"regexp"
	"testing"
)

// shapeChecks pairs each byte-loop shape check of validate.go with the
// regular expression it stands for.
var shapeChecks = []struct {
	name string
	re   *regexp.Regexp
	fn   func(string) bool
}{
	{"country", regexp.MustCompile(`^[A-Z]{2}$`), isCountryCode},
	{"language", regexp.MustCompile(`^[a-z]{2,3}$`), isLanguageCode},
	{"currency", regexp.MustCompile(`^[A-Z]{3}$`), isCurrencyCode},
	{"record id", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`), isRecordID},
}

var shapeSeeds = []string{
	"", "S", "SO", "so", "SOM", "som", "Som", "S0", "SO\n", "\nSO", "SOMA", "KES", "KE$",
	"R-001", "r.2026/07_a-b", "-R1", ".R1", "R 1", "R1\n", "ÉR1", "R\xff1", "R\x001",
	"a123456789012345678901234567890123456789012345678901234567890123",
	"a1234567890123456789012345678901234567890123456789012345678901234",
	"\u0660\u0661", "ＳＯ",
}

func TestShapeChecksMatchTheirExpressions(t *testing.T) {
	for _, c := range shapeChecks {
		for _, s := range shapeSeeds {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Errorf("%s %q: %v, the expression says %v", c.name, s, got, want)
			}
		}
	}
}

// FuzzShapeChecks checks the shape checks against their expressions on
// any input.
func FuzzShapeChecks(f *testing.F) {
	for _, s := range shapeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range shapeChecks {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Fatalf("%s %q: %v, the expression says %v", c.name, s, got, want)
			}
		}
	})
}
