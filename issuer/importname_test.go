package issuer

import "testing"

func TestCleanFileName(t *testing.T) {
	for in, want := range map[string]string{
		"people.csv":                "people.csv",
		`C:\Users\field\people.csv`: "people.csv",
		"../../etc/people.csv":      "people.csv",
		"people\u202evsc.exe":       "peoplevsc.exe",
		"a\x00b\r\nc.csv":           "abc.csv",
		"\u2067<i>x.csv\u2069":      "<i>x.csv",
		"..":                        "",
		"/":                         "",
		"\xff.csv":                  "",
	} {
		if got := cleanFileName(in); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
