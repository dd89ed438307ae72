package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mr-tron/base58"
	"github.com/piprate/json-gold/ld"

	"github.com/tally-id/tally/credentials"
)

// ProofPurposeAuthentication is the purpose of a holder's proof on a
// presentation: it authenticates the holder to a verifier, for the
// challenge and domain the verifier gave.
const ProofPurposeAuthentication = "authentication"

// Presentation is a verifiable presentation (VC Data Model 2.0) secured
// with an eddsa-rdfc-2022 proof of purpose authentication, parsed and
// canonicalized, whose signature is not yet checked. The proof signs the
// whole presentation, the credentials in it with their own proofs
// included; each credential is verified on its own.
type Presentation struct {
	holder  string
	proof   proof
	creds   []json.RawMessage
	docHash [sha256.Size]byte
	cfgHash [sha256.Size]byte
}

// Holder is the holder's identifier: the presentation's holder as the
// signed dataset states it, else the DID of the proof's key.
func (p *Presentation) Holder() string { return p.holder }

// KeyID is the proof's verificationMethod.
func (p *Presentation) KeyID() string { return p.proof.VerificationMethod }

// Challenge and Domain are what the signed proof states it answers ("" for
// none).
func (p *Presentation) Challenge() string { return p.proof.challenge }

// Domain is the domain the signed proof states.
func (p *Presentation) Domain() string { return p.proof.domain }

// Created is the proof's creation time, zero when it gives none; Expires
// its expiry.
func (p *Presentation) Created() time.Time { return p.proof.created }

// Expires is the proof's expiry time, zero when it gives none.
func (p *Presentation) Expires() time.Time { return p.proof.expires }

// Credentials are the JSON texts of the credentials the presentation
// holds (verifiableCredential), in order: objects with embedded proofs, or
// enveloped credentials.
func (p *Presentation) Credentials() []json.RawMessage { return p.creds }

// VerifySignature checks the proof's Ed25519 signature with pub. A wrong
// key or any change to the signed statements gives an error wrapping
// credentials.ErrBadSignature.
func (p *Presentation) VerifySignature(pub crypto.PublicKey) error {
	edPub, ok := pub.(ed25519.PublicKey)
	if !ok || len(edPub) != ed25519.PublicKeySize {
		return fmt.Errorf("data integrity: an eddsa-rdfc-2022 proof needs an Ed25519 key, not %s: %w", keyKind(pub), credentials.ErrBadSignature)
	}
	var msg [2 * sha256.Size]byte
	copy(msg[:], p.cfgHash[:])
	copy(msg[sha256.Size:], p.docHash[:])
	if !ed25519.Verify(edPub, msg[:], p.proof.sig) {
		return fmt.Errorf("data integrity: the presentation's proof by %s does not verify: %w", p.proof.VerificationMethod, credentials.ErrBadSignature)
	}
	return nil
}

// ParsePresentation reads a presentation secured with one eddsa-rdfc-2022
// proof of purpose authentication, with the same bounds and the same safe
// JSON-LD processing as Parse. The signed dataset must state one
// VerifiablePresentation; its holder, when stated, must be the DID of the
// proof's verification method. Errors wrap credentials.ErrMalformed, or
// credentials.ErrUnsupported for what tally cannot check.
func (p *Processor) ParsePresentation(ctx context.Context, raw []byte) (*Presentation, error) {
	doc, proofs, ctxKey, err := splitDocument(raw)
	if err != nil {
		return nil, err
	}
	if len(proofs) != 1 {
		return nil, fmt.Errorf("data integrity: a presentation has %d proofs; tally verifies one, its holder's: %w", len(proofs), credentials.ErrUnsupported)
	}
	m, ok := proofs[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("data integrity: the proof is not a JSON object: %w", credentials.ErrMalformed)
	}
	var pr proof
	if err := pr.parse(m, ProofPurposeAuthentication); err != nil {
		return nil, err
	}
	if err := checkContexts(doc, p.loader); err != nil {
		return nil, wrapJSONLD(err)
	}
	creds, err := embeddedCredentials(doc["verifiableCredential"])
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sd, err := p.canonicalize(ctx, doc, ctxKey)
	if err != nil {
		return nil, err
	}
	g := newGraph(sd.dataset)
	nodes := g.subjectsOfType(credVP)
	if len(nodes) != 1 {
		return nil, fmt.Errorf("data integrity: the presentation states %d verifiable presentations, not one: %w", len(nodes), credentials.ErrMalformed)
	}
	holderNode, err := g.one(nodes[0], credHolder, "holder")
	if err != nil {
		return nil, err
	}
	keyDID, _, _ := strings.Cut(pr.VerificationMethod, "#")
	holder := keyDID
	if holderNode != nil {
		if !ld.IsIRI(holderNode) || holderNode.GetValue() != keyDID {
			return nil, fmt.Errorf("data integrity: the presentation's proof is not by its holder's key: %w", credentials.ErrMalformed)
		}
		holder = holderNode.GetValue()
	}
	cfg, err := p.canonicalize(ctx, pr.config(doc["@context"]), ctxKey)
	if err != nil {
		return nil, err
	}
	if err := pr.checkSigned(cfg, secAuthn); err != nil {
		return nil, err
	}
	return &Presentation{holder: holder, proof: pr, creds: creds, docHash: sd.hash, cfgHash: cfg.hash}, nil
}

// embeddedCredentials are the JSON texts of a presentation's
// verifiableCredential member: one object or a list of objects.
func embeddedCredentials(v any) ([]json.RawMessage, error) {
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = v
	default:
		list = []any{v}
	}
	out := make([]json.RawMessage, 0, len(list))
	for _, c := range list {
		if _, ok := c.(map[string]any); !ok {
			return nil, fmt.Errorf("data integrity: verifiableCredential holds something that is not a credential object: %w", credentials.ErrMalformed)
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("data integrity: verifiableCredential: %w", credentials.ErrMalformed)
		}
		out = append(out, raw)
	}
	return out, nil
}

// SignPresentation adds an eddsa-rdfc-2022 proof of purpose authentication
// by k (the holder's Ed25519 key) to doc, a JSON-LD presentation, for the
// challenge and domain a verifier gave (either may be empty), and returns
// the secured JSON.
func (p *Processor) SignPresentation(ctx context.Context, doc []byte, k *credentials.Key, now time.Time, challenge, domain string) ([]byte, error) {
	if k == nil || k.Signer == nil {
		return nil, errors.New("data integrity: signing needs a private key")
	}
	if _, ok := k.Public.(ed25519.PublicKey); k.Alg != credentials.EdDSA || !ok {
		return nil, fmt.Errorf("data integrity: eddsa-rdfc-2022 needs an Ed25519 key: %w", credentials.ErrUnsupported)
	}
	if len(doc) > MaxSize {
		return nil, fmt.Errorf("data integrity: the presentation is larger than %d bytes: %w", MaxSize, credentials.ErrMalformed)
	}
	var m map[string]any
	var members map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil || json.Unmarshal(doc, &members) != nil || m == nil {
		return nil, fmt.Errorf("data integrity: not a JSON object: %w", credentials.ErrMalformed)
	}
	if _, has := m["proof"]; has {
		return nil, fmt.Errorf("data integrity: the presentation already has a proof: %w", credentials.ErrUnsupported)
	}
	if err := checkContexts(m, p.loader); err != nil {
		return nil, wrapJSONLD(err)
	}
	sd, err := p.canonicalize(ctx, m, members["@context"])
	if err != nil {
		return nil, err
	}
	pr := map[string]any{
		"type":               ProofType,
		"cryptosuite":        Cryptosuite,
		"created":            now.UTC().Truncate(time.Second).Format(time.RFC3339),
		"verificationMethod": k.ID,
		"proofPurpose":       ProofPurposeAuthentication,
	}
	if challenge != "" {
		pr["challenge"] = challenge
	}
	if domain != "" {
		pr["domain"] = domain
	}
	cfg, err := p.canonicalize(ctx, (&proof{raw: pr}).config(m["@context"]), members["@context"])
	if err != nil {
		return nil, err
	}
	var msg [2 * sha256.Size]byte
	copy(msg[:], cfg.hash[:])
	copy(msg[sha256.Size:], sd.hash[:])
	sig, err := k.Signer.Sign(nil, msg[:], crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("data integrity: sign: %w", err)
	}
	pr["proofValue"] = "z" + base58.Encode(sig)
	m["proof"] = pr
	return json.Marshal(m)
}

// ParseSecuredPresentation is ParsePresentation, as the verifier's
// presentation parser.
func (p *Processor) ParseSecuredPresentation(ctx context.Context, raw []byte) (credentials.SecuredPresentation, error) {
	pr, err := p.ParsePresentation(ctx, raw)
	if err != nil {
		return nil, err
	}
	return pr, nil
}
