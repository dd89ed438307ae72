package verifier

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// W3C verifiable presentations (VC Data Model 2.0), as the W3C VC API's
// POST /presentations/verify receives them: a presentation with a Data
// Integrity proof by its holder (proofPurpose authentication), an
// enveloped VP-JWT (VC-JOSE-COSE, "data:application/vp+jwt,..."), an
// SD-JWT VC with its key binding, or, when the verifier asked for no
// challenge, a presentation without proof.

// PresentationRequest is what the verifier asked the holder to answer:
// a challenge (a fresh nonce) and a domain (the verifier's identifier).
// A presentation with a proof must answer both when they are set; without
// either, a presentation without proof is accepted.
type PresentationRequest struct {
	Challenge string
	Domain    string
}

// PresentationResult is a verified presentation: its holder (when it has a
// proof) and the result of each credential it holds, in order. A
// credential that failed has a nil Result and its error in Errors.
type PresentationResult struct {
	// Holder is the holder's DID, whose key made the proof; "" for a
	// presentation without proof.
	Holder string
	// Proved tells whether the holder's proof was checked.
	Proved  bool
	Results []*Result
	Errors  []error
}

// Verified tells whether every credential of the presentation verified.
func (r *PresentationResult) Verified() bool {
	for _, err := range r.Errors {
		if err != nil {
			return false
		}
	}
	return true
}

// MaxPresentationCredentials bounds how many credentials one presentation
// may hold: each costs a verification.
const MaxPresentationCredentials = 16

// presentationParser parses presentations with an embedded proof: a
// dataintegrity.Processor registered in Options.Formats is one.
type presentationParser interface {
	ParseSecuredPresentation(ctx context.Context, raw []byte) (credentials.SecuredPresentation, error)
}

// VerifyW3CPresentation verifies a presentation against what the verifier
// asked: the holder's proof (its signature by the key of the holder's
// did:key, the challenge and the domain), then each credential it holds
// as Verify does. The presentation failing gives a *Error (BadPresentation
// for a proof that answers another request, or none when one was asked);
// its credentials failing are reported in the result.
func (v *Verifier) VerifyW3CPresentation(ctx context.Context, raw []byte, req PresentationRequest) (*PresentationResult, error) {
	if len(raw) > MaxCredentialSize {
		return nil, fail(Malformed, nil, "the presentation is larger than %d KiB", MaxCredentialSize>>10)
	}
	raw = bytes.TrimSpace(raw)
	if inner, ok := unwrapEnvelopedVP(raw); ok {
		return v.verifyVPJWT(ctx, inner, req)
	}
	if len(raw) > 0 && raw[0] != '{' {
		if bytes.IndexByte(raw, '~') >= 0 {
			// An SD-JWT VC with its key binding: the challenge is its
			// nonce, the domain its audience.
			res, err := v.VerifyPresentation(ctx, raw, Presentation{Audience: req.Domain, Nonce: req.Challenge})
			if err != nil {
				return nil, err
			}
			return &PresentationResult{Holder: "", Proved: true, Results: []*Result{res}, Errors: []error{nil}}, nil
		}
		return v.verifyVPJWT(ctx, raw, req)
	}
	var doc struct {
		Proof                json.RawMessage `json:"proof"`
		VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fail(Malformed, nil, "the presentation is not a JSON object")
	}
	if len(doc.Proof) == 0 || string(doc.Proof) == "null" {
		if req.Challenge != "" || req.Domain != "" {
			return nil, fail(BadPresentation, nil, "the presentation has no proof by its holder, so it answers no challenge: ask the holder for a signed presentation")
		}
		creds, ferr := credentialList(doc.VerifiableCredential)
		if ferr != nil {
			return nil, ferr
		}
		return v.verifyHeld(ctx, &PresentationResult{}, creds), nil
	}
	var parser presentationParser
	for _, f := range v.formats {
		if p, ok := f.(presentationParser); ok {
			parser = p
		}
	}
	if parser == nil {
		return nil, fail(UnsupportedFormat, nil, "this verifier does not read Data Integrity presentations: register a parser for them (package credentials/dataintegrity)")
	}
	sp, err := parser.ParseSecuredPresentation(ctx, raw)
	if err != nil {
		return nil, classifyPresentation(err)
	}
	pub, ferr := holderKey(sp.KeyID())
	if ferr != nil {
		return nil, ferr
	}
	if err := sp.VerifySignature(pub); err != nil {
		return nil, classifyPresentation(err)
	}
	if ferr := v.checkAnswers(req, sp.Challenge(), sp.Domain(), sp.Expires()); ferr != nil {
		return nil, ferr
	}
	if len(sp.Credentials()) > MaxPresentationCredentials {
		return nil, fail(Malformed, nil, "the presentation holds %d credentials; tally verifies at most %d at once", len(sp.Credentials()), MaxPresentationCredentials)
	}
	return v.verifyHeld(ctx, &PresentationResult{Holder: sp.Holder(), Proved: true}, sp.Credentials()), nil
}

// checkAnswers checks that a holder's proof answers what was asked, and
// has not expired.
func (v *Verifier) checkAnswers(req PresentationRequest, challenge, domain string, expires time.Time) *Error {
	if req.Challenge != "" && challenge != req.Challenge {
		return fail(BadPresentation, nil, "the presentation answers another challenge than the one asked: it may be a replay; ask for a new one")
	}
	if req.Domain != "" && domain != req.Domain {
		return fail(BadPresentation, nil, "the presentation was made for another verifier (its domain is not the one asked)")
	}
	if !expires.IsZero() && v.opts.Now().Add(-v.opts.ClockSkew).After(expires) {
		return fail(BadPresentation, nil, "the holder's proof has expired: ask for a new presentation")
	}
	return nil
}

// verifyHeld verifies each credential a presentation holds.
func (v *Verifier) verifyHeld(ctx context.Context, out *PresentationResult, creds []json.RawMessage) *PresentationResult {
	for _, c := range creds {
		res, err := v.Verify(ctx, c)
		out.Results = append(out.Results, res)
		out.Errors = append(out.Errors, err)
	}
	return out
}

// holderKey is the public key of a holder's did:key verification method.
// Holders are people's wallets: tally resolves did:key, which holds its key.
func holderKey(kid string) (crypto.PublicKey, *Error) {
	did, _, _ := strings.Cut(kid, "#")
	if !strings.HasPrefix(did, "did:key:") {
		return nil, fail(UnsupportedFormat, nil, "the holder's key is not a did:key; tally resolves holders' did:key only")
	}
	pub, err := credentials.ParseDIDKey(did)
	if err != nil {
		return nil, fail(Malformed, err, "the holder's did:key holds no key tally reads")
	}
	return pub, nil
}

// classifyPresentation maps a presentation format's error to a failure,
// in fixed words.
func classifyPresentation(err error) *Error {
	switch {
	case errors.Is(err, credentials.ErrBadSignature):
		return fail(BadSignature, err, "the presentation's proof is not its holder's: it was altered, or signed with another key")
	case errors.Is(err, credentials.ErrUnsupported):
		return fail(UnsupportedFormat, err, "the presentation uses a proof or a feature tally does not support")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fail(Malformed, err, "verification was stopped: %v", err)
	}
	return fail(Malformed, err, "the presentation is not well-formed: it is damaged, or was made by software that does not follow the format")
}

// credentialList reads a presentation's verifiableCredential member: one
// credential or a list (objects, or compact tokens as strings).
func credentialList(member json.RawMessage) ([]json.RawMessage, *Error) {
	member = bytes.TrimSpace(member)
	if len(member) == 0 || string(member) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if member[0] != '[' {
		list = []json.RawMessage{member}
	} else if err := json.Unmarshal(member, &list); err != nil {
		return nil, fail(Malformed, nil, "verifiableCredential is not a credential or a list of credentials")
	}
	if len(list) > MaxPresentationCredentials {
		return nil, fail(Malformed, nil, "the presentation holds %d credentials; tally verifies at most %d at once", len(list), MaxPresentationCredentials)
	}
	for i, c := range list {
		c = bytes.TrimSpace(c)
		if len(c) > 0 && c[0] == '"' {
			var s string
			if json.Unmarshal(c, &s) != nil {
				return nil, fail(Malformed, nil, "verifiableCredential holds a broken string")
			}
			list[i] = json.RawMessage(s)
		} else if len(c) == 0 || c[0] != '{' {
			return nil, fail(Malformed, nil, "verifiableCredential holds something that is not a credential")
		}
	}
	return list, nil
}

// envelopedVPPrefix is the data: URL of an enveloped VP-JWT (VC-JOSE-COSE).
const envelopedVPPrefix = "data:application/vp+jwt,"

// unwrapEnvelopedVP returns the VP-JWT of an
// EnvelopedVerifiablePresentation object, or of its data: URL.
func unwrapEnvelopedVP(raw []byte) ([]byte, bool) {
	id := string(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var env struct {
			Type any    `json:"type"`
			ID   string `json:"id"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Type != "EnvelopedVerifiablePresentation" {
			return nil, false
		}
		id = env.ID
	}
	if len(id) > len(envelopedVPPrefix) && strings.EqualFold(id[:len(envelopedVPPrefix)], envelopedVPPrefix) {
		return []byte(id[len(envelopedVPPrefix):]), true
	}
	return nil, false
}

// vpJWTPayload is what tally reads of a VP-JWT's payload: the
// presentation itself (VC-JOSE-COSE), with the JWT claims that bind it to
// a request.
type vpJWTPayload struct {
	Type                 any             `json:"type"`
	Holder               any             `json:"holder"`
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	Nonce                string          `json:"nonce"`
	Audience             any             `json:"aud"`
	Expires              *float64        `json:"exp"`
}

// verifyVPJWT verifies a VP-JWT: a JWS by the holder's did:key (kid),
// whose payload is the presentation; the challenge is its nonce, the
// domain its audience.
func (v *Verifier) verifyVPJWT(ctx context.Context, token []byte, req PresentationRequest) (*PresentationResult, error) {
	msg, err := jws.Parse(token)
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, fail(Malformed, err, "the presentation is not a VP-JWT, a Data Integrity presentation or an SD-JWT VC")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	pub, ferr := holderKey(h.KeyID())
	if ferr != nil {
		return nil, ferr
	}
	alg, err := credentials.AlgorithmOf(pub)
	if err != nil || h.Algorithm() != alg.JWA() || alg.JWA() == jwa.SignatureAlgorithm("") {
		return nil, fail(UnsupportedFormat, err, "the VP-JWT's algorithm is not its holder key's")
	}
	payload, err := jws.Verify(token, jws.WithKey(alg.JWA(), pub))
	if err != nil {
		return nil, fail(BadSignature, err, "the presentation's signature is not its holder's: it was altered, or signed with another key")
	}
	var p vpJWTPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fail(Malformed, nil, "the VP-JWT's payload is not a presentation")
	}
	if !namesType(p.Type, "VerifiablePresentation") {
		return nil, fail(Malformed, nil, "the VP-JWT's payload is not a VerifiablePresentation")
	}
	did, _, _ := strings.Cut(h.KeyID(), "#")
	if holder := idOf(p.Holder); holder != "" && holder != did {
		return nil, fail(Malformed, nil, "the presentation's holder did not sign it")
	}
	var expires time.Time
	if p.Expires != nil {
		expires = time.Unix(int64(*p.Expires), 0)
	}
	domain := ""
	switch a := p.Audience.(type) {
	case string:
		domain = a
	case []any:
		for _, x := range a {
			if s, _ := x.(string); s == req.Domain {
				domain = s
			}
		}
	}
	if ferr := v.checkAnswers(req, p.Nonce, domain, expires); ferr != nil {
		return nil, ferr
	}
	creds, ferr := credentialList(p.VerifiableCredential)
	if ferr != nil {
		return nil, ferr
	}
	return v.verifyHeld(ctx, &PresentationResult{Holder: did, Proved: true}, creds), nil
}

// namesType tells whether a JSON type member (a string or a list) names t.
func namesType(v any, t string) bool {
	switch v := v.(type) {
	case string:
		return v == t
	case []any:
		return slices.Contains(v, any(t))
	}
	return false
}

// idOf is a JSON member's identifier: the string, or an object's id.
func idOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}
