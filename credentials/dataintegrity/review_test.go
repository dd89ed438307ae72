package dataintegrity_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"
	"github.com/piprate/json-gold/ld"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

// signWithProof signs doc with a proof of the given members, as any other
// eddsa-rdfc-2022 issuer does: json-gold's RDFC-1.0 of the proof
// configuration and of the credential, SHA-256 of each, Ed25519.
func signWithProof(t *testing.T, doc, proof map[string]any, k *credentials.Key) []byte {
	t.Helper()
	norm := func(v map[string]any) []byte {
		opts := ld.NewJsonLdOptions("")
		opts.ProcessingMode = ld.JsonLd_1_1
		opts.DocumentLoader = testProc.DocumentLoader()
		opts.Algorithm = ld.AlgorithmURDNA2015
		opts.Format = "application/n-quads"
		out, err := ld.NewJsonLdProcessor().Normalize(ld.CloneDocument(v), opts)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(out.(string)))
		return sum[:]
	}
	cfg := map[string]any{"@context": doc["@context"]}
	for name, v := range proof {
		cfg[name] = v
	}
	msg := append(norm(cfg), norm(doc)...)
	sig, err := k.Signer.Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	signedProof := map[string]any{"proofValue": "z" + base58.Encode(sig)}
	for name, v := range proof {
		signedProof[name] = v
	}
	out := map[string]any{"proof": signedProof}
	for name, v := range doc {
		out[name] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inlineV2 is the VCDM 2.0 context as an inline object, which anyone may
// put in place of its URL: it yields the same statements. The terms with
// scoped contexts that a credential does not use are left out (but
// VerifiableCredential and DataIntegrityProof), to stay within tally's count of @context members.
func inlineV2(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("contexts/credentials-v2.jsonld")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ctx := doc["@context"].(map[string]any)
	for term, def := range ctx {
		if d, ok := def.(map[string]any); ok && d["@context"] != nil && term != "DataIntegrityProof" && term != "VerifiableCredential" {
			delete(ctx, term)
		}
	}
	return ctx
}

// A proof's expires ends the credential's validity. The proof
// configuration's statements are signed, not the names its JSON gives
// them: a rewritten (inline) context can carry the signed expiration under
// another proof member, and the proof's JSON then says nothing of it.
func TestReviewProofExpiryIsReadFromTheSignedConfiguration(t *testing.T) {
	k := diKey(t, 11, "")
	doc := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleCredential"},
		"issuer":            k.DID,
		"validUntil":        "2030-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"name": "Example"},
	}
	proofExpires := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	raw := signWithProof(t, doc, map[string]any{
		"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
		"verificationMethod": k.ID, "created": "2026-11-01T00:00:00Z", "expires": proofExpires.Format(time.RFC3339),
	}, k)
	d, err := testProc.Parse(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.VerifySignature(k.Public); err != nil {
		t.Fatal(err)
	}
	if !d.View().ValidUntil.Equal(proofExpires) {
		t.Fatalf("as signed: validUntil %v, want the proof's expiry %v", d.View().ValidUntil, proofExpires)
	}
	// The rewrite: VCDM 2.0 inline, its DataIntegrityProof's nonce made the
	// expiration, and the proof's expires moved to nonce.
	forged := editJSON(t, raw, func(m map[string]any) {
		v2 := inlineV2(t)
		scoped := v2["DataIntegrityProof"].(map[string]any)["@context"].(map[string]any)
		scoped["nonce"] = scoped["expires"]
		delete(scoped, "expires")
		m["@context"] = []any{v2, "https://www.w3.org/ns/credentials/examples/v2"}
		p := m["proof"].(map[string]any)
		p["nonce"] = p["expires"]
		delete(p, "expires")
	})
	d, err = testProc.Parse(context.Background(), forged)
	if err != nil {
		t.Logf("refused: %v", err)
		return // refusing it is fine
	}
	if err := d.VerifySignature(k.Public); err != nil {
		t.Logf("sig: %v", err)
		return // so is a signature that no longer verifies
	}
	if !d.View().ValidUntil.Equal(proofExpires) {
		t.Fatalf("after a rewrite the signature still holds, and the validity ends %v, not at the proof's signed expiry %v", d.View().ValidUntil, proofExpires)
	}
}

// scopedBomb is an unsigned input of about 33 KB: an inline context of
// terms many, and 200 objects each of six types with a type-scoped context.
// JSON-LD expansion (json-gold) copies the whole active context for each
// scoped context it applies; explaining an undefined term expands and
// compacts it all again, without the context cache.
func scopedBomb(t *testing.T, k *credentials.Key, undefined bool) []byte {
	t.Helper()
	inline := map[string]any{"p": "urn:t:p"}
	var types []any
	for j := range 6 {
		inline[fmt.Sprint("T", j)] = map[string]any{"@id": fmt.Sprint("urn:t:T", j), "@context": map[string]any{"v": "urn:t:v"}}
		types = append(types, fmt.Sprint("T", j))
	}
	for i := range 1800 {
		inline[fmt.Sprint(i)] = "u:a"
	}
	var parts []any
	for i := range 200 {
		parts = append(parts, map[string]any{"type": types, "v": fmt.Sprint(i)})
	}
	subject := map[string]any{"p": parts, "@id": "urn:x:1"} // a keyword: no plain path
	if undefined {
		subject["zz"] = 1
	}
	b, err := json.Marshal(map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", inline},
		"type":              []any{"VerifiableCredential"},
		"issuer":            k.DID,
		"credentialSubject": subject,
		"proof": map[string]any{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
			"verificationMethod": k.ID, "proofValue": "z" + strings.Repeat("1", 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The work before a signature is checked is bounded: a cheap unsigned
// input must not cost seconds (it cost 1 s, and 3.5 s with an undefined
// term, against half a millisecond for a tally credential).
func TestReviewScopedContextsBoundTheWork(t *testing.T) {
	k := diKey(t, 12, "")
	for _, undefined := range []bool{false, true} {
		raw := scopedBomb(t, k, undefined)
		took, err := parseCost(raw)
		if limit := parseBudget(t); took > limit {
			t.Errorf("undefined term %v: a %d-byte unsigned input took %v to refuse, over %v (err %v)", undefined, len(raw), took, limit, err)
		}
		if undefined && !errors.Is(err, credentials.ErrMalformed) {
			t.Errorf("undefined term: err = %v", err)
		}
	}
}

// A long subject id repeated in every statement of many values makes the
// canonical N-Quads a thousand times the input; json-gold joins its lines
// by string concatenation, quadratic in that size. An 18 KB unsigned input
// cost seconds before any signature was checked.
func TestReviewCanonicalFormIsBounded(t *testing.T) {
	k := diKey(t, 13, "")
	values := make([]any, 1500)
	for i := range values {
		values[i] = i
	}
	raw, err := json.Marshal(map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential"},
		"issuer":            k.DID,
		"credentialSubject": map[string]any{"id": "urn:x:" + strings.Repeat("a", 12000), "p": values},
		"proof": map[string]any{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
			"verificationMethod": k.ID, "proofValue": "z" + strings.Repeat("1", 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	took, err := parseCost(raw)
	if limit := parseBudget(t); took > limit {
		t.Fatalf("a %d-byte unsigned input took %v, over %v (err %v)", len(raw), took, limit, err)
	}
}

// Processed contexts are cached and shared: credentials of different
// contexts and shapes (plain form, expansion, scoped contexts) parsed at
// once from a cold cache must each come out as they do alone. Run with
// -race.
func TestReviewConcurrentParseOfDifferentCredentials(t *testing.T) {
	k := diKey(t, 14, "")
	var inputs [][]byte
	for _, s := range []string{"registration.json", "eligibility.json", "referral.json"} {
		raw := issueDI(t, s, k)
		inputs = append(inputs, raw)
		// The same credential through expansion: the issuer as an object
		// with a keyword.
		inputs = append(inputs, editJSON(t, raw, func(m map[string]any) { m["issuer"] = map[string]any{"@id": m["issuer"]} }))
	}
	if w3c, err := os.ReadFile("testdata/di/w3c-vc-di-eddsa-rdfc-2022.json"); err == nil {
		inputs = append(inputs, w3c)
	}
	inputs = append(inputs, signDoc(t, map[string]any{
		"@context": []any{"https://www.w3.org/ns/credentials/v2", map[string]any{
			"T": map[string]any{"@id": "https://ex.org/T", "@context": map[string]any{"v": "https://ex.org/v"}},
			"p": "https://ex.org/p",
		}},
		"type":              []any{"VerifiableCredential"},
		"issuer":            k.DID,
		"credentialSubject": map[string]any{"p": []any{map[string]any{"type": "T", "v": "1"}, map[string]any{"type": "T", "v": "2"}}},
	}, k))
	summary := func(p *dataintegrity.Processor, raw []byte) string {
		d, err := p.Parse(context.Background(), raw)
		if err != nil {
			return "error: " + err.Error()
		}
		v := d.View()
		return fmt.Sprintf("%v %s %s %v", v.Types, v.Issuer, v.Claims, d.VerifySignature(k.Public) == nil)
	}
	alone := make([]string, len(inputs))
	for i, raw := range inputs {
		p, err := dataintegrity.New(dataintegrity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if alone[i] = summary(p, raw); !strings.HasSuffix(alone[i], " true") && i < 6 {
			t.Fatalf("input %d does not verify alone: %s", i, alone[i])
		}
	}
	p, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		i   int
		got string
	}
	results := make(chan result, 4*len(inputs))
	for range 4 {
		for i, raw := range inputs {
			go func() { results <- result{i, summary(p, raw)} }()
		}
	}
	for range 4 * len(inputs) {
		r := <-results
		if r.got != alone[r.i] {
			t.Errorf("input %d parsed at once with others: %s\nalone: %s", r.i, r.got, alone[r.i])
		}
	}
}

// parseCost is the least time of three parses of raw, and the error of
// the last.
func parseCost(raw []byte) (time.Duration, error) {
	least := time.Duration(1<<63 - 1)
	var err error
	for range 3 {
		start := time.Now()
		_, err = testProc.Parse(context.Background(), raw)
		least = min(least, time.Since(start))
	}
	return least, err
}

// parseBudget is what refusing a hostile input may cost: 300 parses of a
// tally credential, measured in the same run, since machines running tests
// are noisy (idle, a parse takes about a millisecond; the inputs above took
// seconds before their bounds).
func parseBudget(t *testing.T) time.Duration {
	t.Helper()
	base, err := parseCost(issueDI(t, "registration.json", diKey(t, 14, "")))
	if err != nil {
		t.Fatal(err)
	}
	return 300 * base
}
