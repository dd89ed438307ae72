package credentials

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/mr-tron/base58"
)

// Multicodec prefixes (unsigned varints) of the public keys did:key and
// Multikey encode (https://github.com/multiformats/multicodec).
var (
	multicodecEd25519 = []byte{0xed, 0x01}
	multicodecP256    = []byte{0x80, 0x24}
)

// Multikey returns the publicKeyMultibase form of a public key: "z", then
// base58btc of the multicodec prefix and the key (compressed for P-256).
func Multikey(pub crypto.PublicKey) (string, error) {
	raw, err := multicodecKey(pub)
	if err != nil {
		return "", err
	}
	return "z" + base58.Encode(raw), nil
}

// multicodecKey returns a public key with its multicodec prefix: the bytes
// a did:key encodes in base58btc.
func multicodecKey(pub crypto.PublicKey) ([]byte, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 public key has the wrong length")
		}
		return append(append([]byte{}, multicodecEd25519...), p...), nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("only P-256 ECDSA keys are supported")
		}
		x, y := ecCoordinates(p)
		if x == nil {
			return nil, fmt.Errorf("invalid P-256 public key")
		}
		// SEC 1 compressed point: 0x02 or 0x03 by the parity of y, then x.
		return append(append(append([]byte{}, multicodecP256...), 0x02|y[31]&1), x...), nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", pub)
}

// ParseMultikey reads a publicKeyMultibase value made by Multikey.
func ParseMultikey(s string) (crypto.PublicKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("multikey %q is not base58btc (it must start with z)", s)
	}
	raw, err := base58.Decode(s[1:])
	if err != nil {
		return nil, fmt.Errorf("multikey is not valid base58: %w", err)
	}
	return parseMulticodecKey(raw)
}

// parseMulticodecKey reads a public key with its multicodec prefix.
func parseMulticodecKey(raw []byte) (crypto.PublicKey, error) {
	switch {
	case len(raw) == 2+ed25519.PublicKeySize && raw[0] == multicodecEd25519[0] && raw[1] == multicodecEd25519[1]:
		return ed25519.PublicKey(bytes.Clone(raw[2:])), nil
	case len(raw) == 2+33 && raw[0] == multicodecP256[0] && raw[1] == multicodecP256[1]:
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw[2:])
		if x == nil {
			return nil, fmt.Errorf("multikey holds an invalid P-256 point")
		}
		uncompressed := make([]byte, 65)
		uncompressed[0] = 4
		x.FillBytes(uncompressed[1:33])
		y.FillBytes(uncompressed[33:])
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), uncompressed)
		if err != nil {
			return nil, fmt.Errorf("multikey holds an invalid P-256 point")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("multikey is neither an Ed25519 nor a P-256 public key")
}

// DIDKey returns the did:key DID of a public key (W3C CCG did:key v0.7).
func DIDKey(pub crypto.PublicKey) (string, error) {
	mk, err := Multikey(pub)
	if err != nil {
		return "", err
	}
	return "did:key:" + mk, nil
}

// ParseDIDKey returns the public key a did:key DID (or a DID URL of one,
// with a fragment) encodes.
func ParseDIDKey(did string) (crypto.PublicKey, error) {
	rest, ok := strings.CutPrefix(did, "did:key:")
	if !ok {
		return nil, fmt.Errorf("%q is not a did:key", did)
	}
	rest, _, _ = strings.Cut(rest, "#")
	return ParseMultikey(rest)
}

// DIDJWK returns the did:jwk DID of a public key: "did:jwk:" and the
// base64url of its public JWK (did:jwk method specification). Its one
// verification method is the DID URL with fragment "0".
func DIDJWK(pub crypto.PublicKey) (string, error) {
	j, err := jwk.FromRaw(pub)
	if err != nil {
		return "", fmt.Errorf("public key to JWK: %w", err)
	}
	raw, err := json.Marshal(j)
	if err != nil {
		return "", err
	}
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// ParseDIDJWK returns the public key a did:jwk DID (or its DID URL with
// fragment "0") encodes.
func ParseDIDJWK(did string) (crypto.PublicKey, error) {
	rest, ok := strings.CutPrefix(did, "did:jwk:")
	if !ok {
		return nil, fmt.Errorf("%q is not a did:jwk", did)
	}
	rest, frag, hasFrag := strings.Cut(rest, "#")
	if hasFrag && frag != "0" {
		return nil, fmt.Errorf("a did:jwk DID URL names its key with fragment 0")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) > 1024 {
		return nil, fmt.Errorf("a did:jwk holds the base64url of a JWK")
	}
	pub, _, err := ParseJWK(raw)
	return pub, err
}

// ErrOtherMethod is a DID URL whose fragment names no verification
// method of its did:key or did:jwk DID.
var ErrOtherMethod = errors.New("the DID URL names another verification method than the DID's one")

// ParseKeyDID returns the public key a did:key or did:jwk DID holds, or
// that a DID URL of one names. Its fragment, when it has one, must be the
// DID's one verification method (did:key: the multibase key itself;
// did:jwk: 0); a DID of another method is an error.
func ParseKeyDID(didURL string) (crypto.PublicKey, error) {
	did, frag, hasFrag := strings.Cut(didURL, "#")
	if mb, ok := strings.CutPrefix(did, "did:key:"); ok {
		if hasFrag && frag != mb {
			return nil, ErrOtherMethod
		}
		return ParseDIDKey(did)
	}
	if strings.HasPrefix(did, "did:jwk:") {
		if hasFrag && frag != "0" {
			return nil, ErrOtherMethod
		}
		return ParseDIDJWK(did)
	}
	return nil, fmt.Errorf("%q is not a did:key or did:jwk", clipDID(did))
}

func clipDID(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// DIDWeb returns the did:web DID of a host name with an optional path
// ("example.org" or "example.org/agencies/unhcr").
func DIDWeb(domain string) (string, error) {
	domain = strings.TrimSuffix(strings.TrimPrefix(domain, "https://"), "/")
	host, path, _ := strings.Cut(domain, "/")
	if host == "" || strings.ContainsAny(host, " @?#") {
		return "", fmt.Errorf("did:web needs a host name like example.org, not %q", domain)
	}
	did := "did:web:" + strings.ReplaceAll(host, ":", "%3A")
	if path != "" {
		did += ":" + strings.ReplaceAll(path, "/", ":")
	}
	if _, err := DIDWebURL(did); err != nil {
		return "", err
	}
	return did, nil
}

// DIDWebURL is the https URL where a did:web DID's document is published.
func DIDWebURL(did string) (string, error) {
	rest, ok := strings.CutPrefix(did, "did:web:")
	if !ok || rest == "" {
		return "", fmt.Errorf("%q is not a did:web DID", did)
	}
	parts := strings.Split(rest, ":")
	host, err := url.PathUnescape(parts[0])
	if err != nil || host == "" || strings.ContainsAny(host, "/ @?#") {
		return "", fmt.Errorf("%q has no valid host name", did)
	}
	u := "https://" + host
	if len(parts) == 1 {
		return u + "/.well-known/did.json", nil
	}
	for _, p := range parts[1:] {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("%q has an empty or relative path segment", did)
		}
		u += "/" + url.PathEscape(p)
	}
	return u + "/did.json", nil
}

// DIDDocument is a DID document (W3C DID Core 1.0) that lists an issuer's
// keys as Multikey verification methods.
type DIDDocument struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	VerificationMethod []VerificationMethod `json:"verificationMethod"`
	AssertionMethod    []string             `json:"assertionMethod"`
	Authentication     []string             `json:"authentication"`
	// Service lists the services the DID's controller publishes (DID Core
	// 1.0 §5.4), such as where referral feedback is sent.
	Service []DIDService `json:"service,omitempty"`
}

// ServiceReferralFeedback is the type of the service where an
// organisation receives feedback on the referrals it made (docs/referrals.md).
const ServiceReferralFeedback = "TallyReferralFeedback"

// DIDService is one service of a DID document (DID Core 1.0 §5.4): its id
// (a DID URL), its type, and its endpoint, here always one URL.
type DIDService struct {
	ID              string `json:"id"`
	Type            string `json:"type"`
	ServiceEndpoint string `json:"serviceEndpoint"`
}

// ServiceEndpoint returns the endpoint of the document's first service of
// type typ, and whether it has one.
func (d *DIDDocument) ServiceEndpoint(typ string) (string, bool) {
	for _, s := range d.Service {
		if s.Type == typ && s.ServiceEndpoint != "" {
			return s.ServiceEndpoint, true
		}
	}
	return "", false
}

// PublicKeys returns the keys of the document's verification methods
// that are Multikeys of its own DID, each named by its id.
func (d *DIDDocument) PublicKeys() []*Key {
	var out []*Key
	for _, vm := range d.VerificationMethod {
		id := vm.ID
		if strings.HasPrefix(id, "#") {
			id = d.ID + id
		}
		if vm.Type != "Multikey" || !strings.HasPrefix(id, d.ID+"#") || (vm.Controller != "" && vm.Controller != d.ID) {
			continue
		}
		pub, err := ParseMultikey(vm.PublicKeyMultibase)
		if err != nil {
			continue
		}
		k, err := NewPublicKey(pub, d.ID)
		if err != nil {
			continue
		}
		k.ID = id
		out = append(out, k)
	}
	return out
}

// VerificationMethod is one key of a DID document.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// NewDIDDocument returns the DID document of an issuer with the given keys,
// all of the same DID.
func NewDIDDocument(keys ...*Key) (*DIDDocument, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("a DID document needs at least one key")
	}
	doc := &DIDDocument{
		Context: []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		ID:      keys[0].DID,
	}
	for _, k := range keys {
		if k.DID != doc.ID {
			return nil, fmt.Errorf("key %s belongs to %s, not %s", k.ID, k.DID, doc.ID)
		}
		mk, err := Multikey(k.Public)
		if err != nil {
			return nil, err
		}
		doc.VerificationMethod = append(doc.VerificationMethod, VerificationMethod{
			ID: k.ID, Type: "Multikey", Controller: k.DID, PublicKeyMultibase: mk,
		})
		doc.AssertionMethod = append(doc.AssertionMethod, k.ID)
		doc.Authentication = append(doc.Authentication, k.ID)
	}
	return doc, nil
}
