package servicepoint

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on settings and points.
const (
	// MaxServicePoints bounds an organisation's list of service points.
	MaxServicePoints = 50
	// MaxServicePointName is the longest service point name, in bytes (as
	// the registry keeps it).
	MaxServicePointName = 64
	maxIdentifier       = 64
)

// Settings are an organisation's verification settings.
type Settings struct {
	// Domain is the id of the dedup domain the organisation's scans use;
	// "" until a supervisor picks one or the first scan makes the
	// organisation's own.
	Domain string `json:"domain"`
	// OwnDomainMade is when the first scan made the organisation's own
	// domain (zero if it did not).
	OwnDomainMade time.Time `json:"ownDomainMade,omitzero"`
	// ServicePoints are the names staff pick from on the scanning page.
	// With none, staff type the service point's name.
	ServicePoints []string `json:"servicePoints"`
	// Updated is the time of the last change.
	Updated time.Time `json:"updated,omitzero"`
}

// SettingsStore keeps each organisation's settings.
type SettingsStore interface {
	// Settings returns an organisation's settings; the zero Settings if
	// none were saved.
	Settings(ctx context.Context, org string) (Settings, error)
	// UpdateSettings reads an organisation's settings, calls fn and
	// stores what it left, in one transaction; nothing is stored if fn
	// returns an error.
	UpdateSettings(ctx context.Context, org string, fn func(*Settings) error) error
}

// SettingsInput is a supervisor's change of the settings.
type SettingsInput struct {
	// Domain is the dedup domain's id; "" leaves the organisation's
	// own domain to be made by the first scan (or keeps the one set).
	Domain        string
	ServicePoints []string
}

// checkServicePoint reports a service point name that is empty, too
// long, not UTF-8, or holds control characters.
func checkServicePoint(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return invalid(field, "required", "name the service point")
	case len(s) > MaxServicePointName:
		return invalid(field, "too_long", "a service point's name is at most %d bytes", MaxServicePointName)
	case !utf8.ValidString(s):
		return invalid(field, "format", "the service point's name is not valid text")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return invalid(field, "format", "the service point's name holds control characters")
	}
	return nil
}

// checkIdentifier reports an identifier (a domain id, a programme code)
// that is too long or has other characters than letters, digits, '.', '-'
// and '_', starting with a letter or a digit. "" passes: callers say
// when it is required.
func checkIdentifier(field, s string) error {
	if len(s) > maxIdentifier {
		return invalid(field, "too_long", "at most %d characters", maxIdentifier)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letterOrDigit := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !letterOrDigit && (i == 0 || c != '.' && c != '-' && c != '_') {
			return invalid(field, "format", "use letters, digits, dots, hyphens and underscores, starting with a letter or digit")
		}
	}
	return nil
}

// cleanServicePoints trims the names, drops empty lines and checks the
// rest.
func cleanServicePoints(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, n := range in {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if err := checkServicePoint("servicePoints", n); err != nil {
			return nil, err
		}
		if slices.Contains(out, n) {
			return nil, invalid("servicePoints", "duplicate", "a service point is named twice")
		}
		out = append(out, n)
	}
	if len(out) > MaxServicePoints {
		return nil, invalid("servicePoints", "too_long", "at most %d service points", MaxServicePoints)
	}
	return out, nil
}
