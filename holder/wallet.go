package holder

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Wallet is a signed-in holder's wallet: every method reads and writes
// that holder's items only, sealed under their data key.
type Wallet struct {
	s       *Service
	holder  string
	dataKey []byte
	token   string // the session's key in Service.sessions
}

// ID is the wallet number.
func (w *Wallet) ID() string { return w.holder }

// SignOut ends the session w came from.
func (w *Wallet) SignOut() {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	delete(w.s.sessions, w.token)
}

// maxItem bounds one sealed item's plain text: a credential with its
// disclosures, or a profile with its keys.
const maxItem = 256 << 10

// put seals v as the item kind/id.
func (w *Wallet) put(ctx context.Context, kind Kind, id string, v any, max int) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(plain) > maxItem {
		return invalid("this is too large to keep in a wallet (%d KB at most)", maxItem>>10)
	}
	sealed, err := seal(w.s.rand, w.dataKey, plain, itemAAD(w.holder, kind, id))
	if err != nil {
		return err
	}
	return w.s.store.PutItem(ctx, Item{Holder: w.holder, Kind: kind, ID: id, Sealed: sealed, KeyID: keyID(w.dataKey)}, max)
}

// get opens the item kind/id into v.
func (w *Wallet) get(ctx context.Context, kind Kind, id string, v any) error {
	it, err := w.s.store.Item(ctx, w.holder, kind, id)
	if err != nil {
		return err
	}
	return w.unseal(it, v)
}

func (w *Wallet) unseal(it Item, v any) error {
	if it.Holder != w.holder || it.Kind == "" {
		return ErrNotFound
	}
	plain, err := open(w.dataKey, it.Sealed, itemAAD(w.holder, it.Kind, it.ID))
	if err != nil {
		return fmt.Errorf("holder: item %s/%s: %w", it.Kind, it.ID, err)
	}
	return json.Unmarshal(plain, v)
}

// all opens every item of a kind into a slice of T.
func all[T any](ctx context.Context, w *Wallet, kind Kind) ([]T, error) {
	items, err := w.s.store.Items(ctx, w.holder, kind)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		var v T
		if err := w.unseal(it, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// newID draws an item id: 16 base32 characters (80 bits).
func (w *Wallet) newID() (string, error) { return w.s.code(16) }

// --- credentials ---

// Credential is a credential the holder keeps, as received.
type Credential struct {
	ID string `json:"id"`
	// Format is the credential's format: "dc+sd-jwt", "jwt_vc_json" (a
	// VC-JWT), or "qr" (a QR card).
	Format string `json:"format"`
	// Raw is the credential as received: an SD-JWT with every disclosure,
	// a compact JWT, or a QR card's base45 text.
	Raw string `json:"raw"`
	// Issuer is the issuer's identifier (a DID or an https URL), and
	// IssuerName its display name when its metadata gave one.
	Issuer     string `json:"issuer"`
	IssuerName string `json:"issuer_name,omitempty"`
	// Type is the credential's type (a VC type or an SD-JWT vct), and
	// Name its display name.
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// Configuration is the OpenID4VCI credential_configuration_id it was
	// offered under, if any.
	Configuration string `json:"configuration,omitempty"`
	// HolderKey is the DID URL of the holder key the credential is bound
	// to (cnf), if any.
	HolderKey string `json:"holder_key,omitempty"`
	// Unverified says the issuer's signature could not be checked when
	// it came (its key could not be found); the holder is told.
	Unverified bool `json:"unverified,omitempty"`
	// Source says how it came: "oid4vci", "card-photo", "backup".
	Source   string    `json:"source"`
	Received time.Time `json:"received"`
}

// AddCredential keeps a credential, giving it an id and its time of
// receipt; ErrFull when the wallet keeps Options.MaxCredentials.
func (w *Wallet) AddCredential(ctx context.Context, c Credential) (Credential, error) {
	if c.Raw == "" || c.Format == "" {
		return Credential{}, invalid("a credential needs its text and format")
	}
	id, err := w.newID()
	if err != nil {
		return Credential{}, err
	}
	c.ID = id
	if c.Received.IsZero() {
		c.Received = w.s.now().UTC()
	}
	if err := w.put(ctx, KindCredential, id, c, w.s.opts.MaxCredentials); err != nil {
		if errors.Is(err, ErrFull) {
			return Credential{}, fmt.Errorf("a wallet keeps %d credentials at most: delete some first: %w", w.s.opts.MaxCredentials, ErrFull)
		}
		return Credential{}, err
	}
	return c, nil
}

// Credentials returns the holder's credentials, the newest first.
func (w *Wallet) Credentials(ctx context.Context) ([]Credential, error) {
	cs, err := all[Credential](ctx, w, KindCredential)
	slices.SortStableFunc(cs, func(a, b Credential) int { return b.Received.Compare(a.Received) })
	return cs, err
}

// Credential returns one of the holder's credentials, or ErrNotFound.
func (w *Wallet) Credential(ctx context.Context, id string) (Credential, error) {
	var c Credential
	err := w.get(ctx, KindCredential, id, &c)
	return c, err
}

// DeleteCredential deletes one of the holder's credentials.
func (w *Wallet) DeleteCredential(ctx context.Context, id string) error {
	if err := w.s.store.DeleteItem(ctx, w.holder, KindCredential, id); err != nil {
		return err
	}
	return w.forgetStatus(ctx, id) // its last status check (pwa.go)
}

// --- the share log ---

// Share is one entry of the log of what the holder shared.
type Share struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Verifier is who asked (an OpenID4VP client_id, or "" for a QR
	// shown at a service point), VerifierName their name as shown.
	Verifier     string `json:"verifier,omitempty"`
	VerifierName string `json:"verifier_name,omitempty"`
	// Purpose is what they said it was for.
	Purpose string `json:"purpose,omitempty"`
	// Credentials are the ids of the credentials shown; Claims the names
	// of the claims disclosed.
	Credentials []string `json:"credentials"`
	Claims      []string `json:"claims"`
	// Mode is "oid4vp" or "qr".
	Mode string `json:"mode"`
	// Outcome is what the verifier answered, when it did ("accepted",
	// "refused").
	Outcome string `json:"outcome,omitempty"`
}

// LogShare adds an entry to the share log; when the log is full, the
// oldest entry gives way.
func (w *Wallet) LogShare(ctx context.Context, sh Share) (Share, error) {
	id, err := w.newID()
	if err != nil {
		return Share{}, err
	}
	sh.ID = id
	if sh.At.IsZero() {
		sh.At = w.s.now().UTC()
	}
	for range 2 {
		err = w.put(ctx, KindShare, id, sh, w.s.opts.MaxShares)
		if !errors.Is(err, ErrFull) {
			return sh, err
		}
		log, err := w.Shares(ctx)
		if err != nil {
			return Share{}, err
		}
		for _, old := range log[w.s.opts.MaxShares-1:] {
			if err := w.s.store.DeleteItem(ctx, w.holder, KindShare, old.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return Share{}, err
			}
		}
	}
	return Share{}, err
}

// Shares returns the share log, the newest first.
func (w *Wallet) Shares(ctx context.Context) ([]Share, error) {
	log, err := all[Share](ctx, w, KindShare)
	slices.SortStableFunc(log, func(a, b Share) int { return cmp.Compare(b.At.UnixNano(), a.At.UnixNano()) })
	return log, err
}

// --- everything ---

// DeleteAll deletes the wallet: the account, every credential, the log,
// the keys. The session ends; nothing can be opened again.
func (w *Wallet) DeleteAll(ctx context.Context) error {
	if err := w.s.store.DeleteAccount(ctx, w.holder); err != nil {
		return err
	}
	w.s.endSessionsOf(w.holder)
	return nil
}
