package dataintegrity

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
)

// canonicalBoth canonicalizes doc by the plain path and by JSON-LD
// expansion. plainOK is false when the plain path declined; expandErr is
// the general path's error.
func canonicalBoth(t testing.TB, p *Processor, doc map[string]any) (plainNQ string, plainOK bool, expandNQ string, expandErr error) {
	t.Helper()
	opts := p.jsonLDOptions()
	ctxValue, ok := doc["@context"]
	if !ok {
		return "", false, "", nil
	}
	key, err := json.Marshal(ctxValue)
	if err != nil {
		return "", false, "", err
	}
	actx, err := p.cache.get(key, ctxValue, opts)
	if err != nil {
		return "", false, "", err
	}
	body := map[string]any{}
	for k, v := range doc {
		if k != "@context" {
			body[k] = v
		}
	}
	nq := func(ds *ld.RDFDataset) string {
		if checkBlankNodes(ds) != nil {
			return "too complex"
		}
		out, err := ld.NewNormalisationAlgorithm(ld.AlgorithmURDNA2015, ld.MessageDigestAlgorithmSHA256).Main(ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		return out.(string)
	}
	if ds, ok := p.plainToRDF(actx, body); ok {
		plainNQ, plainOK = nq(ds), true
	}
	ds, err := p.expandToRDF(context.Background(), actx, body, doc, opts)
	if err != nil {
		return plainNQ, plainOK, "", err
	}
	return plainNQ, plainOK, nq(ds), nil
}

// corpusDocs reads the seed corpus of FuzzParseDataIntegrity: tally's own
// credentials, the W3C vector, near misses.
func corpusDocs(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzParseDataIntegrity")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(string(data), "[]byte(")
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[e.Name()] = []byte(s)
	}
	return out
}

// checkPaths holds the plain path to the general one on the document and
// on its proof configurations: where the plain path answers, the canonical
// dataset is the same.
func checkPaths(t *testing.T, p *Processor, raw []byte) (plainCount int) {
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil || checkJSONShape(raw) != nil {
		return 0
	}
	docs := []map[string]any{doc}
	if pv, ok := doc["proof"]; ok {
		delete(doc, "proof")
		proofs, isList := pv.([]any)
		if !isList {
			proofs = []any{pv}
		}
		for _, pr := range proofs {
			if m, ok := pr.(map[string]any); ok {
				cfg := (&proof{raw: m}).config(doc["@context"])
				docs = append(docs, cfg)
			}
		}
	}
	for _, d := range docs {
		plainNQ, plainOK, expandNQ, expandErr := canonicalBoth(t, p, d)
		if !plainOK {
			continue
		}
		plainCount++
		if expandErr != nil {
			t.Fatalf("the plain path accepted what expansion refuses (%v):\n%s", expandErr, raw)
		}
		if plainNQ != expandNQ {
			t.Fatalf("the paths disagree on\n%s\nplain:\n%s\nexpansion:\n%s", raw, plainNQ, expandNQ)
		}
	}
	return plainCount
}

func TestPlainPathMatchesExpansion(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	answered := 0
	for name, raw := range corpusDocs(t) {
		t.Run(name, func(t *testing.T) { answered += checkPaths(t, p, raw) })
	}
	// tally's three credentials and their proofs must take the plain path.
	if answered < 6 {
		t.Fatalf("the plain path answered %d documents; tally's own should all take it", answered)
	}
}

// FuzzPlainPathMatchesExpansion: on any input, where the plain path gives a
// dataset, expansion gives the same canonical one.
func FuzzPlainPathMatchesExpansion(f *testing.F) {
	for _, raw := range corpusDocs(f) {
		f.Add(raw)
	}
	p, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > MaxSize {
			return
		}
		checkPaths(t, p, raw)
	})
}
