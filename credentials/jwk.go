package credentials

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// PublicJWK returns the public part of k as a JWK (RFC 7517) with its kid
// and alg set.
func PublicJWK(k *Key) (jwk.Key, error) {
	j, err := jwk.FromRaw(k.Public)
	if err != nil {
		return nil, fmt.Errorf("public key to JWK: %w", err)
	}
	if err := j.Set(jwk.KeyIDKey, k.ID); err != nil {
		return nil, err
	}
	if err := j.Set(jwk.AlgorithmKey, k.Alg.JWA()); err != nil {
		return nil, err
	}
	return j, nil
}

// JWKSet returns the public JWK set (RFC 7517 section 5) of an issuer's keys,
// as it is served at /.well-known/jwks.json.
func JWKSet(keys ...*Key) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		j, err := PublicJWK(k)
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(j); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(set, "", "  ")
}

// ParseJWK reads one public JWK: an OKP Ed25519 key or an EC P-256 key. A
// private JWK is refused, so that a trust list never carries a secret. It
// returns the public key and the JWK's kid (maybe empty).
func ParseJWK(data []byte) (crypto.PublicKey, string, error) {
	j, err := jwk.ParseKey(data)
	if err != nil {
		return nil, "", fmt.Errorf("not a JWK: %w", err)
	}
	return publicFromJWK(j)
}

func publicFromJWK(j jwk.Key) (crypto.PublicKey, string, error) {
	if _, isPrivate := j.(interface{ D() []byte }); isPrivate {
		return nil, "", fmt.Errorf("the JWK holds a private key: give the public key only")
	}
	var raw any
	if err := j.Raw(&raw); err != nil {
		return nil, "", fmt.Errorf("JWK: %w", err)
	}
	var pub crypto.PublicKey
	switch p := raw.(type) {
	case ed25519.PublicKey:
		pub = p
	case *ecdsa.PublicKey:
		pub = p
	case ecdsa.PublicKey:
		pub = &p
	default:
		return nil, "", fmt.Errorf("JWK of type %T: only Ed25519 (OKP) and P-256 (EC) keys are supported", raw)
	}
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, "", err
	}
	if p, ok := pub.(*ecdsa.PublicKey); ok {
		// jwx takes any x and y; Bytes refuses a point off the curve.
		if _, err := p.Bytes(); err != nil {
			return nil, "", fmt.Errorf("the EC JWK's x and y are not a point on P-256")
		}
	}
	return pub, j.KeyID(), nil
}
