package audit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Entry is one record of the audit log: who (Actor) did what (Action, to
// Objects) in which organisation, when, for which purpose and with which
// outcome. Log.Append fills Seq, Time, Prev and Hash; the caller fills the
// rest. No field can hold personal data: the actor and the objects are
// opaque identifiers, and everything else is a word of a fixed vocabulary.
type Entry struct {
	// Seq is the entry's place in the log, from 1.
	Seq uint64
	// Time is when it was appended, in UTC, from the Log's clock.
	Time time.Time
	// Actor is who did it.
	Actor Actor
	// Org is the organisation's slug; empty for an action on the instance
	// as a whole (creating an organisation on a host, say).
	Org string
	// Action is what was done.
	Action Action
	// Objects are what it was done to, by opaque id, at most MaxObjects.
	Objects []Object
	// Purpose is why.
	Purpose Purpose
	// Outcome is how it ended.
	Outcome Outcome
	// Prev is the Hash of the entry before, zero for the first.
	Prev Hash
	// Hash is SHA-256 over the entry's encoding (docs/audit.md), Prev
	// included: it vouches for the entry and for every entry before it.
	Hash Hash
}

// Actor is who did something: a staff member, an API token, tally itself,
// or someone not signed in, always by an identifier, never by a name.
type Actor struct {
	Kind ActorKind `json:"kind"`
	// ID is the staff member's or token's internal id, or the job's name
	// for ActorSystem; empty for ActorAnonymous.
	ID string `json:"id,omitempty"`
}

// Staff is the actor for the staff member whose internal id is id.
func Staff(id string) Actor { return Actor{Kind: ActorStaff, ID: id} }

// Token is the actor for the API token whose id is id.
func Token(id string) Actor { return Actor{Kind: ActorToken, ID: id} }

// System is the actor for one of tally's own jobs ("retention").
func System(job string) Actor { return Actor{Kind: ActorSystem, ID: job} }

// Anonymous is the actor for someone not signed in.
func Anonymous() Actor { return Actor{Kind: ActorAnonymous} }

// Object is a thing an action was done to, by an opaque id: a
// registration's internal id, a credential's id, a key's id.
type Object struct {
	Kind ObjectKind `json:"kind"`
	ID   string     `json:"id"`
}

// Limits of an entry's fields.
const (
	// MaxObjects is the most objects one entry names. A bulk action names
	// its batch; each credential it issues gets an entry of its own.
	MaxObjects = 64
	// MaxIDLen is the longest identifier, in bytes: room for a did:web
	// key id with a long host name.
	MaxIDLen = 256
	// maxCodeLen is the longest organisation slug or programme code.
	maxCodeLen = 64
)

// Hash is a SHA-256 digest.
type Hash [32]byte

// String returns h in lower-case hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros: the Prev of the first entry, and
// the head of an empty log.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText writes h in lower-case hexadecimal.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads 64 lower-case hexadecimal digits.
func (h *Hash) UnmarshalText(text []byte) error {
	if len(text) != 2*len(h) {
		return fmt.Errorf("a hash is %d hexadecimal digits, not %d", 2*len(h), len(text))
	}
	for _, c := range text {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return errors.New("a hash is written in lower-case hexadecimal digits")
		}
	}
	_, err := hex.Decode(h[:], text)
	return err
}

// ErrInvalidEntry is what an EntryError is: an entry that cannot be
// appended (or that a stored record decodes to).
var ErrInvalidEntry = errors.New("invalid audit entry")

// EntryError names the field of an entry that is not allowed, and why. It
// never repeats the value refused, which may be the personal data it keeps
// out of the log.
type EntryError struct {
	Field   string
	Problem string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("audit entry: %s: %s", e.Field, e.Problem)
}

// Unwrap makes errors.Is(err, ErrInvalidEntry) hold.
func (e *EntryError) Unwrap() error { return ErrInvalidEntry }

func fieldError(field, format string, args ...any) error {
	return &EntryError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// validate checks the fields the caller fills, and with sealed also those
// Append fills (Seq and Time; Prev and Hash are any 32 bytes).
func (e *Entry) validate(sealed bool) error {
	if sealed {
		if e.Seq == 0 {
			return fieldError("seq", "entries are numbered from 1")
		}
		// The encoding counts nanoseconds since 1970 in a signed 64-bit
		// integer, which ends in 2262.
		if y := e.Time.Year(); y < 1970 || y > 2261 {
			return fieldError("time", "%s is outside 1970 to 2261", e.Time.Format(time.RFC3339))
		}
	}
	if err := e.Actor.validate(); err != nil {
		return err
	}
	if e.Org != "" && !validSlug(e.Org) {
		return fieldError("org", "an organisation slug is 1 to %d lower-case letters, digits and hyphens, starting with a letter or digit", maxCodeLen)
	}
	if !e.Action.Valid() {
		return fieldError("action", "not an action of the vocabulary")
	}
	if len(e.Objects) > MaxObjects {
		return fieldError("objects", "%d objects, at most %d", len(e.Objects), MaxObjects)
	}
	for i, o := range e.Objects {
		if !o.Kind.Valid() {
			return fieldError(fmt.Sprintf("objects[%d].kind", i), "not a kind of object of the vocabulary")
		}
		if err := checkID(o.ID); err != nil {
			return fieldError(fmt.Sprintf("objects[%d].id", i), "%v", err)
		}
	}
	if !e.Purpose.Valid() {
		return fieldError("purpose", "neither a purpose of the vocabulary nor %q followed by a programme code", programmePrefix)
	}
	if !e.Outcome.Valid() {
		return fieldError("outcome", "not an outcome of the vocabulary")
	}
	return nil
}

func (a Actor) validate() error {
	if !a.Kind.Valid() {
		return fieldError("actor.kind", "not a kind of actor of the vocabulary")
	}
	if a.Kind == ActorAnonymous {
		if a.ID != "" {
			return fieldError("actor.id", "an anonymous actor has no id")
		}
		return nil
	}
	if err := checkID(a.ID); err != nil {
		return fieldError("actor.id", "%v", err)
	}
	return nil
}

// checkID checks that id looks like an identifier a system made, not like
// what a person would type about themselves: 1 to MaxIDLen bytes of ASCII
// letters, digits and . _ : # % / = ~ - (no spaces, so no full names; no
// @, so no e-mail addresses; no letters outside ASCII, so no names in
// other scripts), and no calendar date written YYYY-MM-DD (a date of
// birth). A one-word name still passes: the guard is that callers pass
// ids, and these checks catch the mistakes that are easy to make.
func checkID(id string) error { return CheckID(id) }

// CheckID tells whether id may name an actor or an object of an entry
// (see checkID): callers with ids of other people's making check them
// first, and name the object by a keyed hash when they fail.
func CheckID(id string) error {
	if id == "" {
		return errors.New("an id is needed")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%d bytes, at most %d", len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			return fmt.Errorf("byte %d is not allowed in an id (ids are ASCII letters, digits and . _ : # %% / = ~ -)", i)
		}
	}
	if hasDate(id) {
		return errors.New("it holds a date written YYYY-MM-DD, which may be a date of birth: use an opaque id")
	}
	return nil
}

func idByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '.', '_', ':', '#', '%', '/', '=', '~', '-':
		return true
	}
	return false
}

// hasDate reports whether s holds a calendar date written YYYY-MM-DD that
// is not part of a longer run of digits.
func hasDate(s string) bool {
	digits := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	isDigit := func(i int) bool { return i >= 0 && i < len(s) && '0' <= s[i] && s[i] <= '9' }
	for i := 0; i+10 <= len(s); i++ {
		if s[i+4] != '-' || s[i+7] != '-' || isDigit(i-1) || isDigit(i+10) {
			continue
		}
		_, okY := digits(s[i : i+4])
		m, okM := digits(s[i+5 : i+7])
		d, okD := digits(s[i+8 : i+10])
		if okY && okM && okD && 1 <= m && m <= 12 && 1 <= d && d <= 31 {
			return true
		}
	}
	return false
}

// validSlug reports whether s is an organisation slug: lower-case letters,
// digits and hyphens, starting with a letter or digit.
func validSlug(s string) bool {
	if s == "" || len(s) > maxCodeLen || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validCode reports whether s is a programme code: ASCII letters, digits,
// dots, underscores and hyphens, starting with a letter or digit
// ("MPCA-2026").
func validCode(s string) bool {
	if s == "" || len(s) > maxCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}
