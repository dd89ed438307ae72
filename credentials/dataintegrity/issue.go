package dataintegrity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mr-tron/base58"

	"github.com/tally-id/tally/credentials"
)

// Issue signs c with an embedded eddsa-rdfc-2022 Data Integrity proof and
// returns the secured credential's JSON: c's VCDM 2.0 JSON with a "proof"
// member {type DataIntegrityProof, cryptosuite eddsa-rdfc-2022, created
// (now, to the second), verificationMethod k.ID, proofPurpose
// assertionMethod, proofValue}. c must be prepared (credentials.Prepare)
// and valid, and issued by k's DID; k must be an Ed25519 key with a
// Signer.
func (p *Processor) Issue(c *credentials.Credential, k *credentials.Key, now time.Time) ([]byte, error) {
	if c.Context == nil {
		return nil, errors.New("data integrity: @context is missing: prepare the credential first")
	}
	if c.Issuer != k.DID {
		return nil, errors.New("data integrity: the credential's issuer is not the signing key's DID")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("data integrity: encode credential: %w", err)
	}
	return p.Sign(context.Background(), doc, k, now)
}

// Sign adds an eddsa-rdfc-2022 proof by k to doc, a JSON-LD credential of
// any type whose contexts are bundled or inline, and returns the secured
// JSON. Every term must be defined by a context: a member JSON-LD would
// drop is an error, never silently left unsigned.
func (p *Processor) Sign(ctx context.Context, doc []byte, k *credentials.Key, now time.Time) ([]byte, error) {
	if k == nil || k.Signer == nil {
		return nil, errors.New("data integrity: signing needs a private key")
	}
	if _, ok := k.Public.(ed25519.PublicKey); k.Alg != credentials.EdDSA || !ok {
		return nil, fmt.Errorf("data integrity: eddsa-rdfc-2022 needs an Ed25519 key, and %s is %s: %w", k.ID, k.Alg, credentials.ErrUnsupported)
	}
	if now.IsZero() {
		return nil, errors.New("data integrity: the signing time is missing")
	}
	m, ctxKey, sd, err := p.check(ctx, doc)
	if err != nil {
		return nil, err
	}
	pr := map[string]any{
		"type":               ProofType,
		"cryptosuite":        Cryptosuite,
		"created":            now.UTC().Truncate(time.Second).Format(time.RFC3339),
		"verificationMethod": k.ID,
		"proofPurpose":       ProofPurposeAssertion,
	}
	cfg, err := p.canonicalize(ctx, (&proof{raw: pr}).config(m["@context"]), ctxKey)
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

// Check tells whether Sign would accept doc, without signing it: one JSON
// object of bounded size and shape, with no proof, whose contexts are
// bundled or inline, whose every term a context defines (JSON-LD in safe
// mode: a member that expansion would drop is an error), and which states
// one VerifiableCredential with an issuer URL and a credentialSubject.
// Errors wrap credentials.ErrMalformed, or credentials.ErrUnsupported for
// a context that is not built in or a proof already present.
func (p *Processor) Check(ctx context.Context, doc []byte) error {
	_, _, _, err := p.check(ctx, doc)
	return err
}

// check is Check, returning the decoded document, its @context JSON and
// its canonical dataset for Sign.
func (p *Processor) check(ctx context.Context, doc []byte) (map[string]any, []byte, *signedDataset, error) {
	if len(doc) > MaxSize {
		return nil, nil, nil, fmt.Errorf("data integrity: the credential is larger than %d bytes: %w", MaxSize, credentials.ErrMalformed)
	}
	if err := checkJSONShape(doc); err != nil {
		return nil, nil, nil, fmt.Errorf("data integrity: %v: %w", err, credentials.ErrMalformed)
	}
	var m map[string]any
	var members map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil || json.Unmarshal(doc, &members) != nil || m == nil {
		return nil, nil, nil, fmt.Errorf("data integrity: not a JSON object: %w", credentials.ErrMalformed)
	}
	if _, has := m["proof"]; has {
		return nil, nil, nil, fmt.Errorf("data integrity: the credential already has a proof: %w", credentials.ErrUnsupported)
	}
	if err := checkContexts(m, p.loader); err != nil {
		return nil, nil, nil, wrapJSONLD(err)
	}
	sd, err := p.canonicalize(ctx, m, members["@context"])
	if err != nil {
		return nil, nil, nil, err
	}
	names, err := p.namingContext(m["@context"])
	if err != nil {
		return nil, nil, nil, wrapJSONLD(err)
	}
	view, _, err := p.readView(sd, names)
	if err != nil {
		return nil, nil, nil, err
	}
	// A term of the credential's own context that names the status
	// property (or a compact or absolute IRI of it) would add status
	// entries that a reader of the JSON does not see, and that verifiers
	// reading the statements (tally's among them) check: every status
	// entry must be one of the credentialStatus member's.
	if n := len(view.Status) + len(view.Skipped); n > jsonEntries(m["credentialStatus"]) {
		return nil, nil, nil, fmt.Errorf("data integrity: the credential states %d status entries, not all of them under credentialStatus (a context names the status property otherwise): %w", n, credentials.ErrMalformed)
	}
	return m, members["@context"], sd, nil
}

// jsonEntries is how many entries a JSON member holds: none when absent,
// the length of a list, else one.
func jsonEntries(v any) int {
	switch v := v.(type) {
	case nil:
		return 0
	case []any:
		return len(v)
	}
	return 1
}
