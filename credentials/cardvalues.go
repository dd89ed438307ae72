package credentials

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The value encodings of the card: small integer codes for enumerated
// values, and the date forms of Claim 169 and of the consent.

// Card codes of the credential types (tally claim key 1).
var cardTypeCodes = []Type{1: TypeRegistration, 2: TypeEligibility, 3: TypeReferral}

// Small integer codes of enumerated values. Index 0 means absent.
var (
	cardFrequencies = []string{1: "once", 2: "weekly", 3: "monthly"}
	cardMethods     = []string{1: "verbal", 2: "written", 3: "digital"}
)

func cardTypeCode(t Type) int {
	if i := slices.Index(cardTypeCodes, t); i > 0 {
		return i
	}
	return 0
}

// code returns the 1-based position of v in values (index 0 unused), 0 for
// an empty v, or an error.
func code(field string, values []string, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	if i := slices.Index(values, v); i > 0 {
		return i, nil
	}
	return 0, fmt.Errorf("%s has no card code for its value (it must be one of %v)", field, values[1:])
}

// uncode is code's inverse; 0 is absent.
func uncode(field string, values []string, c int) (string, error) {
	if c == 0 {
		return "", nil
	}
	if c < 0 || c >= len(values) {
		return "", fmt.Errorf("card: the %s code is not one of 1 to %d: %w", field, len(values)-1, ErrMalformed)
	}
	return values[c], nil
}

// enumCode is the Claim 169 style code of an enum claim: its position in the
// schema's Values, from 1 (gender: 1 male, 2 female, 3 other; urgency: 1 low,
// 2 medium, 3 high).
func enumCode(name, v string) (int, error) {
	c := schemaClaim(name)
	if v == "" {
		return 0, nil
	}
	if i := slices.Index(c.Values, v); i >= 0 {
		return i + 1, nil
	}
	return 0, fmt.Errorf("%s is not one of %v", name, c.Values)
}

func enumValue(name string, n int) (string, error) {
	c := schemaClaim(name)
	if n == 0 {
		return "", nil
	}
	if n < 1 || n > len(c.Values) {
		return "", fmt.Errorf("card: the %s code is not one of 1 to %d: %w", name, len(c.Values), ErrMalformed)
	}
	return c.Values[n-1], nil
}

// cardDate turns a date of birth (YYYY-MM-DD, YYYY-MM or YYYY) into what a
// card carries: a full date as Claim 169's YYYYMMDD (key 8), a partly known
// one as YYYYMM or YYYY in tally's private claim (key 12), since Claim 169
// knows only full dates. Errors do not quote the date.
func cardDate(s string) (full, partial string, err error) {
	if s == "" {
		return "", "", nil
	}
	if _, _, _, err := ParseDate(s); err != nil {
		return "", "", errors.New("dateOfBirth is not a date like 1991-03-14 (or 1991-03, or 1991)")
	}
	b := make([]byte, 0, 8)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			b = append(b, s[i])
		}
	}
	if len(b) == 8 {
		return string(b), "", nil
	}
	return "", string(b), nil
}

// uncardDate is cardDate's inverse: the date of birth from Claim 169 key 8
// (full) or tally's private key 12 (partly known), at most one of them.
// Cards issued before key 12 existed carry YYYYMM or YYYY in key 8, and are
// still read.
func uncardDate(full, partial string) (string, error) {
	switch {
	case full != "" && partial != "":
		return "", fmt.Errorf("card: two dates of birth, in Claim 169 and in tally's claim: %w", ErrMalformed)
	case partial != "":
		if len(partial) == 8 {
			return "", fmt.Errorf("card: a full date of birth belongs in Claim 169, not in tally's claim: %w", ErrMalformed)
		}
		return digitDate(partial)
	}
	return digitDate(full)
}

// digitDate turns YYYYMMDD, YYYYMM or YYYY into YYYY-MM-DD, YYYY-MM or YYYY,
// checking that it is a calendar date.
func digitDate(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	var out string
	switch len(s) {
	case 8:
		out = s[:4] + "-" + s[4:6] + "-" + s[6:]
	case 6:
		out = s[:4] + "-" + s[4:]
	case 4:
		out = s
	default:
		return "", fmt.Errorf("card: the date of birth is not YYYYMMDD: %w", ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("card: the date of birth is not YYYYMMDD: %w", ErrMalformed)
		}
	}
	if _, _, _, err := ParseDate(out); err != nil {
		return "", fmt.Errorf("card: the date of birth is not a calendar date: %w", ErrMalformed)
	}
	return out, nil
}

// dayNumber turns YYYY-MM-DD into the integer YYYYMMDD.
func dayNumber(s string) (int, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("date is not YYYY-MM-DD")
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day(), nil
}

func unDayNumber(n int) (string, error) {
	s := fmt.Sprintf("%04d-%02d-%02d", n/10000, n/100%100, n%100)
	if n < 10000101 || n > 99991231 {
		return "", fmt.Errorf("card: the consent date is not YYYYMMDD: %w", ErrMalformed)
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("card: the consent date is not a calendar date: %w", ErrMalformed)
	}
	return s, nil
}
