package registry

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// Kinds of dedup domain.
const (
	// KindOwn is an agency's own domain: its key never leaves it.
	KindOwn = "own"
	// KindConsortium is a domain whose key the members of a consortium
	// share, so that they recognise each other's beneficiaries.
	KindConsortium = "consortium"
)

// Domain is a dedup domain as stored: its key sealed.
type Domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is KindOwn or KindConsortium.
	Kind string `json:"kind"`
	// Members names the agencies that hold the key (for a consortium, every
	// member; for an agency's own domain, the agency).
	Members []string  `json:"members"`
	Key     SealedKey `json:"key"`
	Created time.Time `json:"created"`
}

// SealedKey is a domain's 32-byte key sealed with AES-256-GCM under a key
// derived from the master key with scrypt (RFC 7914). The domain id is the
// seal's additional data: a sealed key cannot be moved to another domain.
type SealedKey struct {
	KDF        string `json:"kdf"`
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

const (
	scryptR  = 8
	scryptP  = 1
	saltSize = 16
)

// String never shows the sealed bytes, so that a domain printed by
// mistake shows nothing of its key.
func (k SealedKey) String() string { return fmt.Sprintf("sealed key (%s, N=%d)", k.KDF, k.N) }

func keyAD(domain string) []byte { return fmt.Appendf(nil, "tally-dedup-domain-key-v1\x00%s", domain) }

func keyAEAD(master []byte, k SealedKey) (cipher.AEAD, error) {
	kek, err := scrypt.Key(master, k.Salt, k.N, k.R, k.P, 32)
	if err != nil {
		return nil, fmt.Errorf("derive the domain key's sealing key: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealKey seals a domain key under master.
func sealKey(master []byte, key verifier.DedupKey, n int, rand io.Reader) (SealedKey, error) {
	s := SealedKey{KDF: "scrypt", N: n, R: scryptR, P: scryptP, Salt: make([]byte, saltSize)}
	if _, err := io.ReadFull(rand, s.Salt); err != nil {
		return SealedKey{}, fmt.Errorf("draw salt: %w", err)
	}
	aead, err := keyAEAD(master, s)
	if err != nil {
		return SealedKey{}, err
	}
	s.Nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand, s.Nonce); err != nil {
		return SealedKey{}, fmt.Errorf("draw nonce: %w", err)
	}
	s.Ciphertext = aead.Seal(nil, s.Nonce, key.Secret[:], keyAD(key.Domain))
	return s, nil
}

// openKey unseals domain d's key with master; minN is the least scrypt
// cost accepted, so that a store cannot make opening a key cheap to guess.
func openKey(master []byte, d Domain, minN int) (verifier.DedupKey, error) {
	k := d.Key
	if k.KDF != "scrypt" || k.R != scryptR || k.P != scryptP || k.N < minN || k.N > credentials.DefaultScryptN ||
		k.N&(k.N-1) != 0 || len(k.Salt) < saltSize {
		return verifier.DedupKey{}, fmt.Errorf("%w: domain %s's key has unsupported or too weak sealing parameters", ErrNoKey, d.ID)
	}
	aead, err := keyAEAD(master, k)
	if err != nil {
		return verifier.DedupKey{}, err
	}
	if len(k.Nonce) != aead.NonceSize() {
		return verifier.DedupKey{}, fmt.Errorf("%w: domain %s's sealed key is damaged", ErrNoKey, d.ID)
	}
	raw, err := aead.Open(nil, k.Nonce, k.Ciphertext, keyAD(d.ID))
	if err != nil || len(raw) != verifier.DedupKeySize {
		return verifier.DedupKey{}, fmt.Errorf("%w: the master key does not open domain %s's key (is it the master key it was sealed with?)", ErrNoKey, d.ID)
	}
	out := verifier.DedupKey{Domain: d.ID}
	copy(out.Secret[:], raw)
	clear(raw)
	return out, nil
}
