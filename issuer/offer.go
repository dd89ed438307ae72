package issuer

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// Credential offers: the issuer's side of the OpenID4VCI 1.0
// pre-authorized code flow as a use-case. A registrar makes an offer from
// a registration; the person's wallet fetches it (by the offer's secret,
// shown as a QR code), exchanges its pre-authorized code, with the
// transaction code the registrar read out, for a short-lived access
// token, and spends the token on the credential, bound to the wallet's
// key. The protocol's messages are internal/oid4vci's; this file keeps
// the rules: expiry, single use, capped transaction code attempts.
//
// Nothing secret is stored in the clear: an offer is kept under the
// SHA-256 of its pre-authorized code, the transaction code as a SHA-256
// salted with the pre-authorized code, the access token as its SHA-256.

// Offer limits.
const (
	// OfferTTL is how long an offer can be redeemed.
	OfferTTL = 10 * time.Minute
	// OfferTokenTTL is how long an offer's access token lasts.
	OfferTokenTTL = 5 * time.Minute
	// MaxTxCodeAttempts wrong transaction codes kill an offer.
	MaxTxCodeAttempts = 5
	// TxCodeLength is the number of digits of a transaction code.
	TxCodeLength = 6
	// offerSecretSize is the size in bytes of an offer's secret.
	offerSecretSize = 32
)

// Offer is a credential offer as stored: no secret in the clear, no
// personal data.
type Offer struct {
	// ID names the offer in audit entries and API answers: the first
	// bytes of CodeHash in hex. It is not a secret.
	ID string `json:"id"`
	// CodeHash is the SHA-256 of the pre-authorized code.
	CodeHash     []byte               `json:"codeHash"`
	Org          string               `json:"org"`
	Registration string               `json:"registration"`
	Type         credentials.Type     `json:"type"`
	Programme    string               `json:"programme"`
	Formats      []credentials.Format `json:"formats"`
	// TxHash is SHA-256(pre-authorized code, 0, transaction code); nil
	// when the offer needs no transaction code.
	TxHash     []byte `json:"txHash,omitempty"`
	TxAttempts int    `json:"txAttempts,omitempty"`
	// Dead is set when too many wrong transaction codes were tried.
	Dead    bool      `json:"dead,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// By is who made the offer: the credentials it yields are issued in
	// their name.
	By Principal `json:"by"`
	// Redeemed is when the pre-authorized code was exchanged; zero until
	// then. A code is exchanged once.
	Redeemed     time.Time `json:"redeemed,omitzero"`
	TokenHash    []byte    `json:"tokenHash,omitempty"`
	TokenExpires time.Time `json:"tokenExpires,omitzero"`
	// Issued are the formats already issued with the token: each once.
	Issued []credentials.Format `json:"issued,omitempty"`
}

// OfferStore keeps credential offers.
type OfferStore interface {
	// CreateOffer stores a new offer; ErrConflict if its CodeHash is
	// taken.
	CreateOffer(ctx context.Context, o Offer) error
	// OfferByCode returns an organisation's offer by the hash of its
	// pre-authorized code, or an error wrapping ErrNotFound.
	OfferByCode(ctx context.Context, org string, codeHash []byte) (Offer, error)
	// OfferByToken returns an organisation's offer by the hash of its
	// access token, or an error wrapping ErrNotFound.
	OfferByToken(ctx context.Context, org string, tokenHash []byte) (Offer, error)
	// UpdateOffer calls change with the stored offer in one transaction
	// and stores the offer as change left it, even when change returns an
	// error (a wrong transaction code is counted and refused); then it
	// returns the error. An access token hash set by change is indexed.
	UpdateOffer(ctx context.Context, org string, codeHash []byte, change func(*Offer) error) (Offer, error)
	// SpendOffer calls change with the stored offer and, when it returns
	// nil, stores the changed offer and adds rec as
	// StatusStore.AddCredential does, in one transaction: an offer's
	// credential is recorded exactly when the offer is spent.
	SpendOffer(ctx context.Context, org string, codeHash []byte, change func(*Offer) error, rec CredentialRecord, choose IndexChooser) (CredentialRecord, error)
	// PurgeOffers deletes the offers (with their token index entries)
	// that neither the offer nor its token outlive before, and says how
	// many.
	PurgeOffers(ctx context.Context, before time.Time) (int, error)
}

// The refusals of the offer flow. The protocol layer maps them to
// OpenID4VCI error codes.
var (
	// ErrOfferUnusable: the pre-authorized code is unknown, used, expired
	// or dead (invalid_grant).
	ErrOfferUnusable = errors.New("the offer is unknown, used or expired: ask for a new one")
	// ErrTxCodeWrong: the transaction code is wrong (invalid_grant).
	ErrTxCodeWrong = errors.New("the transaction code is wrong")
	// ErrTxCodeMissing: the offer needs a transaction code and none came
	// (invalid_request).
	ErrTxCodeMissing = errors.New("the offer needs its transaction code")
	// ErrTxCodeUnexpected: a transaction code came for an offer without
	// one (invalid_request).
	ErrTxCodeUnexpected = errors.New("the offer has no transaction code")
	// ErrTokenUnusable: the access token is unknown or expired
	// (invalid_token).
	ErrTokenUnusable = errors.New("the access token is unknown or expired")
	// ErrNotOffered: the format was not offered, or was issued already
	// with this token (credential_request_denied).
	ErrNotOffered = errors.New("this credential was not offered, or was issued already")
)

// OfferInput says what to offer from a registration.
type OfferInput struct {
	// Type is RegistrationCredential or EligibilityCredential.
	Type credentials.Type `json:"type"`
	// Programme is as in IssueInput.
	Programme string `json:"programme,omitempty"`
	// Formats offered: sd-jwt (SD-JWT VC, the default) and/or jwt
	// (VC-JWT).
	Formats []credentials.Format `json:"formats,omitempty"`
	// NoTxCode offers without a transaction code: whoever scans the QR
	// code gets the credential. Off by default.
	NoTxCode bool `json:"noTxCode,omitempty"`
}

// NewOffer is an offer just made: its secrets, shown once.
type NewOffer struct {
	Offer Offer
	// Secret names the offer in its credential_offer_uri.
	Secret string
	// Code is the pre-authorized code.
	Code string
	// TxCode is the transaction code to tell the person; empty if none.
	TxCode string
}

// PreAuthorizedCode is the pre-authorized code of an offer's secret: a
// hash of it, so that the code and the offer's URI differ but the URI
// yields the code.
func PreAuthorizedCode(secret string) string {
	sum := sha256.Sum256([]byte("tally-oid4vci-pre-authorized-code\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func hashOf(parts ...string) []byte {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// CredentialIssuer is an organisation's OpenID4VCI Credential Issuer
// Identifier: BASEURL/orgs/SLUG.
func (s *Service) CredentialIssuer(org string) string {
	return s.baseURL + "/orgs/" + org
}

// SigningAlgorithm is the algorithm of the key an organisation signs new
// credentials with (its newest), read from the key's public part.
func (s *Service) SigningAlgorithm(ctx context.Context, org string) (credentials.Algorithm, error) {
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return "", err
	}
	if len(keys) == 0 {
		return "", fmt.Errorf("organisation %s has no key: %w", org, ErrNotFound)
	}
	pub, err := credentials.ReadPublicKey(keys[len(keys)-1].Sealed)
	if err != nil {
		return "", fmt.Errorf("organisation %s: %w", org, err)
	}
	return pub.Alg, nil
}

// CreateOffer makes a credential offer from a registration: the same
// checks as Issue (the type, the programme, the person's consent), an
// offer valid for OfferTTL, with a transaction code unless NoTxCode. It
// is audited (offer and registration ids only).
func (s *Service) CreateOffer(ctx context.Context, by Principal, org, regID string, in OfferInput) (NewOffer, error) {
	if s.offers == nil || s.status == nil || s.baseURL == "" {
		return NewOffer{}, errors.New("issuer: no offer store, status store or base URL: offers cannot be made")
	}
	var p problems
	if len(in.Formats) == 0 {
		in.Formats = []credentials.Format{credentials.FormatSDJWT}
	}
	for _, f := range in.Formats {
		if f != credentials.FormatSDJWT && f != credentials.FormatJWT {
			p.add("formats", "unknown", "choose sd-jwt and/or jwt")
			break
		}
	}
	slices.Sort(in.Formats)
	in.Formats = slices.Compact(in.Formats)
	if in.Type == "" {
		p.add("type", "required", "choose RegistrationCredential or EligibilityCredential")
	} else if in.Type != credentials.TypeRegistration && in.Type != credentials.TypeEligibility {
		p.add("type", "unknown", "choose RegistrationCredential or EligibilityCredential")
	}
	if err := p.err(); err != nil {
		return NewOffer{}, err
	}
	reg, prog, err := s.issuable(ctx, org, regID, in.Type, in.Programme)
	if err != nil {
		return NewOffer{}, err
	}
	secret, err := randomText(s.rand, offerSecretSize)
	if err != nil {
		return NewOffer{}, err
	}
	out := NewOffer{Secret: secret, Code: PreAuthorizedCode(secret)}
	now := s.now().UTC()
	codeHash := hashOf(out.Code)
	o := Offer{
		ID: hex.EncodeToString(codeHash[:8]), CodeHash: codeHash, Org: org, Registration: reg.ID, Type: in.Type,
		Programme: prog.Code, Formats: in.Formats, Created: now, Expires: now.Add(OfferTTL),
		By: Principal{Org: by.Org, Role: by.Role, StaffID: by.StaffID, TokenID: by.TokenID, System: by.System},
	}
	if !in.NoTxCode {
		if out.TxCode, err = randomDigits(s.rand, TxCodeLength); err != nil {
			return NewOffer{}, err
		}
		o.TxHash = hashOf(out.Code, out.TxCode)
	}
	// Offers past use are deleted as new ones are made, at most once a
	// minute: nothing of them is needed once both the offer and its token
	// have expired.
	if s.purges.due(now) {
		if _, err := s.offers.PurgeOffers(ctx, now); err != nil {
			return NewOffer{}, err
		}
	}
	if err := s.offers.CreateOffer(ctx, o); err != nil {
		return NewOffer{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionOfferCreate,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: reg.ID}, {Kind: audit.ObjectOffer, ID: o.ID}},
		Purpose: audit.ProgrammePurpose(prog.Code)}); err != nil {
		return NewOffer{}, err
	}
	out.Offer = o
	return out, nil
}

// OfferBySecret returns the offer a credential_offer_uri names, while it
// can still be redeemed.
func (s *Service) OfferBySecret(ctx context.Context, org, secret string) (Offer, error) {
	if s.offers == nil || secret == "" || len(secret) > 2*offerSecretSize {
		return Offer{}, ErrOfferUnusable
	}
	o, err := s.offers.OfferByCode(ctx, org, hashOf(PreAuthorizedCode(secret)))
	if errors.Is(err, ErrNotFound) {
		return Offer{}, ErrOfferUnusable
	} else if err != nil {
		return Offer{}, err
	}
	if o.Dead || !o.Redeemed.IsZero() || !s.now().Before(o.Expires) {
		return Offer{}, ErrOfferUnusable
	}
	return o, nil
}

// RedeemOffer exchanges a pre-authorized code (and its transaction code,
// when hasTxCode) for an access token valid OfferTokenTTL. A code is
// exchanged once, even under concurrent requests; MaxTxCodeAttempts
// wrong transaction codes kill the offer.
func (s *Service) RedeemOffer(ctx context.Context, org, code, txCode string, hasTxCode bool) (token string, expires time.Time, err error) {
	if s.offers == nil || code == "" || len(code) > 256 {
		return "", time.Time{}, ErrOfferUnusable
	}
	token, err = randomText(s.rand, 32)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now().UTC()
	expires = now.Add(OfferTokenTTL)
	// A read first: a forged or spent code costs no write.
	o, err := s.offers.OfferByCode(ctx, org, hashOf(code))
	if errors.Is(err, ErrNotFound) || err == nil && (o.Dead || !o.Redeemed.IsZero() || !now.Before(o.Expires)) {
		return "", time.Time{}, ErrOfferUnusable
	} else if err != nil {
		return "", time.Time{}, err
	}
	_, err = s.offers.UpdateOffer(ctx, org, hashOf(code), func(o *Offer) error {
		if o.Dead || !o.Redeemed.IsZero() || !now.Before(o.Expires) {
			return ErrOfferUnusable
		}
		switch {
		case o.TxHash == nil && hasTxCode:
			return ErrTxCodeUnexpected
		case o.TxHash != nil && !hasTxCode:
			return ErrTxCodeMissing
		case o.TxHash != nil && subtle.ConstantTimeCompare(hashOf(code, txCode), o.TxHash) != 1:
			o.TxAttempts++
			if o.TxAttempts >= MaxTxCodeAttempts {
				o.Dead = true
			}
			return ErrTxCodeWrong
		}
		o.Redeemed, o.TokenHash, o.TokenExpires = now, hashOf(token), expires
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return "", time.Time{}, ErrOfferUnusable
	}
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// OfferByToken returns the offer an access token was given for, while
// the token lasts.
func (s *Service) OfferByToken(ctx context.Context, org, token string) (Offer, error) {
	if s.offers == nil || token == "" || len(token) > 256 {
		return Offer{}, ErrTokenUnusable
	}
	o, err := s.offers.OfferByToken(ctx, org, hashOf(token))
	if errors.Is(err, ErrNotFound) {
		return Offer{}, ErrTokenUnusable
	} else if err != nil {
		return Offer{}, err
	}
	if !s.now().Before(o.TokenExpires) {
		return Offer{}, ErrTokenUnusable
	}
	return o, nil
}

// IssueOffered issues the credential an access token was given for, in
// format, bound to holder (the key the wallet proved it holds). Each
// offered format is issued once per offer: it is marked issued in the
// transaction that records the credential, so that two concurrent
// requests cannot both have it. The credential is issued as Issue does,
// in the name of the staff member who made the offer, with its consent
// check, status entry and audit entry.
func (s *Service) IssueOffered(ctx context.Context, org, token string, format credentials.Format, holder crypto.PublicKey) (Issued, error) {
	if holder == nil {
		return Issued{}, errors.New("issuer: a wallet credential needs the holder's key")
	}
	o, err := s.OfferByToken(ctx, org, token)
	if err != nil {
		return Issued{}, err
	}
	if !slices.Contains(o.Formats, format) || slices.Contains(o.Issued, format) {
		return Issued{}, ErrNotOffered
	}
	now := s.now()
	spend := func(stored *Offer) error {
		if !now.Before(stored.TokenExpires) || !slices.Equal(stored.TokenHash, hashOf(token)) {
			return ErrTokenUnusable
		}
		if !slices.Contains(stored.Formats, format) || slices.Contains(stored.Issued, format) {
			return ErrNotOffered
		}
		stored.Issued = append(stored.Issued, format)
		return nil
	}
	by := o.By
	by.Org = org
	in := IssueInput{Type: o.Type, Programme: o.Programme, Format: format, Holder: holder, Offer: o.ID}
	return s.issue(ctx, by, org, o.Registration, in, func(rec CredentialRecord) (CredentialRecord, error) {
		return s.offers.SpendOffer(ctx, org, o.CodeHash, spend, rec, s.chooseIndex)
	})
}

// offerPurges says when expired offers were last deleted.
type offerPurges struct {
	mu   sync.Mutex
	last time.Time
}

// offerPurgeEvery is how often expired offers are deleted at most.
const offerPurgeEvery = time.Minute

// due tells whether a purge is due at now, and if so counts it done.
func (p *offerPurges) due(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() && now.Sub(p.last) < offerPurgeEvery {
		return false
	}
	p.last = now
	return true
}

// randomText draws n random bytes as base64url text.
func randomText(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("draw a secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// randomDigits draws n decimal digits, uniformly.
func randomDigits(r io.Reader, n int) (string, error) {
	var b strings.Builder
	for range n {
		d, err := randInt(r, 10)
		if err != nil {
			return "", fmt.Errorf("draw a transaction code: %w", err)
		}
		b.WriteByte(byte('0' + d))
	}
	return b.String(), nil
}
