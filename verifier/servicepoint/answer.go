package servicepoint

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// Verdicts of an Answer: the colour a page shows.
const (
	// Valid: the credential is valid, with nothing to watch for, and the
	// person is new in the domain (or no token could be derived).
	Valid = "valid"
	// Warning: the credential is valid, but something needs a look: the
	// person was seen before in the domain, its status is stale or was
	// not checked, or the verifier warned.
	Warning = "warning"
	// Invalid: the credential was refused; Reason says why.
	Invalid = "invalid"
)

// Answer is what a service point learns of a credential shown there.
// It holds no dedup seed, no token and no raw credential; of the person,
// only what recognises them: the full name and the year of birth.
type Answer struct {
	// Verdict is Valid, Warning or Invalid.
	Verdict string `json:"verdict"`
	// Reason is why an invalid credential was refused (zero when valid);
	// ReasonCode is its stable code ("REVOKED"), Detail the verifier's
	// plain words (never quoting the credential's claims).
	Reason     verifier.Reason `json:"-"`
	ReasonCode string          `json:"reason,omitempty"`
	Detail     string          `json:"detail,omitempty"`

	// Person is who the credential is about: nil for an invalid
	// credential, and for credentials that do not name the person.
	Person *Person `json:"person,omitempty"`
	// Type is the credential type (for a credential not of tally's types,
	// its last declared type); Types all declared types.
	Type  string   `json:"type,omitempty"`
	Types []string `json:"types,omitempty"`
	// Format is the securing format (qr, jwt, sd-jwt, di).
	Format string `json:"format,omitempty"`
	// Issuer is the issuer's identifier, IssuerName its name in the trust
	// list.
	Issuer     string `json:"issuer,omitempty"`
	IssuerName string `json:"issuerName,omitempty"`
	// ValidFrom and ValidUntil are the credential's validity (zero when
	// unbounded).
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	// Status is how fresh the status information is.
	Status *Freshness `json:"status,omitempty"`
	// Warnings are the verifier's, in plain words.
	Warnings []string `json:"warnings,omitempty"`
	// Dedup is the outcome in the organisation's dedup domain; nil when
	// the credential is invalid or carries no dedup seed (NoDedup says so).
	Dedup   *Dedup `json:"dedup,omitempty"`
	NoDedup bool   `json:"noDedupSeed,omitempty"`
	// Claims are, for a credential not of tally's types, its claims as the
	// issuer signed them (verifier.Result.View), to show as a table.
	Claims json.RawMessage `json:"claims,omitempty"`
	// CheckedAt is the time of the check; ServicePoint and Programme
	// where and for what it was made.
	CheckedAt    time.Time `json:"checkedAt"`
	ServicePoint string    `json:"servicePoint"`
	Programme    string    `json:"programme,omitempty"`
}

// Person is the least that recognises a person: the name, the year of
// birth (never the full date).
type Person struct {
	FullName  string `json:"fullName,omitempty"`
	BirthYear int    `json:"birthYear,omitempty"`
}

// Freshness is what is known of the credential's status.
type Freshness struct {
	// HasStatus is false for a credential that cannot be revoked or
	// suspended (it names no status list).
	HasStatus bool `json:"hasStatus"`
	// Checked is true when the status was read.
	Checked bool `json:"checked"`
	// CheckedAt is when the issuer signed the status list used; Age how
	// old it was at the check.
	CheckedAt  time.Time     `json:"checkedAt,omitzero"`
	Age        time.Duration `json:"-"`
	AgeSeconds int64         `json:"ageSeconds,omitempty"`
	// Stale is true when the list is older than its lifetime.
	Stale bool `json:"stale"`
	// Warning says why the status was not checked or is stale.
	Warning string `json:"warning,omitempty"`
}

// Dedup is the person's outcome in a dedup domain.
type Dedup struct {
	Domain string `json:"domain"`
	// New is true the first time the person is seen in the domain.
	New bool `json:"new"`
	// SeenBefore counts the scans before this one; First* and Last* say
	// when, where and for which programme (zero when New).
	SeenBefore        int       `json:"seenBefore"`
	FirstSeen         time.Time `json:"firstSeen,omitzero"`
	FirstServicePoint string    `json:"firstServicePoint,omitempty"`
	FirstProgramme    string    `json:"firstProgramme,omitempty"`
	LastSeen          time.Time `json:"lastSeen,omitzero"`
	LastServicePoint  string    `json:"lastServicePoint,omitempty"`
	LastProgramme     string    `json:"lastProgramme,omitempty"`
}

// personOf is the person a tally credential names, reduced to name and
// year of birth.
func personOf(c *credentials.Credential) *Person {
	reg, ok := c.Subject.(*credentials.Registration)
	if !ok || reg.FullName == "" {
		return nil
	}
	return &Person{FullName: reg.FullName, BirthYear: birthYear(reg.DateOfBirth)}
}

// birthYear is the year of a YYYY, YYYY-MM or YYYY-MM-DD date; 0 if
// there is none.
func birthYear(date string) int {
	if len(date) < 4 {
		return 0
	}
	y := 0
	for _, c := range date[:4] {
		if c < '0' || c > '9' {
			return 0
		}
		y = y*10 + int(c-'0')
	}
	if len(date) > 4 && date[4] != '-' {
		return 0
	}
	return y
}

func freshnessOf(st verifier.StatusResult) *Freshness {
	f := &Freshness{HasStatus: st.HasStatus, Checked: st.Checked, Stale: st.Stale, Warning: st.Problem}
	if st.Checked {
		f.CheckedAt, f.Age, f.AgeSeconds = st.CheckedAt.UTC(), st.Age, int64(st.Age/time.Second)
	}
	return f
}

// foreignPerson finds the name and year of birth in the claims of a
// credential that is not of tally's types, under the names the main
// vocabularies use (Claim 169 as tally reads it, OpenID Connect and SD-JWT
// VC, schema.org); nil when it names no one.
func foreignPerson(claims json.RawMessage) *Person {
	var m map[string]any
	if len(claims) == 0 || json.Unmarshal(claims, &m) != nil {
		return nil
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	p := &Person{FullName: str("fullName", "name", "full_name")}
	if p.FullName == "" {
		given, family := str("firstName", "given_name", "givenName"), str("lastName", "family_name", "familyName")
		p.FullName = strings.TrimSpace(given + " " + family)
	}
	p.FullName = foreignName(p.FullName)
	p.BirthYear = birthYear(str("dateOfBirth", "birthdate", "birthDate"))
	if p.FullName == "" {
		return nil
	}
	return p
}

// maxForeignName bounds another issuer's name line as the answer's claims
// table bounds a claim's value.
const maxForeignName = 300

// foreignName is another issuer's name as the answer shows it: control
// characters and explicit bidi embeddings, overrides and isolates (which
// could show a name reversed) made spaces, spaces collapsed, at most
// maxForeignName bytes then "…".
func foreignName(name string) string {
	name = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(name, ""), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	}), " ")
	if len(name) > maxForeignName {
		name = strings.ToValidUTF8(name[:maxForeignName], "") + "…"
	}
	return name
}
