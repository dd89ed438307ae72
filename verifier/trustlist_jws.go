package verifier

import (
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// TrustListMediaType is the typ header of a signed trust list.
const TrustListMediaType = "tally-trust-list+jws"

// maxTrustListSize bounds a trust list file (a 1,000-issuer list is ~1 MB).
const maxTrustListSize = 16 << 20

// SignTrustList signs t with a trust anchor's key, as a compact JWS whose
// payload is the list's JSON. The list is stamped as issued at now and, if
// it has no ValidUntil, valid for validFor.
func SignTrustList(t *TrustList, anchor *credentials.Key, now time.Time, validFor time.Duration) ([]byte, error) {
	if anchor.Signer == nil {
		return nil, errors.New("sign trust list: the anchor key has no private part")
	}
	t.Issued = now.UTC().Truncate(time.Second)
	if t.ValidUntil.IsZero() {
		if validFor <= 0 {
			return nil, errors.New("sign trust list: say for how long it is valid")
		}
		t.ValidUntil = t.Issued.Add(validFor)
	}
	payload, err := t.Marshal()
	if err != nil {
		return nil, err
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{jws.KeyIDKey: anchor.ID, jws.TypeKey: TrustListMediaType} {
		if err := hdr.Set(k, v); err != nil {
			return nil, err
		}
	}
	return jws.Sign(payload, jws.WithKey(anchor.Alg.JWA(), anchor.Signer, jws.WithProtectedHeaders(hdr)))
}

// verifyTrustListJWS checks a signed trust list against the anchors and
// returns its payload and the anchor whose signature it has.
func verifyTrustListJWS(data []byte, anchors []crypto.PublicKey) ([]byte, crypto.PublicKey, error) {
	if len(data) > maxTrustListSize {
		return nil, nil, fmt.Errorf("trust list: larger than %d MiB", maxTrustListSize>>20)
	}
	msg, err := jws.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("trust list: neither JSON nor a signed JWS: %v", err)
	}
	if len(anchors) == 0 {
		return nil, nil, errors.New("trust list: it is signed, but no trust anchor key was given to check it")
	}
	if len(msg.Signatures()) != 1 {
		return nil, nil, errors.New("trust list: the JWS must have exactly one signature")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != TrustListMediaType {
		return nil, nil, fmt.Errorf("trust list: the JWS has typ %q, not %q", h.Type(), TrustListMediaType)
	}
	alg := h.Algorithm()
	if alg != jwa.EdDSA && alg != jwa.ES256 {
		return nil, nil, fmt.Errorf("trust list: signature algorithm %s is not accepted (EdDSA or ES256)", alg)
	}
	for _, a := range anchors {
		kalg, err := credentials.AlgorithmOf(a)
		if err != nil || kalg.JWA() != alg {
			continue
		}
		if payload, err := jws.Verify(data, jws.WithKey(alg, a)); err == nil {
			return payload, a, nil
		}
	}
	return nil, nil, errors.New("trust list: the signature is not by any of the trust anchors given")
}
