package servicepoint

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestForeignPerson(t *testing.T) {
	for _, c := range []struct {
		claims string
		want   *Person
	}{
		{`{"fullName":"Signed Test Person","dateOfBirth":"1987-01-01","id":"X"}`, &Person{FullName: "Signed Test Person", BirthYear: 1987}},
		{`{"given_name":"Amina","family_name":"Yusuf","birthdate":"1990-05-02"}`, &Person{FullName: "Amina Yusuf", BirthYear: 1990}},
		{`{"name":"Amina Yusuf"}`, &Person{FullName: "Amina Yusuf"}},
		{`{"birthdate":"1990-05-02"}`, nil},
		{`{"fullName":42}`, nil},
		{`[1,2]`, nil},
		{``, nil},
	} {
		got := foreignPerson([]byte(c.claims))
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: %+v, want %+v", c.claims, got, c.want)
		}
	}
}

// TestForeignPersonBounded: another issuer's name line is as bounded as
// its claims table (300 bytes, then "…") and holds no control characters.
func TestForeignPersonBounded(t *testing.T) {
	long := strings.Repeat("Ø", 5000)
	p := foreignPerson([]byte(`{"name":"` + long + `"}`))
	if p == nil || len(p.FullName) > maxForeignName+len("…") || !strings.HasSuffix(p.FullName, "…") || !utf8.ValidString(p.FullName) {
		t.Fatalf("a 10,000-byte name: %d bytes", len(p.FullName))
	}
	p = foreignPerson([]byte(`{"given_name":"Amina\u0000\n","family_name":"Yusuf\u202e\u0007"}`))
	if p == nil || p.FullName != "Amina Yusuf" {
		t.Fatalf("control characters: %q", p.FullName)
	}
	if p := foreignPerson([]byte(`{"name":"\u0000\n\t"}`)); p != nil {
		t.Fatalf("a name of control characters only names %q", p.FullName)
	}
}
