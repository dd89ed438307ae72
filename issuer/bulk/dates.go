package bulk

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// dateSeen is what a date's writing says about the file's date order, for
// the report's suggestion.
type dateSeen uint8

const (
	dateNone       dateSeen = iota
	dateDayFirst            // like 14/03/1991: only day-first reads it
	dateMonthFirst          // like 03/14/1991
	dateAmbiguous           // like 03/04/1991
)

// date is a date of birth, whole or partly known (month or day 0).
type date struct{ year, month, day int }

func (d date) String() string {
	switch {
	case d.month == 0:
		return fmt.Sprintf("%04d", d.year)
	case d.day == 0:
		return fmt.Sprintf("%04d-%02d", d.year, d.month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// valid reports whether the date exists (no 31 April), for the parts known.
func (d date) valid() bool {
	if d.year < 1 || d.year > 9999 || d.month < 0 || d.month > 12 || d.day < 0 || d.day > 31 {
		return false
	}
	if d.day == 0 {
		return true
	}
	if d.month == 0 {
		return false
	}
	t := time.Date(d.year, time.Month(d.month), d.day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.day
}

// after reports whether the date is after today, for the parts known.
func (d date) after(now time.Time) bool {
	y, m, day := now.Date()
	switch {
	case d.year != y:
		return d.year > y
	case d.month == 0 || d.month != int(m):
		return d.month > int(m)
	}
	return d.day > day
}

// parseDate reads a written date of birth: YYYY-MM-DD, YYYY/MM/DD,
// DD/MM/YYYY or MM/DD/YYYY (with /, - or . between), YYYYMMDD, a partly
// known YYYY-MM, MM/YYYY or YYYY, each perhaps followed by a time of day
// (as exports of date cells often are), in Western or Arabic-Indic digits.
// The detail says more about a date refused, in plain words.
func parseDate(s string, order DateOrder) (date, dateSeen, Reason, string) {
	s = strings.TrimSpace(asciiDigits(s))
	if i := strings.IndexAny(s, " T"); i > 0 && isTimeOfDay(s[i+1:]) {
		s = s[:i]
	}
	var parts []string
	var sep byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			continue
		}
		if c != '-' && c != '/' && c != '.' || (sep != 0 && c != sep) || i == start {
			return date{}, dateNone, ReasonDate, ""
		}
		sep = c
		parts = append(parts, s[start:i])
		start = i + 1
	}
	parts = append(parts, s[start:])
	if parts[len(parts)-1] == "" {
		return date{}, dateNone, ReasonDate, ""
	}
	num := func(p string) int { n, _ := strconv.Atoi(p); return n }
	var d date
	seen := dateNone
	switch {
	case len(parts) == 1 && len(s) == 4:
		d = date{year: num(s)}
	case len(parts) == 1 && len(s) == 8:
		d = date{num(s[:4]), num(s[4:6]), num(s[6:])}
	case len(parts) == 2 && len(parts[0]) == 4 && len(parts[1]) <= 2:
		d = date{year: num(parts[0]), month: num(parts[1])}
	case len(parts) == 2 && len(parts[1]) == 4 && len(parts[0]) <= 2:
		d = date{year: num(parts[1]), month: num(parts[0])}
	case len(parts) == 3 && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		d = date{num(parts[0]), num(parts[1]), num(parts[2])}
	case len(parts) == 3 && len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		a, b, y := num(parts[0]), num(parts[1]), num(parts[2])
		switch {
		case a > 12 && b <= 12:
			seen = dateDayFirst
		case b > 12 && a <= 12:
			seen = dateMonthFirst
		case a != b:
			seen = dateAmbiguous
		}
		dayFirst := date{y, b, a}
		monthFirst := date{y, a, b}
		switch {
		case order == DayFirst:
			d = dayFirst
		case order == MonthFirst:
			d = monthFirst
		case seen == dateAmbiguous:
			return date{}, seen, ReasonDateAmbiguous, ""
		case seen == dateMonthFirst:
			d = monthFirst
		default:
			d = dayFirst
		}
	case len(parts) == 3 && len(parts[2]) == 2 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		// A date of birth's century cannot be guessed.
		return date{}, dateNone, ReasonDate, "write the year with four digits"
	default:
		return date{}, dateNone, ReasonDate, ""
	}
	if !d.valid() {
		if seen != dateNone && order != DateOrderUnknown {
			return date{}, seen, ReasonDate, "there is no such date in the " + order.String() + " order the import was told"
		}
		return date{}, seen, ReasonDate, "there is no such day"
	}
	return d, seen, 0, ""
}

// isTimeOfDay reports whether s is a time like 00:00, 00:00:00 or
// 12:00:00.000, perhaps with AM or PM.
func isTimeOfDay(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "AM"), "PM"))
	s = strings.TrimSuffix(s, "Z")
	if s == "" {
		return false
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.':
		case c == ':':
			colons++
		default:
			return false
		}
	}
	return colons >= 1 && colons <= 2
}

// asciiDigits writes Arabic-Indic and Eastern Arabic-Indic digits as 0-9.
func asciiDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= '٠' && r <= '٩' || r >= '۰' && r <= '۹' }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '٠' && r <= '٩':
			return '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			return '0' + (r - '۰')
		}
		return r
	}, s)
}

// serialDate turns an Excel serial day number into a date. In the 1900
// date system day 1 is 1900-01-01, and day 60 is the 29 February 1900 that
// Excel counts though it never was (kept from Lotus 1-2-3); in the 1904
// system day 0 is 1904-01-01. A time of day (the fraction) is dropped.
func serialDate(text string, date1904 bool) (date, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 2_958_465 {
		return date{}, false
	}
	days := int(math.Floor(v))
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 0 || days == 60:
		return date{}, false
	case days < 60:
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	t := base.AddDate(0, 0, days)
	return date{t.Year(), int(t.Month()), t.Day()}, true
}
