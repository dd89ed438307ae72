package issuer

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
)

// Organisation is an issuing organisation hosted by this instance: its
// slug names it in URLs, and its did:web DID
// (did:web:HOST:orgs:SLUG) names it in the credentials it signs.
type Organisation struct {
	Slug    string    `json:"slug"`
	Name    string    `json:"name"`
	DID     string    `json:"did"`
	Created time.Time `json:"created"`
	// Languages are its default languages (a new programme's form starts
	// with them); Contact how to reach it. Administrators change them
	// (Settings).
	Languages []string `json:"languages,omitempty"`
	Contact   string   `json:"contact,omitempty"`
}

// OrgKey is one of an organisation's signing keys, its private part
// sealed under the instance's master passphrase (a credentials key file).
type OrgKey struct {
	// Org is the organisation's slug.
	Org string `json:"org"`
	// ID is the verification method id (DID#fragment).
	ID string `json:"id"`
	// Sealed is the key file: the public key in the clear, the private key
	// sealed (credentials.SealKey).
	Sealed []byte `json:"sealed"`
	// Created is when the key was made.
	Created time.Time `json:"created"`
	// Compromised is when the key was declared compromised (zero if it
	// was not), CompromisedBy by whom, and Reason why. A compromised key
	// is out of the DID document and signs nothing.
	Compromised   time.Time `json:"compromised,omitzero"`
	CompromisedBy string    `json:"compromisedBy,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	// Swept is when every credential the compromised key signed had been
	// revoked; Revoked counts them.
	Swept   time.Time `json:"swept,omitzero"`
	Revoked int       `json:"revoked,omitempty"`
}

// OrgStore reads organisations and their keys.
type OrgStore interface {
	// Organisation returns one organisation, or an error wrapping
	// ErrNotFound.
	Organisation(ctx context.Context, slug string) (Organisation, error)
	// Organisations returns every organisation, by slug.
	Organisations(ctx context.Context) ([]Organisation, error)
	// OrgKeys returns an organisation's keys, oldest first.
	OrgKeys(ctx context.Context, slug string) ([]OrgKey, error)
}

// OrgCreator stores a new organisation with its first key and first
// administrator, all or nothing. It fails with ErrConflict when the slug,
// or the administrator's user name, is taken.
type OrgCreator interface {
	CreateOrganisation(ctx context.Context, org Organisation, key OrgKey, admin Staff) error
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// checkSlug reports a slug that is not 1 to 40 lower-case letters, digits
// and inner hyphens.
func checkSlug(p *problems, field, slug string) {
	switch {
	case slug == "":
		p.add(field, "required", "give a short name of lower-case letters, digits and hyphens")
	case !slugPattern.MatchString(slug):
		p.add(field, "format", "use 1 to 40 lower-case letters, digits and hyphens, not starting or ending with a hyphen")
	}
}

// checkName reports a display name that is empty, longer than 100
// characters, or holds control characters.
func checkName(p *problems, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		p.add(field, "required", "give a name")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100:
		p.add(field, "too_long", "use at most 100 characters")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		p.add(field, "format", "use letters, digits, spaces and punctuation only")
	}
}

// OrgDID returns the did:web DID of organisation slug on host (a host
// name, with a port if it is not the default one).
func OrgDID(host, slug string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("no host name to make the organisation's did:web from")
	}
	return credentials.DIDWeb(host + "/orgs/" + slug)
}

// DIDDocument returns the DID document of an organisation: every key it
// has had, so that what an older key signed still verifies, except the
// compromised ones.
func (s *Service) DIDDocument(ctx context.Context, slug string) (*credentials.DIDDocument, error) {
	pubs, err := s.PublicKeys(ctx, slug)
	if err != nil {
		return nil, err
	}
	doc, err := credentials.NewDIDDocument(pubs...)
	if err != nil {
		return nil, err
	}
	// Referral feedback (issue 7): where other organisations send the
	// outcome of the referrals this one made.
	if s.baseURL != "" {
		doc.Service = append(doc.Service, credentials.DIDService{
			ID: doc.ID + "#referral-feedback", Type: credentials.ServiceReferralFeedback,
			ServiceEndpoint: s.ReferralFeedbackURL(slug),
		})
	}
	return doc, nil
}

// ReferralFeedbackURL is where an organisation receives feedback on its
// referrals: BASEURL/orgs/SLUG/referrals/feedback; "" without a BaseURL.
func (s *Service) ReferralFeedbackURL(slug string) string {
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + "/orgs/" + slug + "/referrals/feedback"
}

// PublicKeys returns the public keys of an organisation that its DID
// document lists: every key it has had except the compromised ones.
func (s *Service) PublicKeys(ctx context.Context, slug string) ([]*credentials.Key, error) {
	org, err := s.orgs.Organisation(ctx, slug)
	if err != nil {
		return nil, err
	}
	keys, err := s.orgs.OrgKeys(ctx, org.Slug)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("organisation %s has no key: %w", slug, ErrNotFound)
	}
	pubs := make([]*credentials.Key, 0, len(keys))
	for _, k := range keys {
		if !k.Compromised.IsZero() {
			continue
		}
		pub, err := credentials.ReadPublicKey(k.Sealed)
		if err != nil {
			return nil, fmt.Errorf("organisation %s, key %s: %w", slug, k.ID, err)
		}
		pubs = append(pubs, pub)
	}
	if len(pubs) == 0 {
		return nil, fmt.Errorf("organisation %s has no key that is not compromised: %w", slug, ErrNotFound)
	}
	return pubs, nil
}

// SigningKey opens the organisation's current key (its newest key not
// compromised) with the master passphrase. It costs a scrypt derivation (about half a second): open it
// once and keep it.
func (s *Service) SigningKey(ctx context.Context, slug string) (*credentials.Key, error) {
	keys, err := s.orgs.OrgKeys(ctx, slug)
	if err != nil {
		return nil, err
	}
	cur := currentKey(keys)
	if cur < 0 {
		return nil, fmt.Errorf("organisation %s has no key: %w", slug, ErrNotFound)
	}
	if len(s.masterKey) == 0 {
		return nil, errNoMasterKey
	}
	k, err := credentials.OpenKey(keys[cur].Sealed, s.masterKey, credentials.OpenOptions{MinScryptN: s.scryptN})
	if err != nil {
		return nil, fmt.Errorf("open organisation %s's key (is the master key the one it was sealed with?): %w", slug, err)
	}
	return k, nil
}

// Organisations lists the organisations of this instance.
func (s *Service) Organisations(ctx context.Context) ([]Organisation, error) {
	return s.orgs.Organisations(ctx)
}

// Organisation returns one organisation.
func (s *Service) Organisation(ctx context.Context, slug string) (Organisation, error) {
	return s.orgs.Organisation(ctx, slug)
}
