package credentials

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/scrypt"
)

// KeyFileVersion is the version of the key file format SealKey writes.
const KeyFileVersion = 1

// Default scrypt cost of a sealed key file: about 100 ms and 32 MiB on a
// laptop, per attempt at guessing the passphrase.
const (
	DefaultScryptN = 1 << 15
	scryptR        = 8
	scryptP        = 1
)

// maxScryptN is the largest scrypt cost a key file may ask for (128 MiB of
// memory): a crafted file must not make opening it exhaust the machine.
const maxScryptN = 1 << 17

// MinPassphraseLength is the shortest passphrase SealKey accepts.
const MinPassphraseLength = 12

// ErrWrongPassphrase is returned by OpenKey when the passphrase does not
// open the key file (or the file was altered).
var ErrWrongPassphrase = errors.New("the passphrase does not open this key file, or the file was altered")

// keyFile is the JSON form of a sealed key: the public part in the clear,
// the private key (PKCS #8) sealed with AES-256-GCM under a key derived from
// the passphrase with scrypt (RFC 7914). The public fields are the
// additional data of the seal, so they cannot be swapped.
type keyFile struct {
	Version int             `json:"version"`
	Alg     Algorithm       `json:"alg"`
	DID     string          `json:"did"`
	KeyID   string          `json:"kid"`
	JWK     json.RawMessage `json:"publicKeyJwk"`
	Sealed  *sealedKey      `json:"sealed"`
}

type sealedKey struct {
	KDF        string `json:"kdf"`
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// SealOptions tune SealKey. The zero value uses the defaults.
type SealOptions struct {
	// ScryptN is the scrypt cost (a power of two); DefaultScryptN if zero.
	// Tests lower it; nothing else should.
	ScryptN int
}

// SealKey writes k, with its private key sealed under passphrase, as a key
// file. rand supplies the salt and nonce.
func SealKey(k *Key, passphrase []byte, rand io.Reader, opts SealOptions) ([]byte, error) {
	if k.Signer == nil {
		return nil, errors.New("the key has no private part to seal")
	}
	if len(passphrase) < MinPassphraseLength {
		return nil, fmt.Errorf("the passphrase is too short: use at least %d characters", MinPassphraseLength)
	}
	n := opts.ScryptN
	if n == 0 {
		n = DefaultScryptN
	}
	if n < 1<<10 || n > maxScryptN || n&(n-1) != 0 {
		return nil, fmt.Errorf("scrypt cost %d must be a power of two from 1024 to %d", n, maxScryptN)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	jwkJSON, err := publicJWKJSON(k)
	if err != nil {
		return nil, err
	}
	f := keyFile{Version: KeyFileVersion, Alg: k.Alg, DID: k.DID, KeyID: k.ID, JWK: jwkJSON}
	s := &sealedKey{KDF: "scrypt", N: n, R: scryptR, P: scryptP, Salt: make([]byte, 16)}
	if _, err := io.ReadFull(rand, s.Salt); err != nil {
		return nil, fmt.Errorf("draw salt: %w", err)
	}
	aead, err := s.aead(passphrase)
	if err != nil {
		return nil, err
	}
	s.Nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand, s.Nonce); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	s.Ciphertext = aead.Seal(nil, s.Nonce, der, f.additionalData())
	f.Sealed = s
	return json.MarshalIndent(f, "", "  ")
}

// OpenKey reads a key file and unseals its private key with passphrase.
func OpenKey(data, passphrase []byte) (*Key, error) {
	f, pub, err := readKeyFile(data)
	if err != nil {
		return nil, err
	}
	aead, err := f.Sealed.aead(passphrase)
	if err != nil {
		return nil, err
	}
	if len(f.Sealed.Nonce) != aead.NonceSize() {
		// aead.Open panics on a nonce of another size.
		return nil, fmt.Errorf("key file: the nonce is %d bytes, not %d", len(f.Sealed.Nonce), aead.NonceSize())
	}
	der, err := aead.Open(nil, f.Sealed.Nonce, f.Sealed.Ciphertext, f.additionalData())
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("key file: sealed key is not PKCS #8: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key file: sealed key of type %T cannot sign", priv)
	}
	if !samePublicKey(signer.Public(), pub.Public) {
		return nil, errors.New("key file: the sealed private key does not match the public key")
	}
	pub.Signer = signer
	return pub, nil
}

// ReadPublicKey reads the public part of a key file; no passphrase needed.
func ReadPublicKey(data []byte) (*Key, error) {
	_, k, err := readKeyFile(data)
	return k, err
}

func readKeyFile(data []byte) (*keyFile, *Key, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("not a tally key file: %v", err)
	}
	if f.Version != KeyFileVersion {
		return nil, nil, fmt.Errorf("key file version %d is not supported (this tally reads version %d)", f.Version, KeyFileVersion)
	}
	if f.Sealed == nil || f.Sealed.KDF != "scrypt" {
		return nil, nil, errors.New("key file: the private key is not sealed with scrypt")
	}
	pub, _, err := ParseJWK(f.JWK)
	if err != nil {
		return nil, nil, fmt.Errorf("key file: publicKeyJwk: %w", err)
	}
	k, err := NewPublicKey(pub, f.DID)
	if err != nil {
		return nil, nil, fmt.Errorf("key file: %w", err)
	}
	if k.ID != f.KeyID || k.Alg != f.Alg {
		return nil, nil, errors.New("key file: kid or alg does not match the public key")
	}
	return &f, k, nil
}

// additionalData binds the public fields to the seal. The JWK is compacted
// first, since indenting the file re-indents it.
func (f *keyFile) additionalData() []byte {
	var jwk bytes.Buffer
	if err := json.Compact(&jwk, f.JWK); err != nil {
		jwk.Write(f.JWK)
	}
	return []byte(fmt.Sprintf("tally-key-v%d\x00%s\x00%s\x00%s\x00%s", f.Version, f.Alg, f.DID, f.KeyID, jwk.Bytes()))
}

func (s *sealedKey) aead(passphrase []byte) (cipher.AEAD, error) {
	if s.N < 1<<10 || s.N > maxScryptN || s.N&(s.N-1) != 0 || s.R != scryptR || s.P != scryptP || len(s.Salt) < 16 {
		return nil, errors.New("key file: unsupported scrypt parameters")
	}
	key, err := scrypt.Key(passphrase, s.Salt, s.N, s.R, s.P, 32)
	if err != nil {
		return nil, fmt.Errorf("derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func publicJWKJSON(k *Key) ([]byte, error) {
	j, err := PublicJWK(k)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}
