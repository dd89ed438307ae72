package bulk_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer/bulk"
)

// claimsOf returns the claim of each column, "" for one that matches none.
func claimsOf(cols []bulk.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Claim
	}
	return out
}

var sampleClaims = []string{"registrationId", "fullName", "firstName", "lastName", "dateOfBirth", "gender",
	"nationality", "legalStatus", "locationCode", "language", "programme", "householdSize"}

// TestMatchColumns matches columns by header — in English, French or
// Arabic, whatever the case, spaces and punctuation — or by an HXL
// hashtag row, whose tags win and whose attributes may come in any order.
func TestMatchColumns(t *testing.T) {
	for _, c := range []struct {
		name   string
		rows   [][]string
		claims []string
		hxl    bool
	}{
		{"the sample's header and HXL row", [][]string{sampleHeader, sampleTags}, sampleClaims, true},
		{"the sample's header alone", [][]string{sampleHeader}, sampleClaims, false},
		{"the sample's HXL row alone", [][]string{sampleTags}, sampleClaims, true},
		{"case, spaces and punctuation", [][]string{{"REGISTRATION_ID", " full-name ", "Date of Birth:", "gender", "household size (people)"}},
			[]string{"registrationId", "fullName", "dateOfBirth", "gender", ""}, false},
		{"English synonyms", [][]string{{"Reg ID", "Name", "DOB", "Sex", "Surname", "Given name", "Program"}},
			[]string{"registrationId", "fullName", "dateOfBirth", "gender", "lastName", "firstName", "programme"}, false},
		{"French", [][]string{{"Numéro d'enregistrement", "Nom complet", "Prénom", "Nom", "Date de naissance", "Sexe", "Nationalité",
			"Statut juridique", "Lieu", "Langue", "Programme", "Taille du ménage"}}, sampleClaims, false},
		{"Arabic", [][]string{{"رقم التسجيل", "الاسم الكامل", "الاسم الأول", "اسم العائلة", "تاريخ الميلاد", "الجنس", "الجنسية",
			"الوضع القانوني", "الموقع", "اللغة", "البرنامج", "حجم الأسرة"}}, sampleClaims, false},
		{"HXL attributes in any order, with spaces and language attributes", [][]string{
			{"ID", "Nom", "Prénom", "Naissance"},
			{"#BENEFICIARY +ID", "#beneficiary+name+i_fr", "#beneficiary +first +name", "#birth+date"},
		}, []string{"registrationId", "fullName", "firstName", ""}, true},
		{"a hashtag wins over its header", [][]string{
			{"Date of birth", "Full name", "Registration ID"},
			{"#beneficiary+id", "#beneficiary+name", "#date+birth"},
		}, []string{"registrationId", "fullName", "dateOfBirth"}, true},
		{"an unknown hashtag leaves the header", [][]string{
			{"Registration ID", "Full name", "Phone"},
			{"#x_case", "", "#contact+phone"},
		}, []string{"registrationId", "fullName", ""}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := append(c.rows, []string{"KE-1", "Fatima Abdi"})
			s, err := openSheetErr(csvOf(rows...))
			if err != nil {
				t.Fatal(err)
			}
			if got := claimsOf(s.Columns()); !reflect.DeepEqual(got[:len(c.claims)], c.claims) {
				t.Fatalf("claims %q\nwant   %q", got, c.claims)
			}
			if s.HasHXL() != c.hxl {
				t.Fatalf("HasHXL %v", s.HasHXL())
			}
		})
	}
}

// TestUnknownColumns: columns that match no claim are reported, by their
// header, their tag, or, with neither, their letter when they hold values.
func TestUnknownColumns(t *testing.T) {
	data := csvOf(
		[]string{"Registration ID", "Full name", "Phone", "", "Notes"},
		[]string{"KE-1", "Fatima Abdi", "0700", "", "", "stray"},
		[]string{"KE-2", "Amina Mohamed", "", "", "", ""},
	)
	s := openSheet(t, data, bulk.Options{})
	var names []string
	for _, c := range s.Unknown() {
		names = append(names, c.String())
	}
	if want := []string{`C ("Phone")`, `E ("Notes")`, `F`}; !reflect.DeepEqual(names, want) {
		t.Fatalf("unknown columns %q, want %q", names, want)
	}
	rows := readRows(t, s)
	if len(drafts(t, rows)) != 2 {
		t.Fatal("unknown columns make rows bad")
	}
}

// TestHeaderRefused: a file without a column for a claim every
// registration needs, or with two columns for one claim, is refused with
// every such problem.
func TestHeaderRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		header []string
		want   []string // the problems' words
	}{
		{"no ID, no name", []string{"Date of birth", "Gender"}, []string{
			`no column holds the registration ID: add a column named "Registration ID", or tagged #beneficiary+id in an HXL row`,
			`no column holds the full name: add a column named "Full name", or tagged #beneficiary+name in an HXL row`,
		}},
		{"a first name but no last name", []string{"Registration ID", "First name"}, []string{
			`no column holds the full name: add a column named "Full name", or tagged #beneficiary+name in an HXL row`,
		}},
		{"two name columns", []string{"Registration ID", "Name", "Full name", "Nom complet"}, []string{
			`line 1, column C ("Full name"): this column and column B both hold the full name: keep one of them`,
			`line 1, column D ("Nom complet"): this column and column B both hold the full name: keep one of them`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openSheetErr(csvOf(c.header, []string{"x"}))
			fe, ok := err.(*bulk.FileError)
			if !ok {
				t.Fatalf("err = %v", err)
			}
			var got []string
			for _, p := range fe.Problems {
				got = append(got, p.Error())
				if p.Reason != bulk.ReasonMissingColumn && p.Reason != bulk.ReasonDuplicateColumn {
					t.Fatalf("reason %v", p.Reason)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
