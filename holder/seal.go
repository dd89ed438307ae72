package holder

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// KDFParams are argon2id's parameters (RFC 9106).
type KDFParams struct {
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// DefaultKDF is OWASP's smallest recommended argon2id cost (19 MiB, two
// passes): a PIN cannot be tried offline without the device secret, so
// the cost is there for a stolen phone together with a stolen database,
// and must stay low enough for a 2-core server signing holders in.
func DefaultKDF() KDFParams { return KDFParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1} }

// Bounds on stored KDF parameters, so that a tampered account cannot make
// the server spend unbounded memory or time.
const (
	maxKDFTime      = 10
	maxKDFMemoryKiB = 256 * 1024
	maxKDFThreads   = 4
)

func (p KDFParams) check() error {
	if p.Time < 1 || p.Time > maxKDFTime || p.Threads < 1 || p.Threads > maxKDFThreads ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB {
		return errors.New("holder: KDF parameters out of bounds")
	}
	return nil
}

// dataKeySize is the size of a holder's data key (AES-256).
const dataKeySize = 32

// derive returns the AES-256 key that seals a data key, from a secret
// (the PIN and device secret, or the recovery code) and a salt. purpose
// separates the keys of the PIN and of the recovery code.
func (s *Service) derive(ctx context.Context, p KDFParams, secret, salt []byte, purpose string) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := s.slots.acquire(ctx); err != nil {
		return nil, err
	}
	ikm := argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	s.slots.release()
	return hkdf.Key(sha256.New, ikm, nil, "tally holder "+purpose, 32)
}

// pinSecret is the argon2id input of the PIN key: the PIN and the device
// secret, length-prefixed so that no two pairs give the same input.
func pinSecret(pin string, device []byte) []byte {
	b := make([]byte, 0, 2+len(pin)+len(device))
	b = append(b, byte(len(pin)>>8), byte(len(pin)))
	b = append(b, pin...)
	return append(b, device...)
}

// seal encrypts plain under key with AES-256-GCM and a random nonce,
// binding it to aad; the result is nonce || ciphertext.
func seal(r io.Reader, key, plain, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

// errOpen is a sealed value that does not open: a wrong key, or tampering.
var errOpen = errors.New("holder: sealed data does not open")

// open decrypts what seal made.
func open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize()+gcm.Overhead() {
		return nil, errOpen
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("holder: %w", err)
	}
	return cipher.NewGCM(b)
}

// keyID is the public name of a data key: a keyed fingerprint that
// tells two keys apart and reveals nothing of either.
func keyID(dataKey []byte) string {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte("tally holder key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// keyAAD binds a sealed data key to its account and to what sealed it.
func keyAAD(id, by string) []byte { return []byte("tally-holder-key/v1\x00" + id + "\x00" + by) }

// itemAAD binds a sealed item to its holder, kind and id, so that no item
// can be moved to another holder or place.
func itemAAD(holder string, kind Kind, id string) []byte {
	return []byte("tally-holder-item/v1\x00" + holder + "\x00" + string(kind) + "\x00" + id)
}

// slots bounds how many argon2id computations run at once.
type slots chan struct{}

func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() { <-s }
