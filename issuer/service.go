package issuer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// Stores are the stores a Service uses; internal/bolt's DB is all of them.
type Stores struct {
	Orgs     OrgStore
	Creator  OrgCreator
	Staff    StaffStore
	Tokens   TokenStore
	Sessions SessionStore
	// Programmes, DataKeys, Registrations and Index keep programmes,
	// organisations' sealed data keys and sealed registrations.
	Programmes    ProgrammeStore
	DataKeys      DataKeyStore
	Registrations RegistrationStore
	Index         RegistrationIndex
	// Status keeps the records of issued credentials and the status
	// lists; without it, nothing can be issued.
	Status StatusStore
	// Offers keeps OpenID4VCI credential offers; without it, none can be
	// made.
	Offers OfferStore

	// Keys, Sweeper, Settings and Accounts change organisations' keys
	// (rotation, compromise), revoke what a compromised key signed, change
	// organisations' settings, and change staff accounts (passwords,
	// disabling). Without them those actions fail; the rest works.
	Keys     OrgKeyChanger
	Sweeper  CredentialSweeper
	Settings OrgUpdater
	Accounts AccountStore
}

// Options configure a Service. Zero values take the defaults noted.
type Options struct {
	// MasterKey is the passphrase that seals organisations' private keys
	// at rest. Without it, organisations cannot be created nor their keys
	// opened; staff, sessions and tokens work.
	MasterKey []byte
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Rand is the source of randomness; crypto/rand if nil.
	Rand io.Reader
	// SessionTTL is how long a session lasts at most; 12 hours if zero.
	SessionTTL time.Duration
	// SessionIdle ends a session unused for this long; 30 minutes if zero.
	SessionIdle time.Duration
	// Password is the argon2id cost of new password hashes;
	// DefaultPasswordParams if zero. Only tests lower it.
	Password PasswordParams
	// ScryptN is the scrypt cost of sealed organisation keys;
	// credentials.DefaultScryptN if zero. Only tests lower it.
	ScryptN int
	// HashSlots is how many password hashes may run at once; 2 if zero.
	HashSlots int
	// Audit records who did what: sign-ins (and refused ones), sign-outs,
	// new staff, tokens, organisations, programmes, registrations, links
	// and corrections. Nothing is recorded if nil.
	Audit *audit.Log
	// OnCorrected is called after a registration is corrected: the
	// issuance of credentials re-issues and revokes there. Nil: nothing is
	// done.
	OnCorrected func(ctx context.Context, c Corrected) error
	// SignInLimits bound refused sign-ins per user name and per client;
	// DefaultSignInLimits if zero.
	SignInLimits SignInLimits
	// BaseURL is the instance's public base URL (https://HOST, no trailing
	// slash): organisations' status lists are served below
	// BASEURL/status/ORG. Without it, credentials carry no status and none
	// can be issued.
	BaseURL string
	// DataIntegrity checks and signs the JSON-LD credentials of the VC API
	// and the status lists served to JSON-LD verifiers; a
	// *dataintegrity.Processor. Without it, the VC API issues nothing.
	DataIntegrity DocumentSigner
}

// Service is the issuer's use-cases over its stores.
type Service struct {
	orgs     OrgStore
	creator  OrgCreator
	staff    StaffStore
	tokens   TokenStore
	sessions SessionStore

	programmes    ProgrammeStore
	dataKeys      DataKeyStore
	registrations RegistrationStore
	index         RegistrationIndex
	status        StatusStore
	statusGen     atomic.Uint64 // bumped at every change of a credential's status (statusgen.go)
	offers        OfferStore
	purges        offerPurges
	keys          openKeys
	signers       signingKeys
	signedLists   signedLists
	baseURL       string
	onCorrected   func(ctx context.Context, c Corrected) error
	docSigner     DocumentSigner
	keyChanger    OrgKeyChanger
	sweeper       CredentialSweeper
	orgUpdater    OrgUpdater
	accounts      AccountStore
	limiter       *signInLimiter

	masterKey   []byte
	now         func() time.Time
	rand        io.Reader
	sessionTTL  time.Duration
	sessionIdle time.Duration
	params      PasswordParams
	scryptN     int
	slots       hashSlots
	audit       *audit.Log
	// dummyHash is checked against when a user name is unknown, so that
	// answering takes as long as for a known one.
	dummyHash string
	// auditIDKey keys AuditCredentialID.
	auditIDKey []byte
}

// New returns a Service over stores.
func New(stores Stores, opts Options) (*Service, error) {
	if stores.Orgs == nil || stores.Creator == nil || stores.Staff == nil || stores.Tokens == nil || stores.Sessions == nil ||
		stores.Programmes == nil || stores.DataKeys == nil || stores.Registrations == nil || stores.Index == nil {
		return nil, errors.New("issuer: every store is required")
	}
	s := &Service{
		orgs: stores.Orgs, creator: stores.Creator, staff: stores.Staff, tokens: stores.Tokens, sessions: stores.Sessions,
		programmes: stores.Programmes, dataKeys: stores.DataKeys, registrations: stores.Registrations, index: stores.Index,
		status: stores.Status, offers: stores.Offers, baseURL: strings.TrimRight(opts.BaseURL, "/"),
		keyChanger: stores.Keys, sweeper: stores.Sweeper, orgUpdater: stores.Settings, accounts: stores.Accounts,
		keys: openKeys{open: map[string]*keyring{}}, onCorrected: opts.OnCorrected, docSigner: opts.DataIntegrity,
		masterKey: opts.MasterKey, now: opts.Now, rand: opts.Rand,
		sessionTTL: opts.SessionTTL, sessionIdle: opts.SessionIdle,
		params: opts.Password, scryptN: opts.ScryptN, audit: opts.Audit,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.status != nil {
		s.status = countingStatus{StatusStore: s.status, gen: &s.statusGen}
	}
	var err error
	if s.auditIDKey, err = auditIDKeyOf(s.masterKey, s.rand); err != nil {
		return nil, fmt.Errorf("issuer: the audit id key: %w", err)
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = 12 * time.Hour
	}
	if s.sessionIdle <= 0 {
		s.sessionIdle = 30 * time.Minute
	}
	if s.params == (PasswordParams{}) {
		s.params = DefaultPasswordParams()
	}
	if s.scryptN == 0 {
		s.scryptN = credentials.DefaultScryptN
	}
	n := opts.HashSlots
	if n <= 0 {
		n = 2
	}
	s.slots = make(hashSlots, n)
	s.limiter = newSignInLimiter(opts.SignInLimits)
	dummy, err := newPassword(s.rand)
	if err != nil {
		return nil, err
	}
	if s.dummyHash, err = hashPassword(dummy, s.params, s.rand); err != nil {
		return nil, err
	}
	return s, nil
}

// NewOrganisation is the input that creates an organisation with its
// first administrator.
type NewOrganisation struct {
	// Slug names the organisation in URLs and in its DID.
	Slug string
	// Name is its display name.
	Name string
	// Host is this instance's public host name (with a port if not the
	// default), from which the organisation's did:web is made.
	Host string
	// Admin is the first administrator; Role is set to RoleAdmin.
	Admin NewStaff
	// By is who creates it, for the audit log: tally's first start if
	// zero, or the command line (tally org new).
	By Principal
}

// CreateOrganisation creates an organisation with a new Ed25519 signing
// key, sealed under the master key, and its first administrator, in one
// step. It returns the administrator's one-time password: show it once.
func (s *Service) CreateOrganisation(ctx context.Context, in NewOrganisation) (Organisation, Staff, string, error) {
	var p problems
	checkSlug(&p, "slug", in.Slug)
	checkName(&p, "name", in.Name)
	in.Admin.Role = RoleAdmin
	if err := in.Admin.check(); err != nil {
		var ie *InvalidError
		if errors.As(err, &ie) {
			for _, f := range ie.Fields {
				p.add("admin."+f.Field, f.Code, f.Message)
			}
		}
	}
	if err := p.err(); err != nil {
		return Organisation{}, Staff{}, "", err
	}
	did, err := OrgDID(in.Host, in.Slug)
	if err != nil {
		return Organisation{}, Staff{}, "", &InvalidError{Fields: []FieldError{{Field: "host", Code: "format", Message: err.Error()}}}
	}
	if len(s.masterKey) == 0 {
		return Organisation{}, Staff{}, "", errNoMasterKey
	}
	now := s.now().UTC()
	org := Organisation{Slug: in.Slug, Name: in.Name, DID: did, Created: now}
	signer, err := credentials.GenerateKey(credentials.EdDSA, s.rand)
	if err != nil {
		return Organisation{}, Staff{}, "", err
	}
	key, err := credentials.NewKey(signer, did)
	if err != nil {
		return Organisation{}, Staff{}, "", err
	}
	sealed, err := credentials.SealKey(key, s.masterKey, s.rand, credentials.SealOptions{ScryptN: s.scryptN})
	if err != nil {
		return Organisation{}, Staff{}, "", fmt.Errorf("seal the organisation's key: %w", err)
	}
	admin, password, err := s.newStaff(ctx, org.Slug, in.Admin)
	if err != nil {
		return Organisation{}, Staff{}, "", err
	}
	ok := OrgKey{Org: org.Slug, ID: key.ID, Sealed: sealed, Created: now}
	if err := s.creator.CreateOrganisation(ctx, org, ok, admin); err != nil {
		return Organisation{}, Staff{}, "", err
	}
	actor := audit.System("first-start")
	if in.By != (Principal{}) {
		actor = in.By.Actor()
	}
	if err := s.record(ctx, audit.Entry{Actor: actor, Org: org.Slug, Action: audit.ActionOrganisationCreate,
		Objects: []audit.Object{{Kind: audit.ObjectOrganisation, ID: org.Slug}, {Kind: audit.ObjectStaff, ID: admin.ID}, {Kind: audit.ObjectKey, ID: key.ID}},
		Purpose: audit.PurposeAdministration}); err != nil {
		return Organisation{}, Staff{}, "", err
	}
	return org, admin, password, nil
}

var errNoMasterKey = errors.New("no master key to seal or open organisation keys with")

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// record appends an entry to the audit log, if there is one. An entry that
// cannot be written fails the action that wanted it: nothing happens
// unrecorded.
func (s *Service) record(ctx context.Context, e audit.Entry) error {
	if s.audit == nil {
		return nil
	}
	if e.Outcome == "" {
		e.Outcome = audit.OutcomeSuccess
	}
	// The entry is written even if the request was cancelled meanwhile:
	// the change it records is made (or the read done), and a client that
	// drops the connection must not leave it out of the log.
	if _, err := s.audit.Append(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// Actor is who a principal is in the audit log: a staff member or a token,
// by id, never by name.
func (p Principal) Actor() audit.Actor {
	switch {
	case p.TokenID != "":
		return audit.Token(p.TokenID)
	case p.System != "":
		return audit.System(p.System)
	}
	return audit.Staff(p.StaffID)
}
