package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tally-id/tally/credentials"
)

// Registration is a person registered by an organisation, once, with
// their informed consent: who they are (the claims of a
// RegistrationCredential), their dedup seed, the consent they gave, and
// the visits linked to them since.
//
// At rest, everything personal (Person, Seed, Consent, Links) is sealed
// under the organisation's data key; what stays in the clear is the
// internal id, the organisation, the programme, the revision, who
// created and changed it and when, and which fields corrections changed.
type Registration struct {
	// ID is tally's internal id of the registration: opaque, in URLs and
	// the audit log. It is not Person.RegistrationID, which is printed on
	// cards and identifies a person.
	ID  string `json:"id"`
	Org string `json:"org"`
	// Programme is the code of the programme the person was registered
	// for, and consented to.
	Programme string `json:"programme"`
	// Person holds the registration claims. Its DedupSeed is always empty:
	// the seed is in Seed, and never leaves tally but on credentials.
	Person credentials.Registration `json:"person"`
	// Seed is the person's 16-byte dedup seed, drawn at registration and
	// kept through corrections: re-issued credentials carry the same one.
	Seed    credentials.Seed `json:"-"`
	Consent Consent          `json:"consent"`
	// Links are the later visits recorded against this registration
	// instead of a duplicate one.
	Links       []Link       `json:"links"`
	Corrections []Correction `json:"corrections"`
	Created     time.Time    `json:"created"`
	// CreatedBy and UpdatedBy are a staff member's id, or "token:" and an
	// API token's id.
	CreatedBy string    `json:"createdBy"`
	Updated   time.Time `json:"updated"`
	UpdatedBy string    `json:"updatedBy"`
	// Rev counts the registration's changes, from 1.
	Rev int `json:"rev"`
	// Erasure, when set, says that the registration's personal data was
	// erased: Person, Seed, Consent and Links are empty, for good. Its
	// credentials' records and status entries, and the audit log, stay.
	Erasure *Erasure `json:"erasure,omitempty"`
}

// Erased reports whether the registration's personal data was erased.
func (r Registration) Erased() bool { return r.Erasure != nil }

// ConsentMethod is how a person gave consent.
type ConsentMethod string

// The consent methods.
const (
	// ConsentVerbal: the person said yes after hearing the purpose.
	ConsentVerbal ConsentMethod = "verbal"
	// ConsentWritten: the person signed or marked a consent form.
	ConsentWritten ConsentMethod = "written"
	// ConsentGuardian: a parent or guardian consented for the person.
	ConsentGuardian ConsentMethod = "guardian"
)

// ConsentMethods lists the methods, in the order forms show them.
func ConsentMethods() []ConsentMethod {
	return []ConsentMethod{ConsentVerbal, ConsentWritten, ConsentGuardian}
}

// Consent records a person's informed consent: to which programme's
// purpose (in the words they heard), how, when, in which language, and
// which staff member took it.
type Consent struct {
	// ID is the consent record's opaque id, for the audit log.
	ID        string `json:"id"`
	Programme string `json:"programme"`
	// Purpose is the programme's purpose as it was when consent was given.
	Purpose string        `json:"purpose"`
	Method  ConsentMethod `json:"method"`
	// Language is the BCP 47 tag of the language the purpose was explained
	// in.
	Language string `json:"language"`
	// Date is the day consent was given, YYYY-MM-DD.
	Date string `json:"date"`
	// StaffID is the staff member who explained the purpose and took the
	// consent.
	StaffID string `json:"staffId"`
	// Recorded is when tally recorded it.
	Recorded time.Time `json:"recorded"`
}

// Link is a visit recorded against an existing registration instead of a
// new, duplicate one: the person came again, perhaps for another
// programme, and consented to its purpose.
type Link struct {
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	Programme string    `json:"programme"`
	Consent   Consent   `json:"consent"`
}

// Correction says who corrected which fields of a registration, and
// when; the old values are not kept.
type Correction struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Fields []string  `json:"fields"`
	// Rev is the revision the correction made.
	Rev int `json:"rev"`
}

// Consented reports whether the person consented to programme's purpose,
// at registration or at a linked visit. No consent, no credential: the
// issuance of a credential for a programme checks this first.
func (r Registration) Consented(programme string) bool {
	if r.Consent.Programme == programme && r.Consent.ID != "" {
		return true
	}
	return slices.ContainsFunc(r.Links, func(l Link) bool { return l.Programme == programme && l.Consent.ID != "" })
}

// Subject returns the registration as the subject of a
// RegistrationCredential, with its dedup seed.
func (r Registration) Subject() *credentials.Registration {
	sub := r.Person
	sub.DedupSeed = append(credentials.Seed(nil), r.Seed...)
	return &sub
}

// IndexKind is what a blind index is of.
type IndexKind string

// The kinds of blind index. Each holds an HMAC of a normalised value under
// the organisation's index key (never the value).
const (
	// IndexRegistrationID is the registration ID, exactly. It is unique
	// within an organisation.
	IndexRegistrationID IndexKind = "id"
	// IndexName is the whole name's key (names.FullKey).
	IndexName IndexKind = "name"
	// IndexNamePart is the key of one part of the name (names.Key).
	IndexNamePart IndexKind = "part"
	// IndexDateOfBirth is the date of birth as far as it is known.
	IndexDateOfBirth IndexKind = "dob"
	// IndexYearOfBirth is the year of birth.
	IndexYearOfBirth IndexKind = "yob"
)

// IndexSize is the length of a blind index value in bytes.
const IndexSize = 16

// IndexKey is one blind index entry of a registration.
type IndexKey struct {
	Kind  IndexKind `json:"k"`
	Value []byte    `json:"v"`
}

// Unique reports whether no two registrations of an organisation may hold
// the key.
func (k IndexKey) Unique() bool { return k.Kind == IndexRegistrationID }

// SealedRegistration is a registration as stored: its personal record
// sealed, its blind indexes beside it.
type SealedRegistration struct {
	ID          string       `json:"id"`
	Org         string       `json:"org"`
	Programme   string       `json:"programme"`
	Created     time.Time    `json:"created"`
	CreatedBy   string       `json:"createdBy"`
	Updated     time.Time    `json:"updated"`
	UpdatedBy   string       `json:"updatedBy"`
	Rev         int          `json:"rev"`
	Corrections []Correction `json:"corrections,omitempty"`
	// DataKey is the version of the organisation's data key that sealed
	// the record.
	DataKey int `json:"dataKey"`
	// Sealed is the personal record: AES-256-GCM, the nonce first.
	Sealed []byte `json:"sealed"`
	// Index are the record's blind index entries.
	Index []IndexKey `json:"index"`
	// Erasure, when set, makes the record a tombstone: Sealed and Index
	// are empty, and nothing personal is left.
	Erasure *Erasure `json:"erasure,omitempty"`
}

// RegistrationStore keeps sealed registrations.
type RegistrationStore interface {
	// CreateRegistration stores a new registration and its index entries;
	// ErrConflict if its id, or a unique index entry, is taken.
	CreateRegistration(ctx context.Context, r SealedRegistration) error
	// Registration returns one registration of org, or ErrNotFound.
	Registration(ctx context.Context, org, id string) (SealedRegistration, error)
	// UpdateRegistration replaces a registration whose stored revision is
	// r.Rev-1, and its index entries, in one step: ErrConflict if the
	// stored revision is another, or a unique index entry is taken;
	// ErrNotFound if there is none. A tombstone (r.Erasure set, no sealed
	// record, no index) replaces a registration the same way.
	UpdateRegistration(ctx context.Context, r SealedRegistration) error
	// ListRegistrations returns up to limit registrations of org whose
	// ids sort after after, in id order: pages of a walk over them all.
	ListRegistrations(ctx context.Context, org, after string, limit int) ([]SealedRegistration, error)
	// ReplaceRegistrations updates several registrations as
	// UpdateRegistration does, all in one step: if one fails, none is
	// changed.
	ReplaceRegistrations(ctx context.Context, rs []SealedRegistration) error
	// RegistrationGeneration returns a number that changes whenever a
	// registration of org is updated, or one is stored holding any of
	// keys (so that registrations of other people, as a bulk import makes
	// them by the hundred, do not hold each other up).
	RegistrationGeneration(ctx context.Context, org string, keys []IndexKey) (uint64, error)
	// CreateRegistrationIf stores a new registration as
	// CreateRegistration does, but only if RegistrationGeneration of org
	// and keys is still gen: ErrRaced if it moved on since.
	CreateRegistrationIf(ctx context.Context, r SealedRegistration, keys []IndexKey, gen uint64) error
}

// IndexHit is a registration that holds some of the index keys looked
// for.
type IndexHit struct {
	ID string
	// Keys are the keys looked for that it holds.
	Keys []IndexKey
}

// RegistrationIndex finds registrations by their blind indexes.
type RegistrationIndex interface {
	// FindRegistrations returns the registrations of org that hold any of
	// keys, each once, with the keys it holds; at most limit registrations
	// per key.
	FindRegistrations(ctx context.Context, org string, keys []IndexKey, limit int) ([]IndexHit, error)
}

// personalRecord is what a SealedRegistration seals.
type personalRecord struct {
	Person  credentials.Registration `json:"person"`
	Consent Consent                  `json:"consent"`
	Links   []Link                   `json:"links,omitempty"`
}

// recordAD binds a sealed record to its organisation, registration and
// data key version, so that one cannot be moved to another.
func recordAD(org, id string, version int) []byte {
	return fmt.Appendf(nil, "tally-registration-v1\x00%s\x00%s\x00%d", org, id, version)
}

// sealRecord seals reg's personal record into sr.
func (s *Service) sealRecord(k *orgSecrets, reg Registration, sr *SealedRegistration) error {
	person := reg.Person
	person.DedupSeed = reg.Seed
	plain, err := json.Marshal(personalRecord{Person: person, Consent: reg.Consent, Links: reg.Links})
	if err != nil {
		return err
	}
	sealed, err := k.seal(s.rand, plain, recordAD(reg.Org, reg.ID, k.version))
	clear(plain)
	if err != nil {
		return err
	}
	sr.Sealed, sr.DataKey = sealed, k.version
	return nil
}

// openRecord opens a sealed registration with the organisation's data
// key of the version that sealed it. A tombstone opens to a registration
// with nothing personal in it.
func (s *Service) openRecord(ring *keyring, sr SealedRegistration) (Registration, error) {
	corrections := sr.Corrections
	if corrections == nil {
		corrections = []Correction{}
	}
	if sr.Erasure != nil {
		return Registration{
			ID: sr.ID, Org: sr.Org, Programme: sr.Programme, Links: []Link{}, Corrections: corrections,
			Created: sr.Created, CreatedBy: sr.CreatedBy, Updated: sr.Updated, UpdatedBy: sr.UpdatedBy, Rev: sr.Rev,
			Erasure: sr.Erasure,
		}, nil
	}
	k := ring.version(sr.DataKey)
	if k == nil {
		return Registration{}, fmt.Errorf("registration %s: sealed under data key %d, which is not kept: %w", sr.ID, sr.DataKey, errDamaged)
	}
	if sr.DataKey != k.version {
		return Registration{}, fmt.Errorf("registration %s: sealed under data key %d, not %d: %w", sr.ID, sr.DataKey, k.version, errDamaged)
	}
	plain, err := k.open(sr.Sealed, recordAD(sr.Org, sr.ID, sr.DataKey))
	if err != nil {
		return Registration{}, fmt.Errorf("registration %s: %w", sr.ID, err)
	}
	var rec personalRecord
	err = json.Unmarshal(plain, &rec)
	clear(plain)
	if err != nil {
		return Registration{}, fmt.Errorf("registration %s: damaged record: %w", sr.ID, err)
	}
	seed := rec.Person.DedupSeed
	rec.Person.DedupSeed = nil
	// Empty lists are lists, in JSON too.
	if rec.Links == nil {
		rec.Links = []Link{}
	}
	return Registration{
		ID: sr.ID, Org: sr.Org, Programme: sr.Programme, Person: rec.Person, Seed: seed,
		Consent: rec.Consent, Links: rec.Links, Corrections: corrections,
		Created: sr.Created, CreatedBy: sr.CreatedBy, Updated: sr.Updated, UpdatedBy: sr.UpdatedBy, Rev: sr.Rev,
	}, nil
}

// Registration returns one of organisation org's registrations, opened.
func (s *Service) Registration(ctx context.Context, org, id string) (Registration, error) {
	sr, err := s.registrations.Registration(ctx, org, id)
	if err != nil {
		return Registration{}, err
	}
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return Registration{}, err
	}
	return s.openRecord(ring, sr)
}
