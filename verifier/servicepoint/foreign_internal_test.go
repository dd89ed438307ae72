package servicepoint

import "testing"

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
