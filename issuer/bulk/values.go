package bulk

import (
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// cleanText is a cell's text as a claim holds it: in Unicode NFC, without
// the invisible characters that exports and copy-paste leave behind
// (direction marks, zero-width spaces, byte order marks, soft hyphens;
// the zero-width joiners that Persian and Indic names need stay), every run
// of spaces, tabs and line breaks as one space, and trimmed.
func cleanText(s string) string {
	if isPlain(s) {
		return s
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\u200c' || r == '\u200d':
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII with single spaces between
// words and none at the ends: cleanText's fast path.
func isPlain(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}

// cellText is a cell's value as text, for a claim that holds text: a
// number as Excel stored it, a date cell as YYYY-MM-DD. A formula error,
// or a number Excel rounded, is a problem.
func (s *Sheet) cellText(c cell) (string, Reason) {
	switch c.kind {
	case cellNumber:
		if lostDigits(c.text) {
			return "", ReasonDigitsLost
		}
		return c.text, 0
	case cellDate:
		if d, ok := serialDate(c.text, s.date1904()); ok {
			return d.String(), 0
		}
		return c.text, 0
	case cellISODate:
		day, _, _ := strings.Cut(c.text, "T")
		return day, 0
	case cellError:
		return "", ReasonFormulaError
	}
	return cleanText(c.text), 0
}

// lostDigits reports whether a number as an XLSX file stores it has lost
// digits: Excel keeps 15 significant digits and writes longer numbers, like
// a 17-digit ID typed into a number cell, with an exponent.
func lostDigits(num string) bool {
	if strings.ContainsAny(num, "eE") {
		return true
	}
	digits := 0
	for _, c := range strings.TrimLeft(num, "-+0.") {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return digits > 15
}

// genders maps gender words, folded, in English, French and Arabic, to the
// credential's values.
var genders = map[string]string{
	"female": "female", "f": "female", "woman": "female", "girl": "female", "femme": "female",
	"feminin": "female", "fille": "female", "انثي": "female", "امراه": "female", "بنت": "female",
	"male": "male", "m": "male", "man": "male", "boy": "male", "homme": "male", "h": "male",
	"masculin": "male", "garcon": "male", "ذكر": "male", "رجل": "male", "ولد": "male",
	"other": "other", "x": "other", "autre": "other", "اخر": "other", "اخري": "other",
}

// legalStatuses maps the usual legal statuses, folded, in English, French
// and Arabic, to one spelling. Others stay as written: the claim is free
// text.
var legalStatuses = map[string]string{
	"refugee": "refugee", "refugie": "refugee", "refugiee": "refugee", "لاجي": "refugee",
	"asylumseeker": "asylum-seeker", "demandeurdasile": "asylum-seeker", "demandeusedasile": "asylum-seeker", "طالبلجوء": "asylum-seeker",
	"idp": "idp", "internallydisplacedperson": "idp", "deplaceinterne": "idp", "personnedeplaceeinterne": "idp", "نازح": "idp", "نازحداخليا": "idp",
	"returnee": "returnee", "rapatrie": "returnee", "retourne": "returnee", "عايد": "returnee",
	"stateless": "stateless", "apatride": "stateless", "عديمالجنسيه": "stateless",
	"hostcommunity": "host-community", "communautehote": "host-community", "مجتمعمضيف": "host-community",
}

// gender reads a gender word.
func gender(s string) (string, Reason) {
	if g, ok := genders[fold(s)]; ok {
		return g, 0
	}
	return "", ReasonGender
}

// legalStatus writes a known legal status one way, and keeps others.
func legalStatus(s string) string {
	if v, ok := legalStatuses[fold(s)]; ok {
		return v
	}
	return s
}

// country reads an ISO 3166-1 country code, alpha-2 or alpha-3 (SO, SOM),
// as the alpha-2 code the credential holds.
func country(s string) (string, Reason) {
	if n := len(s); n != 2 && n != 3 || strings.ContainsFunc(s, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') }) {
		return "", ReasonCountry
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", ReasonCountry
	}
	return r.Canonicalize().String(), 0
}

// languageCode reads an ISO 639 code (so, som), in lower case.
func languageCode(s string) (string, Reason) {
	s = strings.ToLower(s)
	if n := len(s); n < 2 || n > 3 || strings.ContainsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return "", ReasonLanguage
	}
	return s, 0
}

// wholeNumber reads a household size: 5, 5.0, or ٥.
func wholeNumber(s string) (int, Reason) {
	s = strings.TrimSpace(asciiDigits(s))
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 200 {
			return 0, ReasonNumber
		}
		return n, 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > 200 {
		return 0, ReasonNumber
	}
	return int(f), 0
}
