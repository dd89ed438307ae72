package issuer

import (
	"context"
	"crypto"
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
	// Source is SourceVCAPI for a credential issued through the VC API,
	// which has no registration nor programme; empty for one issued from a
	// registration.
	Source string `json:"source,omitempty"`
	// StatusPurposes are the purposes of the credential's status entries
	// (revocation, suspension); empty for both, as a credential issued
	// from a registration has.
	StatusPurposes []string `json:"statusPurposes,omitempty"`
	// Bound is set when the credential was issued to a wallet, bound to
	// its key (OpenID4VCI): it cannot be signed again from the record.
	Bound bool `json:"bound,omitempty"`
	// Keys are the ids of the keys that signed the credential, first the
	// one that issued it, then any that signed a reprint. Records made
	// before keys were named have none: their key is the organisation's
	// first.
	Keys []string `json:"keys,omitempty"`
}

// Key is the id of the key that last signed the credential; "" for a
// record that names none (the organisation's first key signed it).
func (r CredentialRecord) Key() string {
	if len(r.Keys) == 0 {
		return ""
	}
	return r.Keys[len(r.Keys)-1]
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
	// Format is qr (a card, the default) or jwt; with a Holder, jwt or
	// sd-jwt.
	Format credentials.Format `json:"format,omitempty"`
	// Holder is the public key of the wallet the credential is bound to
	// (OpenID4VCI): an SD-JWT VC carries it as cnf.jwk, a VC-JWT names
	// its did:key as credentialSubject.id. Nil for cards and unbound
	// credentials.
	Holder crypto.PublicKey `json:"-"`
	// Offer is the id of the credential offer the credential is issued
	// for, named in the audit entry.
	Offer string `json:"-"`
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
	return s.issue(ctx, by, org, regID, in, func(rec CredentialRecord) (CredentialRecord, error) {
		return s.status.AddCredential(ctx, rec, s.chooseIndex)
	})
}

// issue is Issue, with add storing the record (with its status entry)
// once every check has passed.
func (s *Service) issue(ctx context.Context, by Principal, org, regID string, in IssueInput, add func(CredentialRecord) (CredentialRecord, error)) (Issued, error) {
	if s.status == nil || s.baseURL == "" {
		return Issued{}, errors.New("issuer: no status store or base URL: credentials cannot be issued")
	}
	var p problems
	if in.Format == "" {
		in.Format = credentials.FormatQR
	}
	switch {
	case in.Holder != nil && in.Format != credentials.FormatJWT && in.Format != credentials.FormatSDJWT:
		p.add("format", "unknown", "a wallet credential is jwt or sd-jwt")
	case in.Holder == nil && in.Format != credentials.FormatQR && in.Format != credentials.FormatJWT:
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
	reg, prog, err := s.issuable(ctx, org, regID, in.Type, in.Programme)
	if err != nil {
		return Issued{}, err
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
		Bound:    in.Holder != nil,
		Keys:     []string{key.ID},
		Referral: terms,
	}
	rec, err = add(rec)
	if err != nil {
		return Issued{}, err
	}
	// The key may have been declared compromised since it was opened: a
	// sweep that began before the record was stored would miss it. The
	// record is stored now, so either the key's mark is seen here, or the
	// sweep begins after and revokes the record.
	text, err := "", s.stillSigning(ctx, org, key.ID)
	if err == nil {
		text, err = sign(rec, reg, prog, key, s.StatusBase(org), in.Holder, reason)
	}
	if err != nil {
		// Nothing was issued: the record's entry is marked revoked, so that
		// it never stands for a valid credential.
		_, rerr := s.status.SetCredentialState(ctx, org, rec.ID, func(r CredentialRecord) (CredentialRecord, error) {
			r.State, r.Changed, r.ChangedBy = StateRevoked, now, by.Ref()
			return r, nil
		})
		return Issued{}, errors.Join(err, rerr)
	}
	objects := []audit.Object{{Kind: audit.ObjectRegistration, ID: reg.ID}, {Kind: audit.ObjectCredential, ID: id}}
	if in.Offer != "" {
		objects = append(objects, audit.Object{Kind: audit.ObjectOffer, ID: in.Offer})
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionIssue,
		Objects: objects, Purpose: audit.ProgrammePurpose(prog.Code)}); err != nil {
		return Issued{}, err
	}
	return Issued{Record: rec, Credential: text, Languages: prog.Languages, Name: reg.Person.FullName, OrgName: o.Name}, nil
}

// issuable returns the registration regID and the programme a credential
// of type t is to be issued for (programme, or the registration's own,
// always its own for a RegistrationCredential), once it is sure the
// registration is not erased, the programme issues t, and the person
// consented to the programme's purpose.
func (s *Service) issuable(ctx context.Context, org, regID string, t credentials.Type, programme string) (Registration, Programme, error) {
	reg, err := s.Registration(ctx, org, regID)
	if err != nil {
		return Registration{}, Programme{}, err
	}
	if reg.Erased() {
		return Registration{}, Programme{}, fmt.Errorf("registration %s: %w", regID, ErrErased)
	}
	code := strings.TrimSpace(programme)
	if code == "" || t == credentials.TypeRegistration {
		code = reg.Programme
	}
	prog, err := s.programmes.Programme(ctx, org, code)
	if errors.Is(err, ErrNotFound) {
		return Registration{}, Programme{}, &InvalidError{Fields: []FieldError{{Field: "programme", Code: "unknown", Message: "this organisation has no such programme"}}}
	} else if err != nil {
		return Registration{}, Programme{}, err
	}
	if !prog.Issues(t) {
		return Registration{}, Programme{}, &InvalidError{Fields: []FieldError{{Field: "type", Code: "unknown", Message: "the programme does not issue this credential"}}}
	}
	if !reg.Consented(prog.Code) {
		return Registration{}, Programme{}, fmt.Errorf("registration %s, programme %s: %w", regID, prog.Code, ErrNoConsent)
	}
	return reg, prog, nil
}

// sign signs the credential of a record, issued from reg for prog: the
// same record signed again gives the same credential, byte for byte
// (Ed25519 signatures are deterministic, and the time of issue is the
// record's), unless it is bound to a holder's key (then it is signed
// once). A VC-JWT bound to holder is a VCDM 1.1 JWT (IssueJWT11, as
// OpenID4VCI's jwt_vc_json) naming the holder's did:key as sub and
// credentialSubject.id; an SD-JWT VC carries the key as cnf.jwk.
//
// A referral's reason is not in its record: it is given when the referral
// is issued, and a referral that had one is not signed again.
func sign(rec CredentialRecord, reg Registration, prog Programme, key *credentials.Key, statusBase string, holder crypto.PublicKey, reason string) (string, error) {
	c := &credentials.Credential{
		Context: credentials.DefaultContext(),
		ID:      rec.ID, Type: rec.Type, Issuer: key.DID, ValidFrom: rec.ValidFrom, ValidUntil: rec.ValidUntil,
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
	switch {
	case rec.Format == credentials.FormatQR:
		text, err = credentials.IssueCard(c, key, rec.Issued)
	case rec.Format == credentials.FormatSDJWT && holder != nil:
		text, err = credentials.IssueSDJWT(c, key, rec.Issued, credentials.SDJWTOptions{Holder: holder})
	case rec.Format == credentials.FormatJWT && holder != nil:
		// A wallet's jwt_vc_json (OpenID4VCI 1.0 Appendix A.1.1) is the
		// VCDM 1.1 JWT, with the holder's DID as sub.
		var did string
		if did, err = credentials.DIDKey(holder); err == nil {
			setSubjectID(c.Subject, did)
			text, err = credentials.IssueJWT11(c, key)
		}
	case rec.Format == credentials.FormatJWT:
		text, err = credentials.IssueJWT(c, key, rec.Issued)
	default:
		err = fmt.Errorf("format %s needs a holder key", rec.Format)
	}
	if err != nil {
		return "", fmt.Errorf("sign credential %s: %w", rec.ID, err)
	}
	return text, nil
}

// Reprint signs an issued credential again, as it was issued, to show or
// print it once more: a card is not kept, only its record. A revoked
// credential is not reprinted (ErrStateChange): issue a new one.
//
// It is signed with the organisation's current key. When that is not the
// key that signed it before (the key was rotated since), the new key is
// added to the record's keys first: the reprint has the same id and
// status entry, and if any key that signed it is declared compromised,
// the entry is revoked. A credential signed by a compromised key is not
// reprinted (ErrStateChange).
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
	if rec.Bound {
		return Issued{}, fmt.Errorf("credential %s was sent to a wallet, bound to its key: send a new offer: %w", id, ErrStateChange)
	}
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return Issued{}, err
	}
	for _, k := range keys {
		if !k.Compromised.IsZero() && len(keys) > 0 && rec.SignedBy(k.ID, keys[0].ID) {
			return Issued{}, fmt.Errorf("credential %s was signed by a compromised key: issue a new one: %w", id, ErrStateChange)
		}
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
	if !rec.SignedBy(key.ID, keys[0].ID) {
		rec, err = s.status.SetCredentialState(ctx, org, id, func(r CredentialRecord) (CredentialRecord, error) {
			if len(r.Keys) == 0 {
				r.Keys = []string{keys[0].ID}
			}
			r.Keys = append(r.Keys, key.ID)
			return r, nil
		})
		if err != nil {
			return Issued{}, err
		}
	}
	if err := s.stillSigning(ctx, org, key.ID); err != nil {
		return Issued{}, err
	}
	text, err := sign(rec, reg, prog, key, s.StatusBase(org), nil, "")
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

// signingKey returns the organisation's current key, opened once.
func (s *Service) signingKey(ctx context.Context, org string) (*credentials.Key, error) {
	s.signers.mu.Lock()
	defer s.signers.mu.Unlock()
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	if cur := currentKey(keys); cur >= 0 {
		if k := s.signers.open[keys[cur].ID]; k != nil {
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

// errKeyCompromised: the key opened to sign was declared compromised
// meanwhile.
var errKeyCompromised = fmt.Errorf("the signing key was declared compromised meanwhile: try again: %w", ErrStateChange)

// stillSigning checks that key id of org has not been declared
// compromised.
func (s *Service) stillSigning(ctx context.Context, org, id string) error {
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == id && !k.Compromised.IsZero() {
			return errKeyCompromised
		}
	}
	return nil
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

// setSubjectID sets the holder's DID as a subject's id.
func setSubjectID(s credentials.Subject, did string) {
	switch v := s.(type) {
	case *credentials.Registration:
		v.ID = did
	case *credentials.Eligibility:
		v.ID = did
	case *credentials.Referral:
		v.ID = did
	}
}
