package issuer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// StatusListSize is the number of entries of each of an organisation's
// status lists: the least Bitstring Status List v1.0 allows, so that an
// index tells nothing about the person.
const StatusListSize = credentials.MinStatusListSize

// CredentialState is the status of an issued credential.
type CredentialState string

// The states of an issued credential. Revoked is final.
const (
	StateActive    CredentialState = "active"
	StateSuspended CredentialState = "suspended"
	StateRevoked   CredentialState = "revoked"
)

// CredentialRecord is what an organisation keeps of a credential it
// issued: its status entry and where it came from, never its personal
// content.
type CredentialRecord struct {
	// ID is the credential's id (a urn:uuid), as it carries it.
	ID  string `json:"id"`
	Org string `json:"org"`
	// Registration is the internal id of the registration it was issued
	// from.
	Registration string           `json:"registration"`
	Type         credentials.Type `json:"type"`
	// Programme is the programme the credential was issued for.
	Programme string             `json:"programme"`
	Format    credentials.Format `json:"format"`
	// List and Index are the credential's entry in the organisation's
	// revocation and suspension lists (the same in both).
	List      int       `json:"list"`
	Index     int       `json:"index"`
	Issued    time.Time `json:"issued"`
	IssuedBy  string    `json:"issuedBy"`
	ValidFrom time.Time `json:"validFrom"`
	// ValidUntil is when the credential expires.
	ValidUntil time.Time       `json:"validUntil"`
	State      CredentialState `json:"state"`
	// Referral is, for a ReferralCredential, what it refers the person
	// to, and their consent; nothing personal.
	Referral *ReferralTerms `json:"referral,omitempty"`
	// Changed is when the state last changed, and ChangedBy by whom.
	Changed   time.Time `json:"changed,omitzero"`
	ChangedBy string    `json:"changedBy,omitempty"`
}

// StatusBits are one status list number's revocation and suspension
// bitstrings, StatusListSize bits each.
type StatusBits struct {
	Revoked   []byte
	Suspended []byte
}

// IndexChooser picks a free index of status list number list, whose used
// indexes are the bits set in used; false when the list is full.
type IndexChooser func(list int, used []byte) (int, bool)

// StatusStore keeps an organisation's credential records and status lists.
type StatusStore interface {
	// AddCredential stores rec with an entry in the first status list in
	// which choose finds a free index, and returns it with List and Index
	// set. It fails with ErrConflict when rec.ID is taken.
	AddCredential(ctx context.Context, rec CredentialRecord, choose IndexChooser) (CredentialRecord, error)
	// Credential returns one record, or an error wrapping ErrNotFound.
	Credential(ctx context.Context, org, id string) (CredentialRecord, error)
	// RegistrationCredentials returns the records of one registration,
	// oldest first.
	RegistrationCredentials(ctx context.Context, org, registration string) ([]CredentialRecord, error)
	// SetCredentialState changes a record's state and its bits in the
	// lists; change is called with the stored record, in the transaction,
	// and returns the record to store or an error that stops it.
	SetCredentialState(ctx context.Context, org, id string, change func(CredentialRecord) (CredentialRecord, error)) (CredentialRecord, error)
	// StatusBits returns list number list of an organisation; a list not
	// started yet has every bit clear. It fails with ErrNotFound beyond
	// the lists in use.
	StatusBits(ctx context.Context, org string, list int) (StatusBits, error)
}

// ErrNoConsent: the person has not consented to the programme's purpose.
// No consent, no credential.
var ErrNoConsent = errors.New("the person has not consented to this programme: record their consent first")

// ErrStateChange: the credential's state does not allow the change (a
// revoked credential stays revoked; only a suspended one is reinstated).
var ErrStateChange = errors.New("the credential's state does not allow this")

// IssueInput says which credential to issue from a registration.
type IssueInput struct {
	// Type is RegistrationCredential or EligibilityCredential.
	Type credentials.Type `json:"type"`
	// Programme is the programme an EligibilityCredential is for; the
	// registration's own if empty. A RegistrationCredential is always for
	// the registration's programme.
	Programme string `json:"programme,omitempty"`
	// Format is qr (a card, the default) or jwt.
	Format credentials.Format `json:"format,omitempty"`
	// Referral is required for a ReferralCredential, and only for it.
	Referral *ReferralInput `json:"referral,omitempty"`
}

// Issued is a credential just issued: its record, and the credential
// itself in its format (a card's base45 text, or a VC-JWT). It is shown or
// printed once; tally keeps only the record.
type Issued struct {
	Record     CredentialRecord `json:"record"`
	Credential string           `json:"credential"`
	// Languages are the programme's languages, the default first: the
	// card's labels are printed in them.
	Languages []string `json:"languages"`
	// Name and OrgName are what a printed card shows besides the QR.
	Name    string `json:"-"`
	OrgName string `json:"-"`
}

// DefaultCredentialValidity is how long a credential is valid when its
// programme keeps personal data for no set time.
const DefaultCredentialValidity = 12 // months

// validity is how many months a credential of prog is valid: as long as
// the programme keeps the personal data it was issued from, at most
// DefaultCredentialValidity months.
func validity(prog Programme) int {
	if prog.RetentionMonths > 0 && prog.RetentionMonths < DefaultCredentialValidity {
		return prog.RetentionMonths
	}
	return DefaultCredentialValidity
}

// StatusBase is the URL below which an organisation's status lists are
// served: BASEURL/status/ORG. Empty when the Service has no BaseURL.
func (s *Service) StatusBase(org string) string {
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + "/status/" + org
}

// Issue issues a credential from a registration, signed with the
// organisation's key, carrying the person's dedup seed and a status entry
// drawn at random from the organisation's free indexes. The person must
// have consented to the programme. What is issued is recorded (id, type,
// registration, status index, format, time) and audited; its content is
// not kept.
func (s *Service) Issue(ctx context.Context, by Principal, org, regID string, in IssueInput) (Issued, error) {
	if s.status == nil || s.baseURL == "" {
		return Issued{}, errors.New("issuer: no status store or base URL: credentials cannot be issued")
	}
	var p problems
	if in.Format == "" {
		in.Format = credentials.FormatQR
	}
	if in.Format != credentials.FormatQR && in.Format != credentials.FormatJWT {
		p.add("format", "unknown", "choose qr or jwt")
	}
	if in.Type == "" {
		p.add("type", "required", "choose RegistrationCredential, EligibilityCredential or ReferralCredential")
	} else if !slices.Contains(credentials.Types(), in.Type) {
		p.add("type", "unknown", "choose RegistrationCredential, EligibilityCredential or ReferralCredential")
	}
	switch {
	case in.Type == credentials.TypeReferral && in.Referral == nil:
		p.add("referral", "required", "say whom the person is referred to, for what, and what they consented to pass on")
	case in.Type != credentials.TypeReferral && in.Referral != nil:
		p.add("referral", "format", "only a ReferralCredential takes a referral")
	}
	if err := p.err(); err != nil {
		return Issued{}, err
	}
	reg, err := s.Registration(ctx, org, regID)
	if err != nil {
		return Issued{}, err
	}
	if reg.Erased() {
		return Issued{}, fmt.Errorf("registration %s: %w", regID, ErrErased)
	}
	code := strings.TrimSpace(in.Programme)
	if code == "" || in.Type == credentials.TypeRegistration {
		code = reg.Programme
	}
	prog, err := s.programmes.Programme(ctx, org, code)
	if errors.Is(err, ErrNotFound) {
		return Issued{}, &InvalidError{Fields: []FieldError{{Field: "programme", Code: "unknown", Message: "this organisation has no such programme"}}}
	} else if err != nil {
		return Issued{}, err
	}
	if !prog.Issues(in.Type) {
		return Issued{}, &InvalidError{Fields: []FieldError{{Field: "type", Code: "unknown", Message: "the programme does not issue this credential"}}}
	}
	if !reg.Consented(prog.Code) {
		return Issued{}, fmt.Errorf("registration %s, programme %s: %w", regID, prog.Code, ErrNoConsent)
	}
	o, err := s.orgs.Organisation(ctx, org)
	if err != nil {
		return Issued{}, err
	}
	var terms *ReferralTerms
	reason := ""
	if in.Type == credentials.TypeReferral {
		var p problems
		t := s.checkReferral(&p, in.Referral, reg, o.DID)
		if err := p.err(); err != nil {
			return Issued{}, err
		}
		terms, reason = &t, in.Referral.Reason
	}
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return Issued{}, err
	}
	id, err := newUUID(s.rand)
	if err != nil {
		return Issued{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	rec := CredentialRecord{
		ID: id, Org: org, Registration: reg.ID, Type: in.Type, Programme: prog.Code, Format: in.Format,
		Issued: now, IssuedBy: by.Ref(), ValidFrom: now, ValidUntil: now.AddDate(0, validity(prog), 0), State: StateActive,
		Referral: terms,
	}
	rec, err = s.status.AddCredential(ctx, rec, s.chooseIndex)
	if err != nil {
		return Issued{}, err
	}
	text, err := sign(rec, reg, prog, key, s.StatusBase(org), reason)
	if err != nil {
		// Nothing was issued: the record's entry is marked revoked, so that
		// it never stands for a valid credential.
		_, rerr := s.status.SetCredentialState(ctx, org, rec.ID, func(r CredentialRecord) (CredentialRecord, error) {
			r.State, r.Changed, r.ChangedBy = StateRevoked, now, by.Ref()
			return r, nil
		})
		return Issued{}, errors.Join(err, rerr)
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionIssue,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: reg.ID}, {Kind: audit.ObjectCredential, ID: id}},
		Purpose: audit.ProgrammePurpose(prog.Code)}); err != nil {
		return Issued{}, err
	}
	return Issued{Record: rec, Credential: text, Languages: prog.Languages, Name: reg.Person.FullName, OrgName: o.Name}, nil
}

// sign signs the credential of a record, issued from reg for prog: the
// same record signed again gives the same credential, byte for byte
// (Ed25519 signatures are deterministic, and the time of issue is the
// record's).
//
// A referral's reason is not in its record: it is given when the referral
// is issued, and a referral that had one is not signed again.
func sign(rec CredentialRecord, reg Registration, prog Programme, key *credentials.Key, statusBase, reason string) (string, error) {
	c := &credentials.Credential{
		ID: rec.ID, Type: rec.Type, Issuer: key.DID, ValidFrom: rec.ValidFrom, ValidUntil: rec.ValidUntil,
		Status: credentials.StatusEntries(statusBase, rec.List, rec.Index),
	}
	switch rec.Type {
	case credentials.TypeRegistration:
		c.Subject = reg.Subject()
	case credentials.TypeReferral:
		if rec.Referral == nil {
			return "", fmt.Errorf("credential %s: a referral without its terms", rec.ID)
		}
		c.Subject = referralSubject(reg, *rec.Referral, reason)
	default:
		c.Subject = &credentials.Eligibility{RegistrationID: reg.Person.RegistrationID, Programme: prog.Code, Purpose: prog.Purpose,
			HouseholdSize: reg.Person.HouseholdSize, DedupSeed: append(credentials.Seed(nil), reg.Seed...)}
	}
	var text string
	var err error
	if rec.Format == credentials.FormatQR {
		text, err = credentials.IssueCard(c, key, rec.Issued)
	} else {
		text, err = credentials.IssueJWT(c, key, rec.Issued)
	}
	if err != nil {
		return "", fmt.Errorf("sign credential %s: %w", rec.ID, err)
	}
	return text, nil
}

// Reprint signs an issued credential again, as it was issued, to show or
// print it once more: a card is not kept, only its record. A revoked
// credential is not reprinted (ErrStateChange): issue a new one.
func (s *Service) Reprint(ctx context.Context, org, id string) (Issued, error) {
	if s.status == nil {
		return Issued{}, fmt.Errorf("credential %s: %w", id, ErrNotFound)
	}
	rec, err := s.status.Credential(ctx, org, id)
	if err != nil {
		return Issued{}, err
	}
	if rec.State == StateRevoked {
		return Issued{}, fmt.Errorf("credential %s is revoked: issue a new one: %w", id, ErrStateChange)
	}
	reg, err := s.Registration(ctx, org, rec.Registration)
	if err != nil {
		return Issued{}, err
	}
	if reg.Erased() {
		return Issued{}, fmt.Errorf("credential %s: its registration %s: %w", id, rec.Registration, ErrErased)
	}
	if rec.Referral != nil && rec.Referral.HadReason {
		return Issued{}, fmt.Errorf("credential %s is a referral whose reason is not kept: it was shown once; issue a new one: %w", id, ErrStateChange)
	}
	prog, err := s.programmes.Programme(ctx, org, rec.Programme)
	if err != nil {
		return Issued{}, err
	}
	o, err := s.orgs.Organisation(ctx, org)
	if err != nil {
		return Issued{}, err
	}
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return Issued{}, err
	}
	text, err := sign(rec, reg, prog, key, s.StatusBase(org), "")
	if err != nil {
		return Issued{}, err
	}
	return Issued{Record: rec, Credential: text, Languages: prog.Languages, Name: reg.Person.FullName, OrgName: o.Name}, nil
}

// chooseIndex draws an index uniformly from the free indexes of a list:
// a few random draws, then, on a list nearly full, one draw among those
// left.
func (s *Service) chooseIndex(_ int, used []byte) (int, bool) {
	size := len(used) * 8
	isUsed := func(i int) bool { return used[i/8]&(0x80>>(i%8)) != 0 }
	for range 32 {
		i, err := randInt(s.rand, size)
		if err != nil {
			return 0, false
		}
		if !isUsed(i) {
			return i, true
		}
	}
	var free []int
	for i := range size {
		if !isUsed(i) {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		return 0, false
	}
	i, err := randInt(s.rand, len(free))
	if err != nil {
		return 0, false
	}
	return free[i], true
}

func randInt(r io.Reader, n int) (int, error) {
	v, err := rand.Int(r, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(v.Int64()), nil
}

// newUUID draws a random (version 4) UUID as a urn:uuid URI.
func newUUID(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("draw credential id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// signingKeys caches the organisations' open signing keys: opening one
// costs a scrypt derivation.
type signingKeys struct {
	mu   sync.Mutex
	open map[string]*credentials.Key
}

// signingKey returns the organisation's newest key, opened once.
func (s *Service) signingKey(ctx context.Context, org string) (*credentials.Key, error) {
	s.signers.mu.Lock()
	defer s.signers.mu.Unlock()
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		if k := s.signers.open[keys[len(keys)-1].ID]; k != nil {
			return k, nil
		}
	}
	k, err := s.SigningKey(ctx, org)
	if err != nil {
		return nil, err
	}
	if s.signers.open == nil {
		s.signers.open = map[string]*credentials.Key{}
	}
	s.signers.open[k.ID] = k
	return k, nil
}

// Credentials lists the credentials issued from a registration, oldest
// first.
func (s *Service) Credentials(ctx context.Context, org, regID string) ([]CredentialRecord, error) {
	if s.status == nil {
		return nil, nil
	}
	if _, err := s.registrations.Registration(ctx, org, regID); err != nil {
		return nil, err
	}
	return s.status.RegistrationCredentials(ctx, org, regID)
}

// CredentialRecord returns the record of one credential an organisation
// issued.
func (s *Service) CredentialRecord(ctx context.Context, org, id string) (CredentialRecord, error) {
	if s.status == nil {
		return CredentialRecord{}, fmt.Errorf("credential %s: %w", id, ErrNotFound)
	}
	return s.status.Credential(ctx, org, id)
}
