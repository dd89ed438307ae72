// Package dataintegrity issues and verifies credentials secured with an
// embedded W3C Data Integrity proof of the eddsa-rdfc-2022 cryptosuite (W3C
// VC Data Integrity 1.0, W3C Data Integrity EdDSA Cryptosuites v1.0, RDF
// Dataset Canonicalization RDFC-1.0).
//
// The proof signs the RDF dataset a credential's JSON-LD expresses, not its
// JSON. Two JSON documents can express the same dataset (through @included,
// @reverse, @graph, @nest, aliases, property IRIs written out in full, an
// issuer given as an object or a string...), so this package decides
// nothing on the JSON: every value a verifier acts on — types, issuer,
// validity, status, the subject's claims, a tally dedup seed — is read from
// the canonical dataset whose hash the signature covers.
//
// The work done before the signature is checked is bounded: the input's
// size and shape are checked first, processed contexts are cached, and RDF
// canonicalization refuses datasets whose blank nodes would need more than
// a small amount of disambiguation (see maxAmbiguousBlankNodes).
//
// Contexts are never fetched: a credential may name the contexts built into
// tally (BundledContexts) and carry any other inline.
//
// The package is separate from package credentials, so that verifiers of
// QR cards and JWTs do not pull in a JSON-LD processor. Register a
// Processor with the verifier (verifier.Options.Formats) to verify Data
// Integrity credentials.
package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mr-tron/base58"
	"github.com/piprate/json-gold/ld"

	"github.com/tally-id/tally/credentials"
)

// The values of a Data Integrity proof tally makes and checks.
const (
	// ProofType is the proof's type.
	ProofType = "DataIntegrityProof"
	// Cryptosuite is the only cryptosuite tally signs and verifies: RDF
	// Dataset Canonicalization, SHA-256, Ed25519.
	Cryptosuite = "eddsa-rdfc-2022"
	// ProofPurposeAssertion is the purpose of an issuer's proof.
	ProofPurposeAssertion = "assertionMethod"
)

// Options configure a Processor.
type Options struct {
	// Contexts are extra JSON-LD contexts a credential may name by URL,
	// beside the bundled ones: URL to the context document's JSON.
	Contexts map[string][]byte
}

// Processor issues and verifies Data Integrity credentials. It caches the
// JSON-LD contexts it has processed; it is safe for concurrent use.
type Processor struct {
	loader *loader
	cache  contextCache
	scoped scopedContexts

	tallyOnce sync.Once
	tallyCtx  *activeContext
	tallyErr  error
}

// New returns a Processor.
func New(opts Options) (*Processor, error) {
	l, err := newLoader(opts.Contexts)
	if err != nil {
		return nil, err
	}
	return &Processor{loader: l}, nil
}

// Format is credentials.FormatDataIntegrity: a Processor is the verifier's
// parser for that format.
func (p *Processor) Format() credentials.Format { return credentials.FormatDataIntegrity }

// ParseSecured is Parse, as the verifier's format plug-in.
func (p *Processor) ParseSecured(ctx context.Context, raw []byte) (credentials.Secured, error) {
	c, err := p.Parse(ctx, raw)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Credential is a credential secured with an eddsa-rdfc-2022 proof, parsed
// and canonicalized, whose signature is not yet checked. It implements
// credentials.Secured. What it reports was read from the canonical dataset
// the proof signs.
type Credential struct {
	view    *credentials.View
	cred    *credentials.Credential // nil unless one of tally's types
	proof   proof
	docHash [sha256.Size]byte // SHA-256 of the canonical credential
	cfgHash [sha256.Size]byte // SHA-256 of the canonical proof configuration
}

// Format is credentials.FormatDataIntegrity.
func (c *Credential) Format() credentials.Format { return credentials.FormatDataIntegrity }

// Issuer is the issuer's identifier, as the signed dataset states it.
func (c *Credential) Issuer() string { return c.view.Issuer }

// KeyID is the proof's verificationMethod: a DID URL of the issuer's key.
func (c *Credential) KeyID() string { return c.proof.VerificationMethod }

// Credential is tally's typed credential when the signed dataset is one of
// tally's credential types, else nil.
func (c *Credential) Credential() *credentials.Credential { return c.cred }

// View is the generic view, read from the signed dataset.
func (c *Credential) View() *credentials.View { return c.view }

// Created is the proof's creation time, or zero when the proof gives none.
func (c *Credential) Created() time.Time { return c.proof.created }

// VerifySignature checks the proof's Ed25519 signature over the hashes of
// the canonical proof configuration and the canonical credential with pub.
// A wrong key or any change to the signed statements gives an error
// wrapping credentials.ErrBadSignature.
func (c *Credential) VerifySignature(pub crypto.PublicKey) error {
	edPub, ok := pub.(ed25519.PublicKey)
	if !ok || len(edPub) != ed25519.PublicKeySize {
		return fmt.Errorf("data integrity: an eddsa-rdfc-2022 proof needs an Ed25519 key, not %s: %w", keyKind(pub), credentials.ErrBadSignature)
	}
	var msg [2 * sha256.Size]byte
	copy(msg[:], c.cfgHash[:])
	copy(msg[sha256.Size:], c.docHash[:])
	if !ed25519.Verify(edPub, msg[:], c.proof.sig) {
		return fmt.Errorf("data integrity: the proof by %s does not verify: %w", c.proof.VerificationMethod, credentials.ErrBadSignature)
	}
	return nil
}

func keyKind(pub crypto.PublicKey) string {
	if _, err := credentials.AlgorithmOf(pub); err == nil {
		return "an ECDSA key"
	}
	return fmt.Sprintf("%T", pub)
}

// Parse reads a credential secured with an eddsa-rdfc-2022 Data Integrity
// proof. Before any JSON-LD processing it checks that the input is one JSON
// object of at most MaxSize bytes, with no duplicate member names, bounded
// nesting and counts, and every named context built in. It then expands
// the JSON-LD in safe mode (every term defined, every type and id an
// absolute IRI), turns it into an RDF dataset, canonicalizes it with a work
// bound, and reads every value the verifier decides on from that dataset.
// It checks the ctx deadline between steps.
//
// The proof must be the issuer's: a DataIntegrityProof with cryptosuite
// eddsa-rdfc-2022 and proofPurpose assertionMethod whose verificationMethod
// is a DID URL of the issuer. Proofs by other parties, if any, are ignored.
//
// Errors wrap credentials.ErrMalformed, or credentials.ErrUnsupported for
// a well-formed input tally cannot check (another cryptosuite, a proof
// chain, a context that is not built in).
func (p *Processor) Parse(ctx context.Context, raw []byte) (*Credential, error) {
	doc, proofs, ctxKey, err := splitDocument(raw)
	if err != nil {
		return nil, err
	}
	if err := checkContexts(doc, p.loader); err != nil {
		return nil, wrapJSONLD(err)
	}
	for _, pv := range proofs {
		if _, ok := pv.(map[string]any); !ok {
			return nil, fmt.Errorf("data integrity: a proof is not a JSON object: %w", credentials.ErrMalformed)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sd, err := p.canonicalize(ctx, doc, ctxKey)
	if err != nil {
		return nil, err
	}
	names, err := p.namingContext(doc["@context"])
	if err != nil {
		return nil, wrapJSONLD(err)
	}
	view, cred, err := p.readView(sd, names)
	if err != nil {
		return nil, err
	}
	pr, err := selectProof(proofs, view.Issuer)
	if err != nil {
		return nil, err
	}
	cfg, err := p.canonicalize(ctx, pr.config(doc["@context"]), ctxKey)
	if err != nil {
		return nil, err
	}
	if err := pr.checkSigned(cfg, secAssertion); err != nil {
		return nil, err
	}
	if !pr.expires.IsZero() {
		// A proof that expires before the credential does ends the
		// credential's validity with it.
		if view.ValidUntil.IsZero() || pr.expires.Before(view.ValidUntil) {
			view.ValidUntil = pr.expires.UTC()
			if cred != nil {
				cred.ValidUntil = view.ValidUntil
			}
		}
	}
	return &Credential{view: view, cred: cred, proof: *pr, docHash: sd.hash, cfgHash: cfg.hash}, nil
}

// config is the proof configuration the signature covers: the proof
// without its proofValue, under the credential's @context.
func (p *proof) config(docContext any) map[string]any {
	cfg := make(map[string]any, len(p.raw))
	for k, v := range p.raw {
		if k != "proofValue" {
			cfg[k] = v
		}
	}
	cfg["@context"] = docContext
	return cfg
}

// checkSigned checks that the canonical proof configuration states what
// the proof's JSON says: one DataIntegrityProof with this cryptosuite,
// verification method and purpose (purposeIRI), and the challenge and
// domain it answers, if any. The proof's creation and expiry times
// are taken from the signed statements, not from the JSON: a rewritten
// context can give a signed statement another member's name, and then the
// JSON's expires would say nothing of the signed expiry.
func (p *proof) checkSigned(cfg *signedDataset, purposeIRI string) error {
	g := newGraph(cfg.dataset)
	nodes := g.subjectsOfType(secProof)
	bad := func(what string) error {
		return fmt.Errorf("data integrity: the signed proof configuration does not state the proof's %s: %w", what, credentials.ErrMalformed)
	}
	if len(nodes) != 1 || len(g.bySubject) != 1 {
		return bad("type")
	}
	n := nodes[0]
	if v, _ := g.one(n, secSuite, "cryptosuite"); v == nil || v.GetValue() != p.Cryptosuite {
		return bad("cryptosuite")
	}
	if v, _ := g.one(n, secVM, "verificationMethod"); v == nil || !ld.IsIRI(v) || v.GetValue() != p.VerificationMethod {
		return bad("verificationMethod")
	}
	if v, _ := g.one(n, secPurpose, "proofPurpose"); v == nil || v.GetValue() != purposeIRI {
		return bad("proofPurpose")
	}
	for _, f := range []struct {
		iri, name string
		dst       *string
	}{{secChallenge, "challenge", &p.challenge}, {secDomain, "domain", &p.domain}} {
		v, err := g.one(n, f.iri, f.name)
		if err != nil {
			return bad(f.name)
		}
		if v != nil {
			if _, ok := v.(*ld.Literal); !ok {
				return bad(f.name)
			}
			*f.dst = v.GetValue()
		}
	}
	for _, f := range []struct {
		iri, name string
		dst       *time.Time
	}{{dcCreated, "created", &p.created}, {secExpires, "expires", &p.expires}} {
		v, err := g.one(n, f.iri, f.name)
		if err != nil {
			return bad(f.name)
		}
		if *f.dst, err = signedTime(v, "the proof's "+f.name); err != nil {
			return err
		}
	}
	return nil
}

// splitDocument checks raw's size and shape, decodes it, and splits off
// its proofs. It also returns the JSON text of the @context member, which
// keys the processed-context cache.
func splitDocument(raw []byte) (map[string]any, []any, []byte, error) {
	if len(raw) > MaxSize {
		return nil, nil, nil, fmt.Errorf("data integrity: the credential is %d bytes; tally reads at most %d (64 KiB): %w", len(raw), MaxSize, credentials.ErrMalformed)
	}
	if err := checkJSONShape(raw); err != nil {
		return nil, nil, nil, fmt.Errorf("data integrity: %v: %w", err, credentials.ErrMalformed)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, nil, nil, fmt.Errorf("data integrity: not a JSON object: %w", credentials.ErrMalformed)
	}
	ctxKey, ok := members["@context"]
	if !ok {
		return nil, nil, nil, fmt.Errorf("data integrity: @context is missing: %w", credentials.ErrMalformed)
	}
	pv, ok := members["proof"]
	if !ok {
		return nil, nil, nil, fmt.Errorf("data integrity: the credential has no proof: %w", credentials.ErrMalformed)
	}
	delete(members, "proof")
	doc := make(map[string]any, len(members))
	for k, v := range members {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, nil, nil, fmt.Errorf("data integrity: not a JSON object: %w", credentials.ErrMalformed)
		}
		doc[k] = x
	}
	var proofs []any
	if err := json.Unmarshal(pv, &proofs); err != nil {
		var one any
		if err := json.Unmarshal(pv, &one); err != nil {
			return nil, nil, nil, fmt.Errorf("data integrity: the proof is not JSON: %w", credentials.ErrMalformed)
		}
		proofs = []any{one}
	}
	if len(proofs) == 0 {
		return nil, nil, nil, fmt.Errorf("data integrity: the proof list is empty: %w", credentials.ErrMalformed)
	}
	return doc, proofs, ctxKey, nil
}

func wrapJSONLD(err error) error {
	if errors.Is(err, ErrContextNotAvailable) {
		return fmt.Errorf("data integrity: %w: %w", err, credentials.ErrUnsupported)
	}
	return fmt.Errorf("data integrity: %w: %w", err, credentials.ErrMalformed)
}

// proof is an embedded Data Integrity proof, as its JSON states it. Only
// the members of a proof configuration are accepted, so that every member
// is covered by the signature.
type proof struct {
	Type               string `json:"type"`
	Cryptosuite        string `json:"cryptosuite"`
	VerificationMethod string `json:"verificationMethod"`
	ProofPurpose       string `json:"proofPurpose"`
	Created            string `json:"created"`
	Expires            string `json:"expires"`
	Domain             string `json:"domain"`
	Challenge          string `json:"challenge"`
	ProofValue         string `json:"proofValue"`

	raw     map[string]any
	created time.Time
	expires time.Time
	sig     []byte
	// challenge and domain are what the signed proof configuration states.
	challenge, domain string
}

var proofMembers = []string{"id", "type", "cryptosuite", "verificationMethod", "proofPurpose", "created", "expires", "domain", "challenge", "nonce", "proofValue"}

// selectProof picks the proof whose verificationMethod belongs to issuer,
// as the signed statements name it, and checks it. There must be exactly
// one. Every proof is a JSON object.
func selectProof(proofs []any, issuer string) (*proof, error) {
	var found []map[string]any
	for _, pv := range proofs {
		m := pv.(map[string]any)
		s, _ := m["verificationMethod"].(string)
		if did, _, ok := strings.Cut(s, "#"); ok && did == issuer {
			found = append(found, m)
		}
	}
	switch {
	case len(found) == 0 && len(proofs) == 1:
		var p proof
		if err := p.parse(proofs[0].(map[string]any), ProofPurposeAssertion); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("data integrity: the proof's verificationMethod %s is not a key of the issuer: %w", p.VerificationMethod, credentials.ErrMalformed)
	case len(found) == 0:
		return nil, fmt.Errorf("data integrity: none of the %d proofs is by the issuer: %w", len(proofs), credentials.ErrMalformed)
	case len(found) > 1:
		return nil, fmt.Errorf("data integrity: %d proofs are by the issuer; tally verifies one: %w", len(found), credentials.ErrUnsupported)
	}
	var p proof
	if err := p.parse(found[0], ProofPurposeAssertion); err != nil {
		return nil, err
	}
	return &p, nil
}

// parse reads and checks one proof, made for purpose.
func (p *proof) parse(m map[string]any, purpose string) error {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(proofMembers, name) {
			if name == "previousProof" {
				return fmt.Errorf("data integrity: proof chains (previousProof) are not supported: %w", credentials.ErrUnsupported)
			}
			return fmt.Errorf("data integrity: proof member %q is not supported: %w", name, credentials.ErrUnsupported)
		}
		if _, ok := m[name].(string); !ok {
			return fmt.Errorf("data integrity: proof member %q must be a string: %w", name, credentials.ErrMalformed)
		}
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	*p = proof{
		Type:               str("type"),
		Cryptosuite:        str("cryptosuite"),
		VerificationMethod: str("verificationMethod"),
		ProofPurpose:       str("proofPurpose"),
		Created:            str("created"),
		Expires:            str("expires"),
		Domain:             str("domain"),
		Challenge:          str("challenge"),
		ProofValue:         str("proofValue"),
		raw:                m,
	}
	switch {
	case p.Type != ProofType:
		return fmt.Errorf("data integrity: proof type %q is not supported (only %s): %w", p.Type, ProofType, credentials.ErrUnsupported)
	case p.Cryptosuite != Cryptosuite:
		return fmt.Errorf("data integrity: cryptosuite %q is not supported (only %s): %w", p.Cryptosuite, Cryptosuite, credentials.ErrUnsupported)
	case p.ProofPurpose != purpose:
		return fmt.Errorf("data integrity: proofPurpose is %q; this proof must be %s: %w", p.ProofPurpose, purpose, credentials.ErrMalformed)
	case !(strings.HasPrefix(p.VerificationMethod, "did:") || strings.HasPrefix(p.VerificationMethod, "https:")) || !strings.Contains(p.VerificationMethod, "#"):
		return fmt.Errorf("data integrity: verificationMethod %q is not a DID URL or https URL with a key fragment: %w", p.VerificationMethod, credentials.ErrMalformed)
	}
	sig, err := decodeProofValue(p.ProofValue)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("data integrity: proofValue is not a base58btc Ed25519 signature: %w", credentials.ErrMalformed)
	}
	p.sig = sig
	if p.created, err = proofTime("created", p.Created); err != nil {
		return err
	}
	if p.expires, err = proofTime("expires", p.Expires); err != nil {
		return err
	}
	return nil
}

// proofTime reads a proof date-time (xsd:dateTime, as RFC 3339).
func proofTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("data integrity: proof %s %q is not an RFC 3339 date-time: %w", field, s, credentials.ErrMalformed)
	}
	return t, nil
}

// decodeProofValue decodes a multibase base58btc ("z") proof value.
func decodeProofValue(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "z")
	if !ok || len(rest) > 128 {
		return nil, errors.New("not a base58btc multibase signature")
	}
	return base58.Decode(rest)
}

// DocumentLoader returns the JSON-LD document loader the Processor uses: it
// serves the bundled contexts (and the extra ones of Options) from memory
// and refuses every other URL with an error wrapping ErrContextNotAvailable.
// Hand it to another JSON-LD processor to work on tally credentials offline.
func (p *Processor) DocumentLoader() ld.DocumentLoader { return p.loader }
