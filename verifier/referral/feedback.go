package referral

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// FeedbackType is the typ of a feedback JWT's header.
const FeedbackType = "tally-referral-feedback+jwt"

// MaxFeedbackJWT is the largest feedback JWT read, in bytes: its claims
// are a few identifiers and codes.
const MaxFeedbackJWT = 4096

// Feedback is what the receiving organisation tells the referring one:
// nothing personal.
type Feedback struct {
	// Issuer is the receiving organisation's DID (iss); Audience the
	// referring organisation's (aud).
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	// ID is unique to this feedback (jti): its retries carry the same.
	ID       string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	// Referral is the ReferralCredential's id.
	Referral string `json:"referral"`
	State    State  `json:"state"`
	// Reason is a decline's reason code; Outcome a closed referral's
	// outcome code.
	Reason  string `json:"reason,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

// Code is the feedback's reason or outcome code, whichever its state has.
func (f *Feedback) Code() string {
	if f.State == StateClosed {
		return f.Outcome
	}
	return f.Reason
}

// check says what is wrong with the claims, if anything.
func (f *Feedback) check() error {
	bad := func(msg string) error { return refused("malformed", msg) }
	switch {
	case !credentials.IsDID(f.Issuer) || len(f.Issuer) > 512:
		return bad("iss must be the sender's DID")
	case !credentials.IsDID(f.Audience) || len(f.Audience) > 512:
		return bad("aud must be the referring organisation's DID")
	case f.ID == "" || len(f.ID) > 128:
		return bad("jti must be a unique id of at most 128 characters")
	case f.IssuedAt <= 0:
		return bad("iat must be a time")
	case f.Referral == "" || len(f.Referral) > 256:
		return bad("referral must be the referral credential's id")
	case f.State != StateAccepted && f.State != StateDeclined && f.State != StateClosed:
		return bad("state must be accepted, declined or closed")
	case f.State == StateDeclined && (f.Outcome != "" || !codeFits(f.State, f.Reason)):
		return bad("a decline gives one of the reason codes, and no outcome")
	case f.State == StateClosed && (f.Reason != "" || !codeFits(f.State, f.Outcome)):
		return bad("a closed referral gives one of the outcome codes, and no reason")
	case f.State == StateAccepted && (f.Reason != "" || f.Outcome != ""):
		return bad("an acceptance gives no reason nor outcome")
	}
	return nil
}

// SignFeedback signs f as a compact JWS with key, the sender's: header
// typ tally-referral-feedback+jwt, kid the key's DID URL.
func SignFeedback(f *Feedback, key *credentials.Key) (string, error) {
	if key == nil || key.Signer == nil {
		return "", fmt.Errorf("referral feedback: no signing key")
	}
	if f.Issuer != key.DID {
		return "", fmt.Errorf("referral feedback: iss %s is not the key's DID %s", f.Issuer, key.DID)
	}
	if err := f.check(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	for k, v := range map[string]any{jws.TypeKey: FeedbackType, jws.KeyIDKey: key.ID} {
		if err := h.Set(k, v); err != nil {
			return "", err
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(key.Alg.JWA(), key.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("referral feedback: sign: %w", err)
	}
	return string(out), nil
}

// FeedbackToken is a feedback JWT read but not verified yet.
type FeedbackToken struct {
	raw []byte
	alg jwa.SignatureAlgorithm
	// KeyID is the header's kid: the sender's verification method.
	KeyID string
	// Claims are the payload's claims, not vouched for until Verify.
	Claims Feedback
}

// feedbackHeader is the protected header of a feedback JWT.
type feedbackHeader struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
	JWK  json.RawMessage `json:"jwk"`
	X5c  json.RawMessage `json:"x5c"`
}

// ParseFeedback reads a feedback JWT without verifying it: a compact JWS
// of at most MaxFeedbackJWT bytes, typ tally-referral-feedback+jwt, alg
// EdDSA or ES256, a kid that is a DID URL of its iss, and well-formed
// claims. The work is bounded by the token's size.
func ParseFeedback(token []byte) (*FeedbackToken, error) {
	bad := func(msg string) (*FeedbackToken, error) { return nil, refused("malformed", msg) }
	token = bytes.TrimSpace(token)
	if len(token) == 0 {
		return bad("the feedback is empty: send the JWT as the body")
	}
	if len(token) > MaxFeedbackJWT {
		return bad(fmt.Sprintf("the feedback JWT is longer than %d bytes", MaxFeedbackJWT))
	}
	parts := strings.Split(string(token), ".")
	if len(parts) != 3 || parts[2] == "" {
		return bad("the feedback is not a compact JWS (header.payload.signature)")
	}
	var hdr feedbackHeader
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return bad("the JWT's header is not base64url JSON")
	}
	var alg jwa.SignatureAlgorithm
	switch hdr.Alg {
	case "EdDSA":
		alg = jwa.EdDSA
	case "ES256":
		alg = jwa.ES256
	default:
		return bad("the JWT's alg must be EdDSA or ES256")
	}
	switch {
	case hdr.Typ != FeedbackType:
		return bad("the JWT's typ must be " + FeedbackType)
	case len(hdr.Crit) > 0:
		return bad("the JWT's header must have no crit")
	case len(hdr.JWK) > 0 || len(hdr.X5c) > 0:
		return bad("the JWT names its key by kid only, never jwk nor x5c")
	}
	ft := &FeedbackToken{raw: token, alg: alg, KeyID: hdr.Kid}
	if err := decodeSegment(parts[1], &ft.Claims); err != nil {
		return bad("the JWT's payload is not base64url JSON with the feedback's claims")
	}
	if err := ft.Claims.check(); err != nil {
		return nil, err
	}
	if did, frag, ok := strings.Cut(hdr.Kid, "#"); !ok || frag == "" || did != ft.Claims.Issuer {
		return bad("the JWT's kid must be a DID URL of its iss (DID#fragment)")
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return bad("the JWT's signature is not base64url")
	}
	return ft, nil
}

// decodeSegment decodes one base64url segment of a JWS as JSON into v.
func decodeSegment(seg string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// Verify checks the token's signature with the sender's key its kid
// names, among keys (the sender's keys, all of its DID).
func (t *FeedbackToken) Verify(keys []*credentials.Key) error {
	for _, k := range keys {
		if k.ID != t.KeyID || k.DID != t.Claims.Issuer {
			continue
		}
		if k.Alg.JWA() != t.alg {
			return refused("signature", "the JWT's alg does not fit the sender's key")
		}
		if _, err := jws.Verify(t.raw, jws.WithKey(t.alg, k.Public)); err != nil {
			return refused("signature", "the JWT's signature does not verify with the sender's key")
		}
		return nil
	}
	return refused("signature", "the JWT's kid names no key of the sender")
}

// IssuedAtTime is the feedback's iat as a time.
func (f *Feedback) IssuedAtTime() time.Time { return time.Unix(f.IssuedAt, 0).UTC() }
