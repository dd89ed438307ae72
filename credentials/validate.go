package credentials

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldError says what is wrong with one field of a credential. Field is a
// dotted path such as "credentialSubject.dateOfBirth". Problem says what
// the value must be, never what it is: values are personal data, and
// errors end up in logs.
type FieldError struct {
	Field   string
	Problem string
}

// Error says which field is wrong and how: "credentialSubject.gender: must be ...".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError lists every problem found in a credential.
type ValidationError struct {
	Problems []*FieldError
}

// Error lists every problem, separated by semicolons.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return "invalid credential: " + strings.Join(parts, "; ")
}

func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

type validator struct {
	prefix string
	// partial is set for a selectively disclosed subject: a claim that is
	// absent may simply not have been disclosed.
	partial  bool
	problems []*FieldError
}

// missing records that a required field is absent, unless the subject is
// only partly disclosed.
func (v *validator) missing(field string) {
	if !v.partial {
		v.add(field, "is missing")
	}
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, fieldError(v.prefix+field, format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

const maxText = 200

// The shapes of codes and identifiers. They are byte loops, not regular
// expressions: they run on every verification, and a regexp match costs
// more than the rest of validation (validate_shape_test.go checks them
// against the expressions they stand for).

// isCountryCode reports whether s matches ^[A-Z]{2}$.
func isCountryCode(s string) bool { return len(s) == 2 && allIn(s, 'A', 'Z') }

// isLanguageCode reports whether s matches ^[a-z]{2,3}$.
func isLanguageCode(s string) bool { return (len(s) == 2 || len(s) == 3) && allIn(s, 'a', 'z') }

// isCurrencyCode reports whether s matches ^[A-Z]{3}$.
func isCurrencyCode(s string) bool { return len(s) == 3 && allIn(s, 'A', 'Z') }

// isRecordID reports whether s matches ^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$.
func isRecordID(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '/' && c != '-' {
			return false
		}
	}
	return true
}

func allIn(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Validate checks the credential: the envelope fields (type, issuer,
// validity, status) and the claims of its subject. The error is a
// *ValidationError naming every field that is wrong.
func (c *Credential) Validate() error { return c.validate(false) }

// ValidateDisclosed checks a credential whose subject was selectively
// disclosed (SD-JWT): a claim may be absent, but what is there must be right.
func (c *Credential) ValidateDisclosed() error { return c.validate(true) }

func (c *Credential) validate(partial bool) error {
	v := &validator{partial: partial}
	if _, err := ParseType(string(c.Type)); err != nil {
		v.add("type", "%v", err)
	}
	if c.Issuer == "" {
		v.add("issuer", "is missing")
	} else if !IsDID(c.Issuer) {
		v.add("issuer", "must be a DID (did:key:... or did:web:...)")
	}
	if !c.ValidUntil.IsZero() && !c.ValidFrom.IsZero() && !c.ValidUntil.After(c.ValidFrom) {
		v.add("validUntil", "must be after validFrom")
	}
	for i, e := range c.Status {
		f := func(member string) string { return fmt.Sprintf("credentialStatus[%d].%s", i, member) }
		if e.Purpose != PurposeRevocation && e.Purpose != PurposeSuspension {
			v.add(f("statusPurpose"), "must be revocation or suspension")
		}
		if e.ListCredential == "" {
			v.add(f("statusListCredential"), "is missing")
		}
		if e.Index < 0 {
			v.add(f("statusListIndex"), "must not be negative")
		}
	}
	switch {
	case c.Subject == nil:
		v.add("credentialSubject", "is missing")
	case c.Subject.CredentialType() != c.Type:
		v.add("credentialSubject", "holds %s claims but the credential is a %s", c.Subject.CredentialType(), c.Type)
	default:
		v.prefix = "credentialSubject."
		c.Subject.validate(v)
	}
	return v.err()
}

// IsDID reports whether s looks like a DID (or a DID URL with a fragment):
// "did:", a method name of lower-case letters and digits, ":", and an
// identifier of letters, digits and the characters . _ : % # / -.
func IsDID(s string) bool {
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok || len(s) >= 2048 {
		return false
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok || method == "" || id == "" {
		return false
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '%', c == '#', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

func (v *validator) text(field, value string, required bool) {
	switch {
	case value == "":
		if required {
			v.missing(field)
		}
	case !utf8.ValidString(value):
		v.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(value) > maxText:
		v.add(field, "is longer than %d characters", maxText)
	case strings.TrimSpace(value) != value:
		v.add(field, "has spaces at its start or end")
	}
}

func (v *validator) registrationID(value string) {
	if value == "" {
		v.missing("registrationId")
	} else if !isRecordID(value) {
		v.add("registrationId", "must be 1 to 64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
	}
}

func (v *validator) enum(field, value string, required bool) {
	if value == "" {
		if required {
			v.missing(field)
		}
		return
	}
	c := schemaClaim(field)
	for _, ok := range c.Values {
		if value == ok {
			return
		}
	}
	v.add(field, "must be one of %s", strings.Join(c.Values, ", "))
}

func (v *validator) seed(s Seed) {
	if s != nil && len(s) != SeedSize {
		v.add("dedupSeed", "must be %d bytes, not %d", SeedSize, len(s))
	}
}

// ParseDate reads a date of birth: YYYY-MM-DD, or YYYY-MM or YYYY when only
// part of it is known. Its error does not quote s.
func ParseDate(s string) (year, month, day int, err error) {
	layouts := []string{"2006-01-02", "2006-01", "2006"}
	for _, l := range layouts {
		if len(s) != len(l) {
			continue
		}
		t, perr := time.Parse(l, s)
		if perr != nil {
			break
		}
		year = t.Year()
		if len(s) >= 7 {
			month = int(t.Month())
		}
		if len(s) == 10 {
			day = t.Day()
		}
		return year, month, day, nil
	}
	return 0, 0, 0, errors.New("is not a date like 1991-03-14 (or 1991-03, or 1991)")
}

func (v *validator) date(field, value string, required bool) {
	if value == "" {
		if required {
			v.missing(field)
		}
		return
	}
	if _, _, _, err := ParseDate(value); err != nil {
		v.add(field, "%v", err)
	}
}

func (r *Registration) validate(v *validator) {
	v.registrationID(r.RegistrationID)
	v.text("fullName", r.FullName, true)
	v.text("firstName", r.FirstName, false)
	v.text("lastName", r.LastName, false)
	v.date("dateOfBirth", r.DateOfBirth, false)
	v.enum("gender", r.Gender, false)
	if r.Nationality != "" && !isCountryCode(r.Nationality) {
		v.add("nationality", "must be an ISO 3166-1 alpha-2 country code like SO")
	}
	v.text("legalStatus", r.LegalStatus, false)
	v.text("locationCode", r.LocationCode, false)
	if r.Language != "" && !isLanguageCode(r.Language) {
		v.add("language", "must be an ISO 639 language code like som")
	}
	v.text("programme", r.Programme, false)
	if r.HouseholdSize < 0 || r.HouseholdSize > 200 {
		v.add("householdSize", "must be between 0 and 200")
	}
	if r.ID != "" && !IsDID(r.ID) {
		v.add("id", "must be the holder's DID")
	}
	v.seed(r.DedupSeed)
}

func (e *Eligibility) validate(v *validator) {
	v.registrationID(e.RegistrationID)
	v.text("programme", e.Programme, true)
	v.text("purpose", e.Purpose, false)
	if e.HouseholdSize < 0 || e.HouseholdSize > 200 {
		v.add("householdSize", "must be between 0 and 200")
	}
	if en := e.Entitlement; en != nil {
		if en.Amount < 0 {
			v.add("entitlement.amount", "must not be negative")
		}
		if !isCurrencyCode(en.Currency) {
			v.add("entitlement.currency", "must be an ISO 4217 currency code like KES")
		}
		switch en.Frequency {
		case "", "once", "weekly", "monthly":
		default:
			v.add("entitlement.frequency", "must be once, weekly or monthly")
		}
		if en.Instalments < 0 || en.Instalments > 1000 {
			v.add("entitlement.instalments", "must be between 0 and 1000")
		}
	}
	if e.ID != "" && !IsDID(e.ID) {
		v.add("id", "must be the holder's DID")
	}
	v.seed(e.DedupSeed)
}

func (r *Referral) validate(v *validator) {
	v.registrationID(r.RegistrationID)
	if r.ReferredTo == "" {
		v.missing("referredTo")
	} else if !IsDID(r.ReferredTo) {
		v.add("referredTo", "must be the DID of the organisation referred to")
	}
	v.text("service", r.Service, true)
	v.enum("urgency", r.Urgency, false)
	v.text("reason", r.Reason, false)
	if r.Consent == nil {
		if !v.partial {
			v.add("consent", "is missing: no consent, no referral")
		}
	} else {
		v.text("consent.purpose", r.Consent.Purpose, true)
		switch r.Consent.Method {
		case "verbal", "written", "digital":
		case "":
			v.add("consent.method", "is missing")
		default:
			v.add("consent.method", "must be verbal, written or digital")
		}
		if r.Consent.Date == "" {
			v.add("consent.date", "is missing")
		} else if _, err := time.Parse("2006-01-02", r.Consent.Date); err != nil {
			v.add("consent.date", "is not a date like 2026-11-03")
		}
	}
	for name, value := range r.SharedFields {
		field := "sharedFields." + name
		c, ok := LookupClaim(name)
		if !ok {
			// An unknown name could be anything: it is not echoed.
			v.add("sharedFields", "has a member that is not a registration claim that a referral can pass on")
			continue
		}
		if !c.Defines(TypeRegistration) || c.Kind == KindBytes {
			v.add(field, "is not a registration claim that a referral can pass on")
			continue
		}
		if r.Consent == nil || !slices.Contains(r.Consent.Fields, name) {
			v.add(field, "is shared without consent: add it to consent.fields or remove it")
		}
		v.text(field, value, true)
	}
	if r.ID != "" && !IsDID(r.ID) {
		v.add("id", "must be the holder's DID")
	}
	v.seed(r.DedupSeed)
}
