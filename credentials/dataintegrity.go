package credentials

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mr-tron/base58"
	"github.com/trustbloc/did-go/doc/did"
	"github.com/trustbloc/vc-go/dataintegrity"
	"github.com/trustbloc/vc-go/dataintegrity/models"
	"github.com/trustbloc/vc-go/dataintegrity/suite/eddsa2022"
)

// The values of a tally Data Integrity proof (W3C VC Data Integrity 1.0,
// W3C vc-di-eddsa 1.0).
const (
	// DataIntegrityProofType is the proof's type.
	DataIntegrityProofType = "DataIntegrityProof"
	// CryptosuiteEdDSARDFC2022 is the only cryptosuite tally signs and
	// verifies: RDF Dataset Canonicalization, SHA-256, Ed25519.
	CryptosuiteEdDSARDFC2022 = "eddsa-rdfc-2022"
	// ProofPurposeAssertion is the purpose of an issuer's proof.
	ProofPurposeAssertion = "assertionMethod"
)

// IssueDataIntegrity signs c with an embedded eddsa-rdfc-2022 Data Integrity
// proof and returns the secured credential's JSON: c's VCDM 2.0 JSON with a
// "proof" member {type DataIntegrityProof, cryptosuite eddsa-rdfc-2022,
// created (now, to the second), verificationMethod k.ID, proofPurpose
// assertionMethod, proofValue}. c must be prepared (see Prepare) and valid,
// and issued by k's DID; k must be an Ed25519 key with a Signer.
//
// Every member of c must be defined by its @context; JSON-LD processing
// uses only the contexts built into tally (see JSONLDLoader).
func IssueDataIntegrity(c *Credential, k *Key, now time.Time) ([]byte, error) {
	if k == nil || k.Signer == nil {
		return nil, errors.New("data integrity: signing needs a private key")
	}
	edPub, ok := k.Public.(ed25519.PublicKey)
	if k.Alg != EdDSA || !ok {
		return nil, fmt.Errorf("data integrity: eddsa-rdfc-2022 needs an Ed25519 key, and %s is %s: %w", k.ID, k.Alg, ErrUnsupported)
	}
	if now.IsZero() {
		return nil, errors.New("data integrity: the signing time is missing")
	}
	if c.Context == nil {
		return nil, fieldError("@context", "is missing: prepare the credential first")
	}
	if c.Issuer != k.DID {
		return nil, fieldError("issuer", "is %s, but the signing key belongs to %s", c.Issuer, k.DID)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("data integrity: encode credential: %w", err)
	}
	loader, err := newContextLoader(nil)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("data integrity: encode credential: %w", err)
	}
	if err := checkStrictJSONLD(m, loader); err != nil {
		return nil, fmt.Errorf("data integrity: the credential cannot be signed: %w", err)
	}

	signer, err := dataintegrity.NewSigner(&dataintegrity.Options{},
		eddsa2022.NewSignerInitializer(&eddsa2022.SignerInitializerOptions{
			LDDocumentLoader: loader,
			SignerGetter:     eddsa2022.WithStaticSigner(rawSigner{k.Signer}),
		}))
	if err != nil {
		return nil, fmt.Errorf("data integrity: %w", err)
	}
	out, err := signer.AddProof(doc, &models.ProofOptions{
		Purpose:              ProofPurposeAssertion,
		VerificationMethodID: k.ID,
		VerificationMethod:   verificationMethod(k.ID, edPub),
		ProofType:            DataIntegrityProofType,
		SuiteType:            CryptosuiteEdDSARDFC2022,
		Created:              now.UTC().Truncate(time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("data integrity: sign: %w", err)
	}
	return out, nil
}

// rawSigner adapts a crypto.Signer holding an Ed25519 key to vc-go's signer
// interface: it signs the message itself (pure Ed25519, no pre-hash).
type rawSigner struct{ s crypto.Signer }

func (r rawSigner) Sign(msg []byte) ([]byte, error) {
	return r.s.Sign(nil, msg, crypto.Hash(0))
}

// verificationMethod describes an Ed25519 public key to vc-go, so that it
// verifies with the key it is given and resolves nothing.
func verificationMethod(id string, pub ed25519.PublicKey) *did.VerificationMethod {
	controller, _, _ := strings.Cut(id, "#")
	return did.NewVerificationMethodFromBytes(id, "Multikey", controller, pub)
}

// DataIntegrity is a tally credential secured with an embedded Data
// Integrity proof, parsed but not yet verified. It implements Secured.
type DataIntegrity struct {
	di   *diDocument
	cred *Credential
}

// ParseDataIntegrity reads a credential secured with an eddsa-rdfc-2022
// Data Integrity proof. It checks, before any signature check:
//
//   - the input is one JSON object of at most MaxDataIntegritySize bytes,
//     with no duplicate member names;
//   - it is a tally credential (types, claims and members tally knows);
//   - every term is defined by its @context, every type and id is an
//     absolute IRI, and every context is one built into tally (nothing is
//     fetched);
//   - it carries exactly one proof by the issuer: a DataIntegrityProof with
//     cryptosuite eddsa-rdfc-2022 and proofPurpose assertionMethod whose
//     verificationMethod is a DID URL of the issuer's DID. Proofs by other
//     parties, if any, are ignored.
//
// Errors wrap ErrMalformed, or ErrUnsupported for a well-formed proof tally
// cannot check (another cryptosuite, a proof chain).
func ParseDataIntegrity(raw []byte) (*DataIntegrity, error) {
	di, err := parseDIDocument(raw, tallyMembers)
	if err != nil {
		return nil, err
	}
	var c Credential
	if err := json.Unmarshal(di.unsecured, &c); err != nil {
		return nil, fmt.Errorf("data integrity: %w: %w", err, ErrMalformed)
	}
	if c.Context == nil {
		return nil, fmt.Errorf("data integrity: @context is missing: %w", ErrMalformed)
	}
	// The proof signs the RDF statements, but tally reads the claims by
	// their JSON names. Only under tally's own context do the two agree:
	// another inline context could swap two terms' meanings (and their
	// values) without changing a single signed statement.
	if !isDefaultContext(c.Context) {
		return nil, fmt.Errorf("data integrity: @context must be exactly the VCDM 2.0 context and tally's context, as tally issues them: %w", ErrMalformed)
	}
	if !strings.HasPrefix(c.Issuer, "did:") {
		return nil, fmt.Errorf("data integrity: the issuer must be a DID, not %q: %w", c.Issuer, ErrMalformed)
	}
	if err := di.selectProof(c.Issuer); err != nil {
		return nil, err
	}
	return &DataIntegrity{di: di, cred: &c}, nil
}

// Format is FormatDataIntegrity.
func (d *DataIntegrity) Format() Format { return FormatDataIntegrity }

// Issuer is the credential's issuer DID.
func (d *DataIntegrity) Issuer() string { return d.cred.Issuer }

// KeyID is the proof's verificationMethod: a DID URL of the issuer's key.
func (d *DataIntegrity) KeyID() string { return d.di.proof.VerificationMethod }

// Credential is the parsed credential, not to be trusted before
// VerifySignature succeeds.
func (d *DataIntegrity) Credential() *Credential { return d.cred }

// Created is the proof's creation time, or zero when the proof gives none.
func (d *DataIntegrity) Created() time.Time { return d.di.proof.created }

// VerifySignature runs the eddsa-rdfc-2022 verification of the issuer's
// proof with pub, an Ed25519 public key: RDF canonicalization of the
// credential and of the proof configuration, SHA-256 of both, Ed25519.
// It does no network access. A wrong key or any change to the signed
// statements gives an error wrapping ErrBadSignature. A proof with an
// "expires" date is also refused once that date has passed: vc-go checks
// it against the system clock (tally's own proofs have none).
func (d *DataIntegrity) VerifySignature(pub crypto.PublicKey) error {
	return d.di.verify(pub)
}

// VerifyDataIntegrityJSON checks the eddsa-rdfc-2022 proof of any JSON-LD
// credential, not only a tally one, with pub: the same limits, strict
// JSON-LD checks and proof rules as ParseDataIntegrity, with the issuer
// given by the "issuer" member (a URL or an object with an id). Contexts
// must be built into tally. It returns nil when the proof verifies.
func VerifyDataIntegrityJSON(raw []byte, pub crypto.PublicKey) error {
	return verifyDataIntegrityJSON(raw, pub, nil)
}

func verifyDataIntegrityJSON(raw []byte, pub crypto.PublicKey, loader *contextLoader) error {
	di, err := parseDIDocumentWith(raw, nil, loader)
	if err != nil {
		return err
	}
	issuer, err := parseIssuer(di.members["issuer"])
	if err != nil || issuer == "" {
		return fmt.Errorf("data integrity: the issuer is missing or not a URL: %w", ErrMalformed)
	}
	if err := di.selectProof(issuer); err != nil {
		return err
	}
	return di.verify(pub)
}

// tallyMembers are the members a tally credential may have.
var tallyMembers = []string{"@context", "id", "type", "issuer", "validFrom", "validUntil", "credentialSubject", "credentialStatus", "proof"}

// diDocument is a JSON-LD document with embedded proofs, split for
// verification.
type diDocument struct {
	members   map[string]json.RawMessage // every member but "proof"
	unsecured []byte                     // members, re-encoded
	proofs    []json.RawMessage
	proofRaw  json.RawMessage // the selected proof
	proof     diProof
	loader    *contextLoader
}

func parseDIDocument(raw []byte, allowed []string) (*diDocument, error) {
	return parseDIDocumentWith(raw, allowed, nil)
}

// parseDIDocumentWith reads raw, checks its shape, size and JSON-LD, and
// splits off its proofs. allowed, when not nil, lists the member names the
// document may have.
func parseDIDocumentWith(raw []byte, allowed []string, loader *contextLoader) (*diDocument, error) {
	if len(raw) > MaxDataIntegritySize {
		return nil, fmt.Errorf("data integrity: the credential is %d bytes; tally reads at most %d (64 KiB): %w", len(raw), MaxDataIntegritySize, ErrMalformed)
	}
	if err := checkJSONShape(raw); err != nil {
		return nil, fmt.Errorf("data integrity: %v: %w", err, ErrMalformed)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("data integrity: not a JSON object: %w", ErrMalformed)
	}
	proofRaw, ok := members["proof"]
	if !ok {
		return nil, fmt.Errorf("data integrity: the credential has no proof: %w", ErrMalformed)
	}
	delete(members, "proof")
	var proofs []json.RawMessage
	if err := json.Unmarshal(proofRaw, &proofs); err != nil {
		proofs = []json.RawMessage{proofRaw}
	}
	if len(proofs) == 0 {
		return nil, fmt.Errorf("data integrity: the proof list is empty: %w", ErrMalformed)
	}
	unsecured, err := json.Marshal(members)
	if err != nil {
		return nil, fmt.Errorf("data integrity: %v: %w", err, ErrMalformed)
	}
	if loader == nil {
		if loader, err = newContextLoader(nil); err != nil {
			return nil, err
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(unsecured, &doc); err != nil {
		return nil, fmt.Errorf("data integrity: %v: %w", err, ErrMalformed)
	}
	if err := checkStrictJSONLD(doc, loader); err != nil {
		if errors.Is(err, ErrContextNotAvailable) {
			return nil, fmt.Errorf("data integrity: %w: %w", err, ErrUnsupported)
		}
		return nil, fmt.Errorf("data integrity: %w: %w", err, ErrMalformed)
	}
	if allowed != nil {
		var extra []string
		for name := range members {
			if !slices.Contains(allowed, name) {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			return nil, fmt.Errorf("data integrity: member %q is not part of a tally credential: %w", extra[0], ErrMalformed)
		}
	}
	return &diDocument{members: members, unsecured: unsecured, proofs: proofs, loader: loader}, nil
}

// selectProof picks the proof whose verificationMethod belongs to issuer and
// checks it. There must be exactly one.
func (d *diDocument) selectProof(issuer string) error {
	var found []int
	for i, p := range d.proofs {
		var vm struct {
			VerificationMethod any `json:"verificationMethod"`
		}
		if json.Unmarshal(p, &vm) != nil {
			if len(d.proofs) == 1 {
				return fmt.Errorf("data integrity: the proof is not a JSON object: %w", ErrMalformed)
			}
			continue
		}
		s, _ := vm.VerificationMethod.(string)
		if did, _, ok := strings.Cut(s, "#"); ok && did == issuer {
			found = append(found, i)
		}
	}
	switch {
	case len(found) == 0 && len(d.proofs) == 1:
		var p diProof
		if err := p.parse(d.proofs[0]); err != nil {
			return err
		}
		return fmt.Errorf("data integrity: the proof's verificationMethod %s is not a key of the issuer %s: %w", p.VerificationMethod, issuer, ErrMalformed)
	case len(found) == 0:
		return fmt.Errorf("data integrity: none of the %d proofs is by the issuer %s: %w", len(d.proofs), issuer, ErrMalformed)
	case len(found) > 1:
		return fmt.Errorf("data integrity: %d proofs are by the issuer %s; tally verifies one: %w", len(found), issuer, ErrUnsupported)
	}
	d.proofRaw = d.proofs[found[0]]
	return d.proof.parse(d.proofRaw)
}

// verify runs vc-go's Data Integrity verifier on the document with the
// selected proof alone, with pub as the verification method's key.
func (d *diDocument) verify(pub crypto.PublicKey) error {
	edPub, ok := pub.(ed25519.PublicKey)
	if !ok || len(edPub) != ed25519.PublicKeySize {
		kind := fmt.Sprintf("%T", pub)
		if _, isEC := pub.(*ecdsa.PublicKey); isEC {
			kind = "an ECDSA key"
		}
		return fmt.Errorf("data integrity: an eddsa-rdfc-2022 proof needs an Ed25519 key, not %s: %w", kind, ErrBadSignature)
	}
	doc := make(map[string]json.RawMessage, len(d.members)+1)
	for k, v := range d.members {
		doc[k] = v
	}
	doc["proof"] = d.proofRaw
	secured, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("data integrity: %v: %w", err, ErrMalformed)
	}
	verifier, err := dataintegrity.NewVerifier(&dataintegrity.Options{},
		eddsa2022.NewVerifierInitializer(&eddsa2022.VerifierInitializerOptions{LDDocumentLoader: d.loader}))
	if err != nil {
		return fmt.Errorf("data integrity: %w", err)
	}
	err = verifier.VerifyProof(secured, &models.ProofOptions{
		Purpose:              ProofPurposeAssertion,
		ProofType:            DataIntegrityProofType,
		SuiteType:            CryptosuiteEdDSARDFC2022,
		VerificationMethodID: d.proof.VerificationMethod,
		VerificationMethod:   verificationMethod(d.proof.VerificationMethod, edPub),
		Domain:               d.proof.Domain,
		Challenge:            d.proof.Challenge,
	})
	if err != nil {
		return fmt.Errorf("data integrity: the proof by %s does not verify (%v): %w", d.proof.VerificationMethod, err, ErrBadSignature)
	}
	return nil
}

// diProof is an embedded Data Integrity proof. Only the members vc-go puts
// in the proof configuration are accepted, so that every member of the
// proof is covered by the signature.
type diProof struct {
	Type               string `json:"type"`
	Cryptosuite        string `json:"cryptosuite"`
	VerificationMethod string `json:"verificationMethod"`
	ProofPurpose       string `json:"proofPurpose"`
	Created            string `json:"created"`
	Expires            string `json:"expires"`
	Domain             string `json:"domain"`
	Challenge          string `json:"challenge"`
	ProofValue         string `json:"proofValue"`

	created time.Time
}

// parse reads and checks one proof.
func (p *diProof) parse(raw json.RawMessage) error {
	var members map[string]any
	if err := json.Unmarshal(raw, &members); err != nil {
		return fmt.Errorf("data integrity: the proof is not a JSON object: %w", ErrMalformed)
	}
	known := []string{"type", "cryptosuite", "verificationMethod", "proofPurpose", "created", "expires", "domain", "challenge", "proofValue"}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(known, name) {
			if name == "previousProof" {
				return fmt.Errorf("data integrity: proof chains (previousProof) are not supported: %w", ErrUnsupported)
			}
			return fmt.Errorf("data integrity: proof member %q is not supported: %w", name, ErrUnsupported)
		}
		if _, ok := members[name].(string); !ok {
			return fmt.Errorf("data integrity: proof member %q must be a string: %w", name, ErrMalformed)
		}
	}
	*p = diProof{}
	if err := json.Unmarshal(raw, p); err != nil {
		return fmt.Errorf("data integrity: the proof is not a JSON object: %w", ErrMalformed)
	}
	switch {
	case p.Type != DataIntegrityProofType:
		return fmt.Errorf("data integrity: proof type %q is not supported (only %s): %w", p.Type, DataIntegrityProofType, ErrUnsupported)
	case p.Cryptosuite != CryptosuiteEdDSARDFC2022:
		return fmt.Errorf("data integrity: cryptosuite %q is not supported (only %s): %w", p.Cryptosuite, CryptosuiteEdDSARDFC2022, ErrUnsupported)
	case p.ProofPurpose != ProofPurposeAssertion:
		return fmt.Errorf("data integrity: proofPurpose is %q; a credential's proof must be %s: %w", p.ProofPurpose, ProofPurposeAssertion, ErrMalformed)
	case !strings.Contains(p.VerificationMethod, "#"):
		return fmt.Errorf("data integrity: verificationMethod %q is not a URL with a key fragment: %w", p.VerificationMethod, ErrMalformed)
	}
	if sig, err := decodeProofValue(p.ProofValue); err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("data integrity: proofValue is not a base58btc Ed25519 signature: %w", ErrMalformed)
	}
	var err error
	if p.created, err = proofTime("created", p.Created); err != nil {
		return err
	}
	if _, err = proofTime("expires", p.Expires); err != nil {
		return err
	}
	return nil
}

// proofTime reads a proof date-time. vc-go rebuilds the proof configuration
// from the parsed time in RFC 3339 form, so a value that does not survive
// that round trip (fractional seconds) could never verify: say so.
func proofTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("data integrity: proof %s %q is not an RFC 3339 date-time: %w", field, s, ErrMalformed)
	}
	if t.Format(time.RFC3339) != s {
		return time.Time{}, fmt.Errorf("data integrity: proof %s %q has a form (such as fractional seconds) tally cannot verify: %w", field, s, ErrUnsupported)
	}
	return t, nil
}

// decodeProofValue decodes a multibase base58btc ("z") proof value.
func decodeProofValue(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "z")
	if !ok {
		return nil, errors.New("not base58btc multibase")
	}
	return base58.Decode(rest)
}

// View is the generic view of the credential.
func (d *DataIntegrity) View() *View { return d.cred.View() }
