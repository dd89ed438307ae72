package oid4vci

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tally-id/tally/credentials"
)

// This file checks what an issuer sends before the wallet keeps it: it
// parses as the offered format, it is bound to the holder's key (or to
// none), and its signature verifies with the issuer's key whenever that
// key can be resolved from the issuer's identifier.

// errUnresolvable is an issuer identifier whose key this wallet cannot
// look up (x5c chains, other DID methods).
var errUnresolvable = errors.New("the issuer's key cannot be looked up")

// Check reads a credential of a format as received and checks it.
func (c *Client) Check(ctx context.Context, format, raw string, holderKey *credentials.Key) (Received, error) {
	r := Received{Format: format, Raw: raw}
	bad := func(format string, args ...any) (Received, error) {
		return Received{}, stepErr(StepCheck, format, args...)
	}
	if len(raw) > maxCredential {
		return bad("the credential is larger than %d bytes", maxCredential)
	}
	var (
		sec    credentials.Secured
		bound  crypto.PublicKey
		rawKid string
	)
	switch format {
	case FormatSDJWTVC:
		if !strings.HasSuffix(raw, "~") {
			return bad("the credential is not an SD-JWT VC as issued (it must end with ~)")
		}
		s, err := credentials.ParseSDJWT([]byte(raw))
		if err != nil {
			return bad("the credential is not a valid SD-JWT VC: %s", plainErr(err))
		}
		sec, bound, r.Type = s, s.Holder(), s.VCT()
		rawKid = headerKid(raw)
	case FormatJWTVCJSON:
		j, err := credentials.ParseJWT([]byte(raw))
		if err != nil {
			return bad("the credential is not a valid VC-JWT: %s", plainErr(err))
		}
		sec = j
		if v := j.View(); v != nil && len(v.Types) > 0 {
			r.Type = v.Types[len(v.Types)-1]
		}
		if bound, err = jwtSubjectKey(raw); err != nil {
			return bad("%s", err.Error())
		}
		rawKid = headerKid(raw)
	default:
		return bad("the format %q cannot be kept by this wallet yet", clipText(format))
	}
	r.Issuer = sec.Issuer()
	if bound != nil {
		if holderKey == nil || !bytes.Equal(credentials.Thumbprint(bound), holderKey.Thumbprint()) {
			return bad("the credential is bound to another key than this wallet's")
		}
		r.HolderKey = holderKey.ID
	}
	keys, err := c.issuerKeys(ctx, r.Issuer, sec.KeyID(), rawKid)
	switch {
	case errors.Is(err, errUnresolvable):
		return r, nil
	case err != nil:
		return bad("the issuer's key could not be looked up: %s", err.Error())
	}
	for _, k := range keys {
		if sec.VerifySignature(k) == nil {
			r.Verified = true
			return r, nil
		}
	}
	return bad("the issuer's signature on the credential does not verify")
}

// plainErr is a credentials error without the sentinel's suffix.
func plainErr(err error) string {
	s := err.Error()
	for _, sentinel := range []error{credentials.ErrMalformed, credentials.ErrUnsupported} {
		s = strings.TrimSuffix(s, ": "+sentinel.Error())
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// headerKid is the kid of a compact JWS's protected header, as written.
func headerKid(raw string) string {
	h, _, _ := strings.Cut(raw, ".")
	if len(h) > 8<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &hdr)
	return hdr.Kid
}

// jwtSubjectKey is the key a VC-JWT's subject names: sub, else the vc
// claim's credentialSubject.id, when it is a did:key or did:jwk; nil when
// the credential names no such subject (a bearer credential, or a
// subject of another kind). ParseJWT already checked that sub and the
// subject's id agree.
func jwtSubjectKey(raw string) (crypto.PublicKey, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the credential is not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("the credential's payload is not base64url")
	}
	var p struct {
		Sub string `json:"sub"`
		VC  struct {
			CredentialSubject json.RawMessage `json:"credentialSubject"`
		} `json:"vc"`
		CredentialSubject json.RawMessage `json:"credentialSubject"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("the credential's payload is not a JSON object")
	}
	id := p.Sub
	if id == "" {
		for _, cs := range []json.RawMessage{p.VC.CredentialSubject, p.CredentialSubject} {
			var s struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(cs, &s) == nil && s.ID != "" {
				id = s.ID
				break
			}
		}
	}
	did, _, _ := strings.Cut(id, "#")
	if !strings.HasPrefix(did, "did:key:") && !strings.HasPrefix(did, "did:jwk:") {
		return nil, nil
	}
	return credentials.ParseKeyDID(did)
}

// issuerKeys looks up the keys that may have signed a credential of iss
// whose header names keyID (as credentials resolves it against iss) and
// rawKid (as written): did:key and did:jwk hold their key; did:web is
// fetched (or read from this server when it is one of its own); an https
// iss publishes its keys as JWT VC Issuer Metadata (SD-JWT VC section
// 5). Anything else is errUnresolvable.
func (c *Client) issuerKeys(ctx context.Context, iss, keyID, rawKid string) ([]crypto.PublicKey, error) {
	switch {
	case strings.HasPrefix(iss, "did:key:"), strings.HasPrefix(iss, "did:jwk:"):
		pub, err := credentials.ParseKeyDID(iss)
		if err != nil {
			return nil, fmt.Errorf("the issuer's %s is not a key", iss[:7])
		}
		return []crypto.PublicKey{pub}, nil
	case strings.HasPrefix(iss, "did:web:"):
		doc, err := c.didWeb(ctx, iss)
		if err != nil {
			return nil, err
		}
		var out []crypto.PublicKey
		for _, k := range doc.PublicKeys() {
			if keyID == "" || k.ID == keyID {
				out = append(out, k.Public)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("the issuer's DID document has no key %q", clipText(keyID))
		}
		return out, nil
	case strings.HasPrefix(iss, "https://") || strings.HasPrefix(iss, "http://"):
		return c.jwtVCIssuerKeys(ctx, iss, rawKid)
	}
	return nil, errUnresolvable
}

// didWeb resolves a did:web DID, keeping at most maxIssuerKeys of its
// keys.
func (c *Client) didWeb(ctx context.Context, did string) (*credentials.DIDDocument, error) {
	r := c.DIDWeb
	if r.Client == nil {
		r.Client = c.Fetch
	}
	doc, err := r.Document(ctx, did)
	if err != nil {
		return nil, fmt.Errorf("the issuer's DID document: %w", err)
	}
	if len(doc.VerificationMethod) > maxIssuerKeys {
		doc.VerificationMethod = doc.VerificationMethod[:maxIssuerKeys]
	}
	return doc, nil
}

// jwtVCIssuerMetadata is JWT VC Issuer Metadata (SD-JWT VC): the issuer,
// and its keys inline or by reference.
type jwtVCIssuerMetadata struct {
	Issuer  string          `json:"issuer"`
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI string          `json:"jwks_uri"`
}

// jwtVCIssuerKeys fetches an https issuer's keys from
// /.well-known/jwt-vc-issuer inserted before its path; its issuer must
// be iss; the key is the one kid names (every key when there is no kid).
func (c *Client) jwtVCIssuerKeys(ctx context.Context, iss, kid string) ([]crypto.PublicKey, error) {
	u, err := WellKnownURL(iss, "/.well-known/jwt-vc-issuer")
	if err != nil {
		return nil, errUnresolvable
	}
	res, err := c.get(ctx, u, "application/json")
	if err != nil {
		return nil, fmt.Errorf("the issuer's key metadata could not be fetched")
	}
	if res.Status == http.StatusNotFound {
		// The issuer publishes its keys some other way (x5c, ...).
		return nil, errUnresolvable
	}
	if res.Status != http.StatusOK || len(res.Body) > maxMetadata {
		return nil, fmt.Errorf("the issuer's key metadata could not be fetched")
	}
	var m jwtVCIssuerMetadata
	if err := json.Unmarshal(res.Body, &m); err != nil || m.Issuer != iss {
		return nil, fmt.Errorf("the issuer's key metadata is not the issuer's")
	}
	set := m.JWKS
	if len(set) == 0 && m.JWKSURI != "" {
		res, err := c.get(ctx, m.JWKSURI, "application/json")
		if err != nil || res.Status != http.StatusOK || len(res.Body) > maxMetadata {
			return nil, fmt.Errorf("the issuer's key set could not be fetched")
		}
		set = res.Body
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(set, &jwks); err != nil || len(jwks.Keys) == 0 {
		return nil, fmt.Errorf("the issuer's key metadata has no keys")
	}
	var out []crypto.PublicKey
	for i, raw := range jwks.Keys {
		if i >= maxIssuerKeys {
			break
		}
		pub, k, err := credentials.ParseJWK(raw)
		if err != nil || (kid != "" && k != kid) {
			continue
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the issuer's key metadata has no key %q", clipText(kid))
	}
	return out, nil
}

// FormatCard is the wallet's format name of a QR card.
const FormatCard = "qr"

// CheckCard reads a QR card's text (tally's card, or another issuer's
// Claim 169 card) and checks its signature with the issuer's keys when
// they can be looked up. A card is bound to no key.
func (c *Client) CheckCard(ctx context.Context, text string) (Received, error) {
	text = strings.TrimSpace(text)
	card, err := credentials.ParseCard([]byte(text))
	if err != nil {
		return Received{}, stepErr(StepCheck, "the text is not a QR card: %s", plainErr(err))
	}
	r := Received{Format: FormatCard, Raw: text, Issuer: card.Issuer()}
	if v := card.View(); v != nil && len(v.Types) > 0 {
		r.Type = v.Types[len(v.Types)-1]
	}
	if !strings.HasPrefix(r.Issuer, "did:") {
		// Claim 169 names no way to find an https issuer's keys.
		return r, nil
	}
	keys, err := c.issuerKeys(ctx, r.Issuer, "", "")
	switch {
	case errors.Is(err, errUnresolvable):
		return r, nil
	case err != nil:
		return Received{}, stepErr(StepCheck, "the issuer's key could not be looked up: %s", err.Error())
	}
	for _, k := range keys {
		if card.VerifySignature(k) == nil {
			r.Verified = true
			return r, nil
		}
	}
	return Received{}, stepErr(StepCheck, "the card's signature does not verify: it was changed or is not the issuer's")
}
