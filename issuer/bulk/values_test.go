package bulk

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in     string
		order  DateOrder
		want   string
		seen   dateSeen
		reason Reason
	}{
		{"1991-03-14", DateOrderUnknown, "1991-03-14", dateNone, 0},
		{"1991/3/4", DateOrderUnknown, "1991-03-04", dateNone, 0},
		{"1991-03-14T00:00:00", DateOrderUnknown, "1991-03-14", dateNone, 0},
		{"1991-03-14 00:00:00.000", DateOrderUnknown, "1991-03-14", dateNone, 0},
		{"14/03/1991 12:00 AM", DateOrderUnknown, "1991-03-14", dateDayFirst, 0},
		{"19910314", DateOrderUnknown, "1991-03-14", dateNone, 0},
		{"1991", DateOrderUnknown, "1991", dateNone, 0},
		{"1991-03", DateOrderUnknown, "1991-03", dateNone, 0},
		{"03/1991", DateOrderUnknown, "1991-03", dateNone, 0},
		{"14/03/1991", DateOrderUnknown, "1991-03-14", dateDayFirst, 0},
		{"14.03.1991", DateOrderUnknown, "1991-03-14", dateDayFirst, 0},
		{"14-03-1991", DateOrderUnknown, "1991-03-14", dateDayFirst, 0},
		{"03/14/1991", DateOrderUnknown, "1991-03-14", dateMonthFirst, 0},
		{"05/05/1991", DateOrderUnknown, "1991-05-05", dateNone, 0},
		{"03/04/1991", DateOrderUnknown, "", dateAmbiguous, ReasonDateAmbiguous},
		{"03/04/1991", DayFirst, "1991-04-03", dateAmbiguous, 0},
		{"03/04/1991", MonthFirst, "1991-03-04", dateAmbiguous, 0},
		{"03/14/1991", DayFirst, "", dateMonthFirst, ReasonDate},
		{"14/03/1991", MonthFirst, "", dateDayFirst, ReasonDate},
		{"١٤/٠٣/١٩٩١", DateOrderUnknown, "1991-03-14", dateDayFirst, 0},
		{"۱۹۹۱-۰۳-۱۴", DateOrderUnknown, "1991-03-14", dateNone, 0},
		{"31/04/1991", DateOrderUnknown, "", dateDayFirst, ReasonDate},
		{"1991-02-29", DateOrderUnknown, "", dateNone, ReasonDate},
		{"1992-02-29", DateOrderUnknown, "1992-02-29", dateNone, 0},
		{"14/03/91", DateOrderUnknown, "", dateNone, ReasonDate},
		{"1991-03/14", DateOrderUnknown, "", dateNone, ReasonDate},
		{"1991--03", DateOrderUnknown, "", dateNone, ReasonDate},
		{"/03/1991", DateOrderUnknown, "", dateNone, ReasonDate},
		{"1991-", DateOrderUnknown, "", dateNone, ReasonDate},
		{"13/13/1991", DateOrderUnknown, "", dateNone, ReasonDate},
		{"14 March 1991", DateOrderUnknown, "", dateNone, ReasonDate},
		{"33311", DateOrderUnknown, "", dateNone, ReasonDate},
		{"", DateOrderUnknown, "", dateNone, ReasonDate},
		{"1991-03-14 noon", DateOrderUnknown, "", dateNone, ReasonDate},
	} {
		t.Run(c.in+"/"+c.order.String(), func(t *testing.T) {
			d, seen, reason, _ := parseDate(c.in, c.order)
			if reason != c.reason || seen != c.seen {
				t.Fatalf("parseDate(%q) = %v, seen %v, reason %v; want seen %v, reason %v", c.in, d, seen, reason, c.seen, c.reason)
			}
			if reason == 0 && d.String() != c.want {
				t.Fatalf("parseDate(%q) = %s, want %s", c.in, d, c.want)
			}
		})
	}
}

func TestSerialDate(t *testing.T) {
	for _, c := range []struct {
		serial string
		d1904  bool
		want   string
		ok     bool
	}{
		{"1", false, "1900-01-01", true},
		{"59", false, "1900-02-28", true},
		{"60", false, "", false}, // Excel's 29 February 1900
		{"61", false, "1900-03-01", true},
		{"33311", false, "1991-03-14", true},
		{"33311.75", false, "1991-03-14", true},
		{"46327", false, "2026-11-01", true},
		{"0", true, "1904-01-01", true},
		{"31849", true, "1991-03-14", true},
		{"0", false, "", false},
		{"-1", false, "", false},
		{"1e9", false, "", false},
		{"NaN", false, "", false},
		{"x", false, "", false},
	} {
		d, ok := serialDate(c.serial, c.d1904)
		if ok != c.ok || ok && d.String() != c.want {
			t.Errorf("serialDate(%s, 1904=%v) = %s, %v; want %s, %v", c.serial, c.d1904, d, ok, c.want, c.ok)
		}
	}
}

func TestDateAfter(t *testing.T) {
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d     date
		after bool
	}{
		{date{2026, 11, 3}, false},
		{date{2026, 11, 4}, true},
		{date{2026, 11, 0}, false},
		{date{2026, 12, 0}, true},
		{date{2026, 0, 0}, false},
		{date{2027, 0, 0}, true},
		{date{1991, 3, 14}, false},
	} {
		if got := c.d.after(now); got != c.after {
			t.Errorf("%s after %s = %v, want %v", c.d, now.Format(time.DateOnly), got, c.after)
		}
	}
}

func TestValues(t *testing.T) {
	for _, c := range []struct {
		name   string
		f      func(string) (string, Reason)
		in     string
		want   string
		reason Reason
	}{
		{"gender", gender, "F", "female", 0},
		{"gender", gender, " Female ", "female", 0},
		{"gender", gender, "Féminin", "female", 0},
		{"gender", gender, "femme", "female", 0},
		{"gender", gender, "أنثى", "female", 0},
		{"gender", gender, "انثي", "female", 0},
		{"gender", gender, "ذكر", "male", 0},
		{"gender", gender, "H", "male", 0},
		{"gender", gender, "Masculin", "male", 0},
		{"gender", gender, "Other", "other", 0},
		{"gender", gender, "آخر", "other", 0},
		{"gender", gender, "unknown", "", ReasonGender},
		{"country", country, "SO", "SO", 0},
		{"country", country, "so", "SO", 0},
		{"country", country, "SOM", "SO", 0},
		{"country", country, "ken", "KE", 0},
		{"country", country, "UK", "GB", 0},
		{"country", country, "ZZ", "", ReasonCountry},
		{"country", country, "XX", "", ReasonCountry},
		{"country", country, "706", "", ReasonCountry},
		{"country", country, "Somalia", "", ReasonCountry},
		{"language", languageCode, "SOM", "som", 0},
		{"language", languageCode, "ar", "ar", 0},
		{"language", languageCode, "Somali", "", ReasonLanguage},
		{"language", languageCode, "s0m", "", ReasonLanguage},
	} {
		got, reason := c.f(c.in)
		if got != c.want || reason != c.reason {
			t.Errorf("%s(%q) = %q, %v; want %q, %v", c.name, c.in, got, reason, c.want, c.reason)
		}
	}
	for in, want := range map[string]string{
		"Asylum seeker": "asylum-seeker", "asylum-seeker": "asylum-seeker", "Réfugié": "refugee", "لاجئ": "refugee",
		"demandeur d'asile": "asylum-seeker", "طالب لجوء": "asylum-seeker", "IDP": "idp", "migrant": "migrant",
	} {
		if got := legalStatus(in); got != want {
			t.Errorf("legalStatus(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]int{"5": 5, " 5 ": 5, "5.0": 5, "٥": 5, "0": 0, "200": 200} {
		if got, reason := wholeNumber(in); got != want || reason != 0 {
			t.Errorf("wholeNumber(%q) = %d, %v; want %d", in, got, reason, want)
		}
	}
	for _, in := range []string{"five", "5.5", "-1", "201", "NaN", "Inf", ""} {
		if _, reason := wholeNumber(in); reason != ReasonNumber {
			t.Errorf("wholeNumber(%q) = %v, want ReasonNumber", in, reason)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"Fatima Hassan Abdi":          "Fatima Hassan Abdi",
		"  Fatima   Hassan\tAbdi \n":  "Fatima Hassan Abdi",
		"Fatima\u00a0Hassan":          "Fatima Hassan",
		"\u200fفاطمة حسن\u200e":       "فاطمة حسن",
		"Fa\u200btima\ufeff":          "Fatima",
		"Ame\u0301lie":                "Amélie",
		"مهر\u200cانگیز":              "مهر\u200cانگیز",
		"line\r\nbreak":               "line break",
		"":                            "",
		"  ":                          "",
		"\x00Fatima\x01":              "Fatima",
		"Fatima \u202bHassan\u202c  ": "Fatima Hassan",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLostDigits(t *testing.T) {
	for in, want := range map[string]bool{
		"123": false, "123456789012345": false, "1234567890123456": true, "1.2345678901234568E+17": true,
		"0.5": false, "-12": false, "1E+20": true, "000000000000000001": false,
	} {
		if got := lostDigits(in); got != want {
			t.Errorf("lostDigits(%q) = %v, want %v", in, got, want)
		}
	}
}

// The synonym tables hold folded words: a word that fold changes would
// never match.
func TestTablesAreFolded(t *testing.T) {
	for _, spec := range claimSpecs {
		for _, n := range spec.names {
			if fold(n) != n {
				t.Errorf("%s: header synonym %q folds to %q", spec.claim, n, fold(n))
			}
		}
		for _, tag := range append([]string{spec.tag}, spec.tags...) {
			if claimForTag(tag) != spec.claim {
				t.Errorf("%s: tag %s names %q", spec.claim, tag, claimForTag(tag))
			}
		}
		if claimForHeader(spec.header) != spec.claim {
			t.Errorf("%s: header %q names %q", spec.claim, spec.header, claimForHeader(spec.header))
		}
	}
	for _, m := range []map[string]string{genders, legalStatuses} {
		for k := range m {
			if fold(k) != k {
				t.Errorf("%q folds to %q", k, fold(k))
			}
		}
	}
}

func TestColumnLetters(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %s, want %s", i, got, want)
		}
		if got, ok := columnIndex(want, 16384); !ok || got != i {
			t.Errorf("columnIndex(%s) = %d, %v, want %d", want, got, ok, i)
		}
	}
	for _, bad := range []string{"", "A1", "AAAA", "-"} {
		if _, ok := columnIndex(bad, 16384); ok {
			t.Errorf("columnIndex(%q) is ok", bad)
		}
	}
}
