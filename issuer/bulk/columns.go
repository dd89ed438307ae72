package bulk

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Column is one column of the file, as its header row and HXL row name it.
type Column struct {
	// Index counts from 0 for column A.
	Index int
	// Letter is the column's name in a spreadsheet: A, B, ..., Z, AA.
	Letter string
	// Header is the text of the header cell, trimmed; it may be empty.
	Header string
	// Tag is the HXL hashtag of the column, as written, or empty.
	Tag string
	// Claim is the registration claim the column holds, like "dateOfBirth",
	// or empty when the column matches none (it is reported, not read).
	Claim string
}

// String names the column as a spreadsheet user looks for it:
// `E ("Date of birth")`, `E (#date+birth)`, or `E` when it has no header.
func (c Column) String() string {
	switch {
	case c.Header != "":
		return fmt.Sprintf("%s (%q)", c.Letter, c.Header)
	case c.Tag != "":
		return fmt.Sprintf("%s (%s)", c.Letter, c.Tag)
	}
	return c.Letter
}

// columnLetter returns the spreadsheet name of the column at index i (from 0).
func columnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// columnIndex reads a column's letters (A, AA, xfd) as an index from 0;
// ok is false for anything else, or past limit.
func columnIndex(letters string, limit int) (int, bool) {
	if letters == "" || len(letters) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(letters); i++ {
		c := letters[i] | 0x20
		if c < 'a' || c > 'z' {
			return 0, false
		}
		n = n*26 + int(c-'a') + 1
	}
	if n-1 >= limit {
		return n - 1, false
	}
	return n - 1, true
}

// claimSpec says how a registration claim is found in a file.
type claimSpec struct {
	claim string
	// label names the claim in plain words, in errors.
	label string
	// header is the English header of the sample file.
	header string
	// tag is the reference HXL hashtag, of the sample file.
	tag string
	// names are more headers, folded (see fold): English, French, Arabic.
	names []string
	// tags are more HXL hashtags, written as tag then attributes.
	tags []string
}

// claimSpecs lists the claims of a registration that a file may hold, in
// the order of the sample file. ../shared/samples/beneficiaries.csv is the
// reference for headers and tags.
var claimSpecs = []claimSpec{
	{claim: "registrationId", label: "registration ID", header: "Registration ID", tag: "#beneficiary+id",
		names: []string{"registrationid", "registrationnumber", "registrationno", "regid", "regno", "beneficiaryid", "caseid",
			"numerodenregistrement", "numerodinscription", "identifiant", "رقمالتسجيل", "رقمالقيد"},
		tags: []string{"#beneficiary+code", "#beneficiary+id+registration"}},
	{claim: "fullName", label: "full name", header: "Full name", tag: "#beneficiary+name",
		names: []string{"fullname", "name", "beneficiaryname", "nomcomplet", "الاسمالكامل", "الاسم"},
		tags:  []string{"#beneficiary+name+full"}},
	{claim: "firstName", label: "first name", header: "First name", tag: "#beneficiary+name+first",
		names: []string{"firstname", "givenname", "forename", "prenom", "الاسمالاول"},
		tags:  []string{"#beneficiary+name+given"}},
	{claim: "lastName", label: "last name", header: "Last name", tag: "#beneficiary+name+last",
		names: []string{"lastname", "surname", "familyname", "nom", "nomdefamille", "اسمالعايله", "اللقب"},
		tags:  []string{"#beneficiary+name+family"}},
	{claim: "dateOfBirth", label: "date of birth", header: "Date of birth", tag: "#date+birth",
		names: []string{"dateofbirth", "birthdate", "dob", "datedenaissance", "تاريخالميلاد"},
		tags:  []string{"#beneficiary+date+birth", "#date+dob"}},
	{claim: "gender", label: "gender", header: "Gender", tag: "#beneficiary+gender",
		names: []string{"gender", "sex", "genre", "sexe", "الجنس", "النوع"},
		tags:  []string{"#beneficiary+sex", "#gender"}},
	{claim: "nationality", label: "nationality", header: "Nationality", tag: "#country+code+nationality",
		names: []string{"nationality", "nationalite", "الجنسيه"},
		tags:  []string{"#country+nationality", "#beneficiary+nationality", "#country+code+nationality+v_iso2"}},
	{claim: "legalStatus", label: "legal status", header: "Legal status", tag: "#status+legal",
		names: []string{"legalstatus", "statutjuridique", "statutlegal", "الوضعالقانوني"},
		tags:  []string{"#beneficiary+status+legal"}},
	{claim: "locationCode", label: "location", header: "Location", tag: "#loc+code",
		names: []string{"location", "locationcode", "site", "sitecode", "lieu", "codedulieu", "الموقع"},
		tags:  []string{"#loc+id", "#site+code"}},
	{claim: "language", label: "language", header: "Language", tag: "#meta+lang",
		names: []string{"language", "languagecode", "langue", "اللغه"},
		tags:  []string{"#language+code", "#meta+lang+code"}},
	{claim: "programme", label: "programme", header: "Programme", tag: "#activity+code",
		names: []string{"programme", "program", "programmecode", "programcode", "البرنامج"},
		tags:  []string{"#activity+id", "#activity+programme"}},
	{claim: "householdSize", label: "household size", header: "Household size", tag: "#household+size",
		names: []string{"householdsize", "tailledumenage", "taillemenage", "حجمالاسره", "عددافرادالاسره"},
		tags:  []string{"#beneficiary+household+size", "#household+num", "#household+members"}},
}

func lookupSpec(claim string) (claimSpec, bool) {
	for _, s := range claimSpecs {
		if s.claim == claim {
			return s, true
		}
	}
	return claimSpec{}, false
}

// claimLabel names a claim in plain words.
func claimLabel(claim string) string {
	if s, ok := lookupSpec(claim); ok {
		return s.label
	}
	return claim
}

// fold reduces a header or a word to what matching compares: letters and
// digits only, lower case, without accents or Arabic short vowels and
// hamza, with the Arabic letters people interchange made one (alef
// maksura as yeh, teh marbuta as heh). "Date de naissance", "date_de_naissance"
// and "DATE DE NAISSANCE" fold alike; so do "أنثى" and "انثي".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // accents, harakat, hamza above and below
		case r == 'ى':
			r = 'ي'
		case r == 'ة':
			r = 'ه'
		case r >= '٠' && r <= '٩':
			r = '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			r = '0' + (r - '۰')
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if unicode.Is(unicode.Lm, r) {
				continue // tatweel and other modifier letters
			}
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// hashtag is an HXL hashtag: a tag and a set of attributes, compared
// without regard to case or the attributes' order.
type hashtag struct {
	tag   string
	attrs []string // sorted, lower case, without language (+i_xx) attributes
}

// parseHashtag reads an HXL hashtag like "#beneficiary +name +first";
// ok is false when s is not one.
func parseHashtag(s string) (hashtag, bool) {
	s = strings.Join(strings.Fields(s), "")
	if !strings.HasPrefix(s, "#") {
		return hashtag{}, false
	}
	parts := strings.Split(strings.ToLower(s[1:]), "+")
	for _, p := range parts {
		if !hxlName(p) {
			return hashtag{}, false
		}
	}
	h := hashtag{tag: parts[0]}
	for _, a := range parts[1:] {
		// +i_ar, +i_fr say which language a text column is in: they do
		// not change what the column holds.
		if !strings.HasPrefix(a, "i_") {
			h.attrs = append(h.attrs, a)
		}
	}
	slices.Sort(h.attrs)
	h.attrs = slices.Compact(h.attrs)
	return h, true
}

// hxlName reports whether s is an HXL tag or attribute name: a letter, then
// letters, digits and underscores.
func hxlName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (h hashtag) equal(o hashtag) bool { return h.tag == o.tag && slices.Equal(h.attrs, o.attrs) }

// claimForTag returns the claim an HXL hashtag names, or "".
func claimForTag(s string) string {
	h, ok := parseHashtag(s)
	if !ok {
		return ""
	}
	for _, spec := range claimSpecs {
		for _, t := range append([]string{spec.tag}, spec.tags...) {
			if ref, _ := parseHashtag(t); h.equal(ref) {
				return spec.claim
			}
		}
	}
	return ""
}

// claimForHeader returns the claim a header names, or "".
func claimForHeader(s string) string {
	f := fold(s)
	if f == "" {
		return ""
	}
	for _, spec := range claimSpecs {
		if f == fold(spec.header) || slices.Contains(spec.names, f) {
			return spec.claim
		}
	}
	return ""
}

// isHXLRow reports whether a row is an HXL hashtag row: at least one cell,
// and every cell that is not empty a hashtag.
func isHXLRow(cells []cell) bool {
	n := 0
	for _, c := range cells {
		t := strings.TrimSpace(c.text)
		if t == "" {
			continue
		}
		if _, ok := parseHashtag(t); !ok {
			return false
		}
		n++
	}
	return n > 0
}

// header is what the first rows of a file say about its columns.
type header struct {
	columns []Column
	// byClaim maps a claim to its column's index.
	byClaim map[string]int
	// filled says which columns hold a value on some line of data.
	filled []bool
}

// matchColumns names the columns from the header row and the HXL row
// (either may be nil); filled says which columns hold values in the data,
// so that a column past the header that holds values is reported too. A column's hashtag wins over its header text; a
// column that names no claim is kept, with an empty Claim, for the report.
// It refuses the file when a claim a registration needs has no column, or
// when two columns hold the same claim.
func matchColumns(head, hxl []cell, headLine int, filled []bool) (*header, error) {
	width := max(len(filled), len(head), len(hxl))
	h := &header{byClaim: map[string]int{}, filled: filled}
	var problems []*Error
	for i := range width {
		col := Column{Index: i, Letter: columnLetter(i)}
		if i < len(head) {
			col.Header = strings.TrimSpace(head[i].text)
		}
		if i < len(hxl) {
			col.Tag = strings.TrimSpace(hxl[i].text)
		}
		if col.Tag != "" {
			col.Claim = claimForTag(col.Tag)
		}
		if col.Claim == "" && col.Header != "" {
			col.Claim = claimForHeader(col.Header)
		}
		if col.Claim != "" {
			if j, dup := h.byClaim[col.Claim]; dup {
				problems = append(problems, &Error{Reason: ReasonDuplicateColumn, Line: headLine, Column: col, Claim: col.Claim, Other: j})
				col.Claim = ""
			} else {
				h.byClaim[col.Claim] = i
			}
		}
		h.columns = append(h.columns, col)
	}
	has := func(claim string) bool { _, ok := h.byClaim[claim]; return ok }
	if !has("registrationId") {
		problems = append(problems, &Error{Reason: ReasonMissingColumn, Claim: "registrationId"})
	}
	// A full name is made of the first and last names when the file has
	// those and no full name.
	if !has("fullName") && !(has("firstName") && has("lastName")) {
		problems = append(problems, &Error{Reason: ReasonMissingColumn, Claim: "fullName"})
	}
	if len(problems) > 0 {
		return nil, &FileError{Problems: problems}
	}
	return h, nil
}

// unknown returns the columns that hold no claim but have a header, a tag
// or data: they are not read, and the report says so.
func (h *header) unknown() []Column {
	var out []Column
	for _, c := range h.columns {
		filled := c.Index < len(h.filled) && h.filled[c.Index]
		if c.Claim == "" && (c.Header != "" || c.Tag != "" || filled) {
			out = append(out, c)
		}
	}
	return out
}
