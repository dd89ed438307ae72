package credentials

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// Algorithm is a signature algorithm, named as in JOSE (RFC 7518, RFC 8037).
type Algorithm string

// The signature algorithms an issuer key may use.
const (
	// EdDSA is Ed25519 (RFC 8032), the default.
	EdDSA Algorithm = "EdDSA"
	// ES256 is ECDSA on P-256 with SHA-256.
	ES256 Algorithm = "ES256"
)

// JWA is the algorithm's JOSE name as jwx knows it, or "" for an algorithm
// tally does not use.
func (a Algorithm) JWA() jwa.SignatureAlgorithm {
	switch a {
	case EdDSA:
		return jwa.EdDSA
	case ES256:
		return jwa.ES256
	}
	return ""
}

// samePublicKey reports whether two public keys are the same key.
func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// ParseAlgorithm reads an algorithm as the command line names it: ed25519
// or p256 (EdDSA and ES256 are accepted too).
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToLower(s) {
	case "ed25519", "eddsa", "":
		return EdDSA, nil
	case "p256", "p-256", "es256":
		return ES256, nil
	}
	return "", fmt.Errorf("unknown key algorithm %q: use ed25519 or p256", s)
}

// Key is an issuer's key: the public key and its identifiers, and, for the
// issuer itself, the private key behind a crypto.Signer.
type Key struct {
	// Alg is the key's signature algorithm.
	Alg Algorithm
	// DID is the issuer's DID: did:key:... or did:web:DOMAIN.
	DID string
	// ID is the verification method id: the DID, "#", and a fragment.
	ID string
	// Public is an ed25519.PublicKey or an *ecdsa.PublicKey on P-256.
	Public crypto.PublicKey
	// Signer signs with the private key; nil for a public key.
	Signer crypto.Signer
}

// GenerateKey makes a new private key for alg from rand.
func GenerateKey(alg Algorithm, rand io.Reader) (crypto.Signer, error) {
	switch alg {
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		return priv, nil
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand)
		if err != nil {
			return nil, fmt.Errorf("generate P-256 key: %w", err)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("unknown key algorithm %q", alg)
}

// AlgorithmOf returns the algorithm of a public key, or an error for keys
// tally does not use.
func AlgorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", errors.New("Ed25519 public key has the wrong length")
		}
		return EdDSA, nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", fmt.Errorf("ECDSA key on %s: only P-256 is supported", p.Curve.Params().Name)
		}
		return ES256, nil
	}
	return "", fmt.Errorf("unsupported public key type %T: use Ed25519 or P-256", pub)
}

// NewKey wraps a signer as an issuer key. With did empty the key's DID is
// its did:key; with a did:web DID, the verification method's fragment is the
// key's thumbprint.
func NewKey(signer crypto.Signer, did string) (*Key, error) {
	k, err := NewPublicKey(signer.Public(), did)
	if err != nil {
		return nil, err
	}
	k.Signer = signer
	return k, nil
}

// NewPublicKey makes a Key for a public key, as NewKey does.
func NewPublicKey(pub crypto.PublicKey, did string) (*Key, error) {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return nil, err
	}
	k := &Key{Alg: alg, Public: pub}
	switch {
	case did == "":
		k.DID, err = DIDKey(pub)
		if err != nil {
			return nil, err
		}
		k.ID = k.DID + "#" + strings.TrimPrefix(k.DID, "did:key:")
	case strings.HasPrefix(did, "did:web:"):
		if _, err := DIDWebURL(did); err != nil {
			return nil, err
		}
		k.DID = did
		k.ID = did + "#" + base64.RawURLEncoding.EncodeToString(k.Thumbprint())
	case strings.HasPrefix(did, "did:key:"):
		want, err := DIDKey(pub)
		if err != nil {
			return nil, err
		}
		if did != want {
			return nil, fmt.Errorf("%s is not this key's did:key (%s)", did, want)
		}
		k.DID = did
		k.ID = did + "#" + strings.TrimPrefix(did, "did:key:")
	case strings.HasPrefix(did, "did:jwk:"):
		want, err := ParseDIDJWK(did)
		if err != nil {
			return nil, err
		}
		if !samePublicKey(want, pub) {
			return nil, fmt.Errorf("%s is not this key's did:jwk", did)
		}
		k.DID = did
		k.ID = did + "#0"
	default:
		return nil, fmt.Errorf("unsupported DID method in %q: use did:key, did:jwk or did:web", did)
	}
	return k, nil
}

// PublicOnly returns a copy of k without its private part.
func (k *Key) PublicOnly() *Key {
	c := *k
	c.Signer = nil
	return &c
}

// Thumbprint is the key's RFC 7638 JWK thumbprint (SHA-256).
func (k *Key) Thumbprint() []byte {
	return Thumbprint(k.Public)
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256) of a public key.
func Thumbprint(pub crypto.PublicKey) []byte {
	var members string
	switch p := pub.(type) {
	case ed25519.PublicKey:
		members = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64(p))
	case *ecdsa.PublicKey:
		x, y := ecCoordinates(p)
		members = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(x), b64(y))
	default:
		return nil
	}
	sum := sha256.Sum256([]byte(members))
	return sum[:]
}

// CardKeyIDSize is the length of the short key id a QR card carries.
const CardKeyIDSize = 8

// CardKeyID is the short key id a QR card carries in its COSE kid: the
// first 8 bytes of the key's thumbprint. Verifiers look it up among the
// keys of their trust list; the signature decides.
func (k *Key) CardKeyID() []byte { return k.Thumbprint()[:CardKeyIDSize] }

// ecCoordinates returns the 32-byte big-endian x and y of a P-256 key.
func ecCoordinates(p *ecdsa.PublicKey) (x, y []byte) {
	raw, err := p.Bytes() // 0x04 || x || y
	if err != nil || len(raw) != 65 {
		return nil, nil
	}
	return raw[1:33], raw[33:]
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// VerifySignature checks sig over msg with the key, using the algorithm's raw
// signature form (64 bytes r||s for ES256, as JOSE and COSE use).
func VerifySignature(pub crypto.PublicKey, msg, sig []byte) bool {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return len(p) == ed25519.PublicKeySize && ed25519.Verify(p, msg, sig)
	case *ecdsa.PublicKey:
		return verifyES256(p, msg, sig)
	}
	return false
}

func verifyES256(p *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(msg)
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(p, h[:], r, s)
}
