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

// The scrypt cost of a sealed key file (RFC 7914): N = 2^17, r = 8, p = 1,
// about half a second and 128 MiB of memory on a laptop, per attempt at
// guessing the passphrase. SealKey writes it, and OpenKey refuses a file
// sealed at a lower cost: re-seal it (tally keys reseal).
const (
	DefaultScryptN = 1 << 17
	scryptR        = 8
	scryptP        = 1
)

// LowestScryptN is the lowest scrypt cost SealKey can be told to use, and
// the lowest OpenOptions.MinScryptN can admit. Tests use it to stay fast;
// re-sealing uses it to open a file sealed by an older tally (whose
// default was 2^15) once, to seal it again at DefaultScryptN.
const LowestScryptN = 1 << 10

// maxScryptN is the largest scrypt cost a key file may ask for (128 MiB of
// memory): a crafted file must not make opening it exhaust the machine.
const maxScryptN = DefaultScryptN

// ErrWrongPassphrase is returned by OpenKey when the passphrase does not
// open the key file (or the file was altered).
var ErrWrongPassphrase = errors.New("the passphrase does not open this key file, or the file was altered")

// ErrWeakKeyFile is returned (wrapped) by OpenKey for a key file sealed at
// a lower scrypt cost than it requires. The file is fine otherwise: open
// it once with OpenOptions{MinScryptN: LowestScryptN} and seal it again.
var ErrWeakKeyFile = errors.New("the key file is sealed at a lower cost than this tally requires: re-seal it")

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

// SealOptions tune SealKey. The zero value uses the defaults, which is
// what every production caller passes.
type SealOptions struct {
	// ScryptN is the scrypt cost (a power of two from LowestScryptN to
	// DefaultScryptN); DefaultScryptN if zero. Only tests lower it, to stay
	// fast; OpenKey refuses such a file unless told otherwise.
	ScryptN int
}

// SealKey writes k, with its private key sealed under passphrase, as a key
// file. The passphrase must pass CheckPassphrase. rand supplies the salt
// and nonce.
func SealKey(k *Key, passphrase []byte, rand io.Reader, opts SealOptions) ([]byte, error) {
	if k.Signer == nil {
		return nil, errors.New("the key has no private part to seal")
	}
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	n := opts.ScryptN
	if n == 0 {
		n = DefaultScryptN
	}
	if n < LowestScryptN || n > maxScryptN || n&(n-1) != 0 {
		return nil, fmt.Errorf("scrypt cost %d must be a power of two from %d to %d", n, LowestScryptN, maxScryptN)
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

// OpenOptions tune OpenKey. The zero value is what every production
// caller passes.
type OpenOptions struct {
	// MinScryptN is the least scrypt cost the key file may be sealed at;
	// DefaultScryptN if zero. Tests that seal cheap key files to stay fast
	// lower it to the cost they seal at, and re-sealing lowers it to
	// LowestScryptN; nothing else should.
	MinScryptN int
}

// OpenKey reads a key file and unseals its private key with passphrase.
// A file sealed at a lower scrypt cost than opts allow is refused, before
// any key derivation, with an error wrapping ErrWeakKeyFile.
func OpenKey(data, passphrase []byte, opts OpenOptions) (*Key, error) {
	f, pub, err := readKeyFile(data)
	if err != nil {
		return nil, err
	}
	if err := f.Sealed.checkParams(); err != nil {
		return nil, err
	}
	least := opts.MinScryptN
	if least == 0 {
		least = DefaultScryptN
	}
	if least < LowestScryptN {
		return nil, fmt.Errorf("OpenOptions.MinScryptN %d is below the lowest scrypt cost, %d", least, LowestScryptN)
	}
	if f.Sealed.N < least {
		return nil, fmt.Errorf("key file: sealed with scrypt cost N=%d, below the N=%d required: %w", f.Sealed.N, least, ErrWeakKeyFile)
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

// KeyFileCost returns the scrypt cost N a key file is sealed at. A cost
// below DefaultScryptN means the file must be re-sealed before OpenKey,
// with the default options, opens it.
func KeyFileCost(data []byte) (int, error) {
	f, _, err := readKeyFile(data)
	if err != nil {
		return 0, err
	}
	if err := f.Sealed.checkParams(); err != nil {
		return 0, err
	}
	return f.Sealed.N, nil
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

// checkParams checks the scrypt parameters a key file names.
func (s *sealedKey) checkParams() error {
	if s.N < LowestScryptN || s.N > maxScryptN || s.N&(s.N-1) != 0 || s.R != scryptR || s.P != scryptP || len(s.Salt) < 16 {
		return errors.New("key file: unsupported scrypt parameters")
	}
	return nil
}

func (s *sealedKey) aead(passphrase []byte) (cipher.AEAD, error) {
	if err := s.checkParams(); err != nil {
		return nil, err
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
