package issuer

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/tally-id/tally/credentials"
)

// DataKey is an organisation's data key as stored: 32 random bytes,
// sealed with AES-256-GCM under a key derived from the instance's master
// key with scrypt (RFC 7914), like the organisations' signing keys. From
// it come the key that seals each registration's personal data and the
// key of the blind indexes. It is opened once per process and kept in
// memory.
type DataKey struct {
	Org string `json:"org"`
	// Version numbers an organisation's data keys, from 1; a sealed
	// registration names the version that sealed it.
	Version int `json:"version"`
	// KDF is "scrypt", with its parameters N, R, P and Salt.
	KDF  string `json:"kdf"`
	N    int    `json:"n"`
	R    int    `json:"r"`
	P    int    `json:"p"`
	Salt []byte `json:"salt"`
	// Nonce and Ciphertext are the sealed key (AES-256-GCM).
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
	Created    time.Time `json:"created"`
}

// DataKeyStore keeps organisations' sealed data keys: the current one,
// and older ones while records sealed under them remain.
type DataKeyStore interface {
	// DataKey returns an organisation's current data key, or ErrNotFound.
	DataKey(ctx context.Context, org string) (DataKey, error)
	// CreateDataKey stores an organisation's first data key; ErrConflict
	// if it has one.
	CreateDataKey(ctx context.Context, k DataKey) error
	// DataKeys returns every data key an organisation keeps, oldest
	// first: the current one is the last.
	DataKeys(ctx context.Context, org string) ([]DataKey, error)
	// AddDataKey makes k the organisation's current data key, keeping the
	// one before: ErrConflict unless the current one's version is
	// k.Version-1.
	AddDataKey(ctx context.Context, k DataKey) error
	// DeleteDataKey deletes one of the organisation's older data keys:
	// ErrConflict if it is the current one, or a registration is still
	// sealed under it.
	DeleteDataKey(ctx context.Context, org string, version int) error
}

const (
	dataKeySize    = 32
	dataKeyVersion = 1
	scryptR        = 8
	scryptP        = 1
)

// orgSecrets are the keys derived from an organisation's open data key.
type orgSecrets struct {
	version int
	// record seals personal records (AES-256-GCM).
	record cipher.AEAD
	// index keys the blind indexes (HMAC-SHA256).
	index []byte
}

// keyring is an organisation's open data keys: the current one, which
// seals, and the older ones still kept, which open what they sealed
// until a rotation has sealed it again.
type keyring struct {
	current *orgSecrets
	older   []*orgSecrets
}

// version returns the keys of data key version v, or nil.
func (r *keyring) version(v int) *orgSecrets {
	if r.current.version == v {
		return r.current
	}
	for _, k := range r.older {
		if k.version == v {
			return k
		}
	}
	return nil
}

// all returns the current keys, then the older ones.
func (r *keyring) all() []*orgSecrets { return append([]*orgSecrets{r.current}, r.older...) }

// openKeys caches the organisations' open data keys. Opening one costs a
// scrypt derivation, so one runs at a time.
type openKeys struct {
	mu   sync.Mutex
	open map[string]*keyring
}

// ErrNoDataKey is returned when an organisation's data key cannot be
// opened: there is no master key, or not the one that sealed it.
var ErrNoDataKey = errors.New("the organisation's data key cannot be opened")

// secrets returns organisation org's current derived keys, opening its
// data key (or making it, the first time) when this process has not yet.
func (s *Service) secrets(ctx context.Context, org string) (*orgSecrets, error) {
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return nil, err
	}
	return ring.current, nil
}

// keyring returns organisation org's open data keys, opening them (or
// making the first, the first time) when this process has not yet.
func (s *Service) keyring(ctx context.Context, org string) (*keyring, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if r, ok := s.keys.open[org]; ok {
		// Another Service on the same stores (the bulk importer's) may
		// have rotated the data key: what is cached serves only while it
		// is still the current one, so that nothing is sealed, nor
		// indexed, under a key a rotation has retired.
		dk, err := s.dataKeys.DataKey(ctx, org)
		if err != nil {
			return nil, err
		}
		if dk.Version == r.current.version {
			return r, nil
		}
		delete(s.keys.open, org)
	}
	if len(s.masterKey) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoDataKey, errNoMasterKey)
	}
	_, err := s.dataKeys.DataKey(ctx, org)
	if errors.Is(err, ErrNotFound) {
		if _, err = s.newDataKey(ctx, org, dataKeyVersion); isConflict(err) {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	dks, err := s.dataKeys.DataKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	if len(dks) == 0 {
		return nil, fmt.Errorf("data key of %q: %w", org, ErrNotFound)
	}
	r := &keyring{}
	for i, dk := range dks {
		raw, err := s.openDataKey(dk)
		if err != nil {
			return nil, err
		}
		k, err := deriveSecrets(dk.Version, raw)
		clear(raw)
		if err != nil {
			return nil, err
		}
		if i == len(dks)-1 {
			r.current = k
		} else {
			r.older = append(r.older, k)
		}
	}
	s.keys.open[org] = r
	return r, nil
}

// forgetKeys drops organisation org's open data keys, so that the next
// use reads them again (after a rotation).
func (s *Service) forgetKeys(org string) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	delete(s.keys.open, org)
}

// OpenDataKeys opens every organisation's data key, making those that have
// none, so that the first registration of the day does not wait for it
// (and a wrong master key is found at start).
func (s *Service) OpenDataKeys(ctx context.Context) error {
	orgs, err := s.orgs.Organisations(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if _, err := s.secrets(ctx, o.Slug); err != nil {
			return fmt.Errorf("organisation %s: %w", o.Slug, err)
		}
	}
	return nil
}

// newDataKey draws and seals a data key of version version, and stores
// it: as the organisation's first, or as the current one after the
// version before.
func (s *Service) newDataKey(ctx context.Context, org string, version int) (DataKey, error) {
	raw := make([]byte, dataKeySize)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return DataKey{}, fmt.Errorf("draw data key: %w", err)
	}
	defer clear(raw)
	dk := DataKey{Org: org, Version: version, KDF: "scrypt", N: s.scryptN, R: scryptR, P: scryptP,
		Salt: make([]byte, 16), Created: s.now().UTC()}
	if _, err := io.ReadFull(s.rand, dk.Salt); err != nil {
		return DataKey{}, fmt.Errorf("draw salt: %w", err)
	}
	aead, err := s.dataKeyAEAD(dk)
	if err != nil {
		return DataKey{}, err
	}
	dk.Nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, dk.Nonce); err != nil {
		return DataKey{}, fmt.Errorf("draw nonce: %w", err)
	}
	dk.Ciphertext = aead.Seal(nil, dk.Nonce, raw, dataKeyAD(dk))
	store := s.dataKeys.AddDataKey
	if version == dataKeyVersion {
		store = s.dataKeys.CreateDataKey
	}
	if err := store(ctx, dk); err != nil {
		return DataKey{}, err
	}
	return dk, nil
}

// openDataKey unseals a data key with the master key.
func (s *Service) openDataKey(dk DataKey) ([]byte, error) {
	if dk.KDF != "scrypt" || dk.R != scryptR || dk.P != scryptP || dk.N < s.scryptN || dk.N > credentials.DefaultScryptN ||
		dk.N&(dk.N-1) != 0 || len(dk.Salt) < 16 {
		return nil, fmt.Errorf("%w: organisation %s's data key has unsupported or too weak sealing parameters", ErrNoDataKey, dk.Org)
	}
	aead, err := s.dataKeyAEAD(dk)
	if err != nil {
		return nil, err
	}
	if len(dk.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: organisation %s's data key is damaged", ErrNoDataKey, dk.Org)
	}
	raw, err := aead.Open(nil, dk.Nonce, dk.Ciphertext, dataKeyAD(dk))
	if err != nil || len(raw) != dataKeySize {
		return nil, fmt.Errorf("%w: the master key does not open organisation %s's data key (is it the master key it was sealed with?)", ErrNoDataKey, dk.Org)
	}
	return raw, nil
}

func (s *Service) dataKeyAEAD(dk DataKey) (cipher.AEAD, error) {
	kek, err := scrypt.Key(s.masterKey, dk.Salt, dk.N, dk.R, dk.P, 32)
	if err != nil {
		return nil, fmt.Errorf("derive the data key's sealing key: %w", err)
	}
	return newGCM(kek)
}

// dataKeyAD binds a sealed data key to its organisation and version, so
// that one cannot be swapped for another.
func dataKeyAD(dk DataKey) []byte {
	return fmt.Appendf(nil, "tally-data-key-v1\x00%s\x00%d", dk.Org, dk.Version)
}

// deriveSecrets derives the record and index keys from a data key with
// HKDF-SHA256 (RFC 5869).
func deriveSecrets(version int, raw []byte) (*orgSecrets, error) {
	recordKey, err := hkdf.Key(sha256.New, raw, nil, "tally registration record v1", 32)
	if err != nil {
		return nil, err
	}
	indexKey, err := hkdf.Key(sha256.New, raw, nil, "tally registration index v1", 32)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(recordKey)
	if err != nil {
		return nil, err
	}
	return &orgSecrets{version: version, record: aead, index: indexKey}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts a registration's personal record; ad binds it to the
// registration's organisation and id. The result is the nonce followed by
// the ciphertext.
func (k *orgSecrets) seal(rand io.Reader, plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, k.record.NonceSize(), k.record.NonceSize()+len(plaintext)+k.record.Overhead())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	return k.record.Seal(nonce, nonce, plaintext, ad), nil
}

// errDamaged is the error of a sealed record that does not open.
var errDamaged = errors.New("a sealed registration does not open: it was altered, or sealed under another data key")

func (k *orgSecrets) open(sealed, ad []byte) ([]byte, error) {
	n := k.record.NonceSize()
	if len(sealed) < n+k.record.Overhead() {
		return nil, errDamaged
	}
	plain, err := k.record.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, errDamaged
	}
	return plain, nil
}

// blind returns the blind index of a value of one kind: the first 16 bytes
// of HMAC-SHA256 under the organisation's index key, over the kind and the
// value. Equal values of one kind give equal indexes; nothing else can be
// learnt from one without the key.
func (k *orgSecrets) blind(kind IndexKind, value string) []byte {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte("tally-index-v1\x00"))
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)[:IndexSize]
}
