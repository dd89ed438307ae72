package registry

import (
	"encoding/base32"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the names the registry stores. Identifiers (domain ids, peer
// names, programme codes) are ASCII letters, digits, dots, hyphens and
// underscores, so that they are safe in CSV, in file names and in keys.
const (
	maxIdentifier   = 64
	maxServicePoint = 64
	maxDomainName   = 120
	maxMembers      = 64
)

// TokenLength is the length of a dedup token: 16 bytes in base32, lower
// case, without padding.
const TokenLength = 26

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CheckToken reports whether s is a dedup token as verifier derives it:
// 26 characters of a-z and 2-7, in the one spelling that encodes 16 bytes.
func CheckToken(s string) error {
	if len(s) != TokenLength {
		return fmt.Errorf("a dedup token is %d characters, not %d", TokenLength, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return fmt.Errorf("a dedup token is made of a-z and 2-7 only")
		}
	}
	raw, err := tokenEncoding.DecodeString(strings.ToUpper(s))
	if err != nil || len(raw) != 16 || strings.ToLower(tokenEncoding.EncodeToString(raw)) != s {
		return fmt.Errorf("this is not a dedup token (its last character cannot end one)")
	}
	return nil
}

// checkIdentifier reports an identifier that is empty, too long, or has
// other characters than letters, digits, '.', '-' and '_' (and does not
// start with a letter or a digit).
func checkIdentifier(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("it is empty")
	case len(s) > maxIdentifier:
		return fmt.Errorf("it is longer than %d characters", maxIdentifier)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letterOrDigit := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !letterOrDigit && (i == 0 || c != '.' && c != '-' && c != '_') {
			return fmt.Errorf("use letters, digits, dots, hyphens and underscores, starting with a letter or digit")
		}
	}
	return nil
}

// checkProgramme accepts "" (no programme) or an identifier.
func checkProgramme(s string) error {
	if s == "" {
		return nil
	}
	return checkIdentifier(s)
}

// checkLabel reports a free-text label (a service point, a domain's
// display name) that is empty, too long, not UTF-8, or holds control
// characters.
func checkLabel(s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("it is empty")
	case len(s) > max:
		return fmt.Errorf("it is longer than %d bytes", max)
	case !utf8.ValidString(s):
		return fmt.Errorf("it is not valid UTF-8 text")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("it holds a control character")
		}
	}
	return nil
}

// Month is a calendar month in UTC, written YYYY-MM: the period of
// reconciliation.
type Month string

// MonthOf is the UTC month of t.
func MonthOf(t time.Time) Month { return Month(t.UTC().Format("2006-01")) }

// checkMonth reports a month that is not YYYY-MM with a month from 01 to
// 12 and a year from 2000 to 2999.
func checkMonth(s string) error {
	if len(s) != 7 || s[4] != '-' {
		return fmt.Errorf("write the month as YYYY-MM, such as 2026-03")
	}
	for i, c := range []byte(s) {
		if i != 4 && (c < '0' || c > '9') {
			return fmt.Errorf("write the month as YYYY-MM, such as 2026-03")
		}
	}
	if s[0] != '2' {
		return fmt.Errorf("the year must be from 2000 to 2999")
	}
	if m := (s[5]-'0')*10 + s[6] - '0'; m < 1 || m > 12 {
		return fmt.Errorf("the month must be from 01 to 12")
	}
	return nil
}
