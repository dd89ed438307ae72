package holder

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tally-id/tally/credentials"
)

// profileID is the id of a holder's one profile item.
const profileID = "profile"

// profile is what a wallet keeps of its holder besides credentials: the
// language of its pages, and the holder keys (the last is the one new
// credentials are bound to; older ones stay for what they bound).
type profile struct {
	Lang string      `json:"lang"`
	Keys []holderKey `json:"keys"`
}

// holderKey is a holder key: its did:jwk and its PKCS #8 private key.
type holderKey struct {
	DID     string    `json:"did"`
	PKCS8   []byte    `json:"pkcs8"`
	Created time.Time `json:"created"`
}

// newProfile makes a holder's profile with a fresh P-256 key (ES256, the
// algorithm every OpenID4VCI wallet and issuer shares).
func (w *Wallet) newProfile(ctx context.Context, lang string) (profile, error) {
	k, err := w.s.newHolderKey()
	if err != nil {
		return profile{}, err
	}
	p := profile{Lang: lang, Keys: []holderKey{k}}
	return p, w.put(ctx, KindProfile, profileID, p, 0)
}

func (s *Service) newHolderKey() (holderKey, error) {
	signer, err := credentials.GenerateKey(credentials.ES256, s.rand)
	if err != nil {
		return holderKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return holderKey{}, err
	}
	did, err := credentials.DIDJWK(signer.Public())
	if err != nil {
		return holderKey{}, err
	}
	return holderKey{DID: did, PKCS8: der, Created: s.now().UTC()}, nil
}

func (w *Wallet) profile(ctx context.Context) (profile, error) {
	var p profile
	err := w.get(ctx, KindProfile, profileID, &p)
	if errors.Is(err, ErrNotFound) {
		// Opening was cut short between the account and its profile.
		return w.newProfile(ctx, "")
	}
	return p, err
}

// Lang is the language the holder chose for their wallet's pages ("" if
// none).
func (w *Wallet) Lang(ctx context.Context) (string, error) {
	p, err := w.profile(ctx)
	return p.Lang, err
}

// SetLang keeps the language of the holder's pages.
func (w *Wallet) SetLang(ctx context.Context, lang string) error {
	return w.updateProfile(ctx, func(p *profile) error {
		p.Lang = lang
		return nil
	})
}

// updateProfile reads, changes and writes the holder's profile with no
// other change of a profile in between (a language chosen while a backup
// restores its keys loses neither).
func (w *Wallet) updateProfile(ctx context.Context, change func(p *profile) error) error {
	w.s.profileMu.Lock()
	defer w.s.profileMu.Unlock()
	p, err := w.profile(ctx)
	if err != nil {
		return err
	}
	if err := change(&p); err != nil {
		return err
	}
	return w.put(ctx, KindProfile, profileID, p, 0)
}

// Key returns the holder key new credentials are bound to: a P-256 key
// whose DID is a did:jwk (its ID the DID URL with fragment 0).
func (w *Wallet) Key(ctx context.Context) (*credentials.Key, error) {
	p, err := w.profile(ctx)
	if err != nil {
		return nil, err
	}
	return p.Keys[len(p.Keys)-1].key()
}

// KeyByID returns the holder key a DID (or DID URL) names, or ErrNotFound.
func (w *Wallet) KeyByID(ctx context.Context, id string) (*credentials.Key, error) {
	p, err := w.profile(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range p.Keys {
		if k.DID == id || k.DID+"#0" == id {
			return k.key()
		}
	}
	return nil, fmt.Errorf("holder key: %w", ErrNotFound)
}

func (k holderKey) key() (*credentials.Key, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("holder key: %w", err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("holder key: not a P-256 key")
	}
	return credentials.NewKey(ec, k.DID)
}
