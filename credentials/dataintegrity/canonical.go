package dataintegrity

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/tally-id/tally/credentials"
)

// maxAmbiguousBlankNodes bounds the blank nodes that RDF canonicalization
// must tell apart by their neighbourhoods (those whose own statements are
// alike). RDFC-1.0 does so by trying permutations of related blank nodes,
// so an input with n alike blank nodes costs up to n! steps: two identical
// blank nodes with nine identical blank children took 25 s. A credential
// rarely has any; tally refuses more than this many before canonicalizing.
const maxAmbiguousBlankNodes = 6

// maxBlankNodes bounds the blank nodes of a dataset.
const maxBlankNodes = 256

// ErrTooComplex is returned (wrapped, with credentials.ErrMalformed) for a
// credential whose JSON-LD expansion or RDF canonicalization would cost
// more than tally allows before a signature is checked: blank nodes too
// alike, or too many scoped contexts over too many terms.
var ErrTooComplex = errors.New("the credential would cost more to process than tally allows before its signature is checked")

// signedDataset is a JSON-LD document turned into an RDF dataset, and the
// hash of its canonical form.
type signedDataset struct {
	dataset *ld.RDFDataset
	hash    [sha256.Size]byte
}

// jsonLDOptions are the JSON-LD 1.1 options of every step: safe mode (an
// error wherever a value would be dropped on the way to RDF), the bundled
// contexts only.
func (p *Processor) jsonLDOptions() *ld.JsonLdOptions {
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = p.loader
	opts.SafeMode = true
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	return opts
}

// canonicalize turns doc (a JSON-LD object with an @context, whose JSON
// text is ctxKey) into an RDF dataset — straight from the JSON when it is
// in plain form, else by expansion with the cached processed context,
// checking that nothing is dropped on the way — and hashes its RDFC-1.0
// canonical N-Quads. doc is not modified.
func (p *Processor) canonicalize(ctx context.Context, doc map[string]any, ctxKey []byte) (*signedDataset, error) {
	opts := p.jsonLDOptions()
	ctxValue, ok := doc["@context"]
	if !ok {
		return nil, fmt.Errorf("data integrity: @context is missing: %w", credentials.ErrMalformed)
	}
	actx, err := p.cache.get(ctxKey, ctxValue, opts)
	if err != nil {
		return nil, p.jsonLDError(err, doc)
	}
	body := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "@context" {
			body[k] = v
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dataset, plain := p.plainToRDF(actx, body)
	if !plain {
		if err := checkExpansionWork(ctxValue, body, p.loader); err != nil {
			return nil, fmt.Errorf("data integrity: %w: %w", err, credentials.ErrMalformed)
		}
		if dataset, err = p.expandToRDF(ctx, actx, body, doc, opts); err != nil {
			return nil, err
		}
	}
	if err := checkCanonicalSize(dataset); err != nil {
		return nil, fmt.Errorf("data integrity: %w: %w", err, credentials.ErrMalformed)
	}
	if err := checkBlankNodes(dataset); err != nil {
		return nil, fmt.Errorf("data integrity: %w: %w", err, credentials.ErrMalformed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hash, err := canonicalHash(dataset)
	if err != nil {
		return nil, fmt.Errorf("data integrity: canonicalize: %v: %w", err, credentials.ErrMalformed)
	}
	return &signedDataset{dataset: dataset, hash: hash}, nil
}

// canonicalHash canonicalizes dataset with RDFC-1.0 and hashes its
// canonical N-Quads, line by line in their sorted order. (json-gold's Main
// joins the lines by string concatenation, at a cost quadratic in their
// size.) The dataset's blank nodes get their canonical labels.
func canonicalHash(dataset *ld.RDFDataset) ([sha256.Size]byte, error) {
	na := ld.NewNormalisationAlgorithm(ld.AlgorithmURDNA2015, ld.MessageDigestAlgorithmSHA256)
	na.Normalize(dataset)
	h := sha256.New()
	var ser ld.NQuadRDFSerializer
	one := &ld.RDFDataset{Graphs: map[string][]*ld.Quad{}}
	for _, q := range na.Quads() {
		name := "@default"
		if q.Graph != nil {
			name = q.Graph.GetValue()
		}
		clear(one.Graphs)
		one.Graphs[name] = []*ld.Quad{q}
		if err := ser.SerializeTo(h, one); err != nil {
			return [sha256.Size]byte{}, err
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, nil
}

// maxCanonicalSize bounds the size of a dataset's canonical N-Quads: every
// statement repeats its subject, predicate and object in full, so a long
// id over many values makes them a thousand times the JSON. A tally
// credential's are about 3 KB.
const maxCanonicalSize = 1 << 20

// checkCanonicalSize refuses a dataset whose canonical N-Quads would be
// larger than maxCanonicalSize (as counted before escaping).
func checkCanonicalSize(dataset *ld.RDFDataset) error {
	size := 0
	for graphName, quads := range dataset.Graphs {
		for _, q := range quads {
			size += len(graphName) + 16
			for _, n := range [3]ld.Node{q.Subject, q.Predicate, q.Object} {
				if n == nil {
					continue
				}
				size += len(n.GetValue()) + 4
				if l, ok := n.(*ld.Literal); ok {
					size += len(l.Datatype) + len(l.Language)
				}
			}
			if size > maxCanonicalSize {
				return fmt.Errorf("%w: its canonical form would be larger than %d bytes", ErrTooComplex, maxCanonicalSize)
			}
		}
	}
	return nil
}

// expandToRDF is the general path: JSON-LD expansion of body (doc without
// its @context, whose processed form is actx) in safe mode, the strict
// checks of the expanded form, and the conversion to RDF.
func (p *Processor) expandToRDF(ctx context.Context, actx *activeContext, body, doc map[string]any, opts *ld.JsonLdOptions) (*ld.RDFDataset, error) {
	api := ld.NewJsonLdApi()
	expanded, err := api.Expand(actx.ctx, "", ld.CloneDocument(body), opts, false, nil)
	if err != nil {
		return nil, p.jsonLDError(err, doc)
	}
	list, err := topLevel(expanded)
	if err != nil {
		return nil, err
	}
	if err := checkExpanded(list, ""); err != nil {
		return nil, fmt.Errorf("data integrity: %w: %w", err, credentials.ErrMalformed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dataset, err := toRDF(api, list, opts)
	if err != nil {
		return nil, fmt.Errorf("data integrity: JSON-LD to RDF: %s: %w", jsonLDProblem(err), credentials.ErrMalformed)
	}
	return dataset, nil
}

// topLevel finishes the expansion as the JSON-LD API's expand() does: an
// object with only @graph stands for its graph, and the result is a list.
func topLevel(expanded any) ([]any, error) {
	switch x := expanded.(type) {
	case nil:
		return nil, fmt.Errorf("data integrity: the document expresses nothing: %w", credentials.ErrMalformed)
	case []any:
		return x, nil
	case map[string]any:
		if len(x) == 0 {
			return nil, fmt.Errorf("data integrity: the document expresses nothing: %w", credentials.ErrMalformed)
		}
		if g, ok := x["@graph"]; ok && len(x) == 1 {
			if l, ok := g.([]any); ok {
				return l, nil
			}
			return []any{g}, nil
		}
		return []any{x}, nil
	}
	return nil, fmt.Errorf("data integrity: unexpected JSON-LD expansion: %w", credentials.ErrMalformed)
}

// jsonLDError turns a json-gold error into a plain one, naming an undefined
// term when that is the problem.
func (p *Processor) jsonLDError(err error, doc map[string]any) error {
	var le *ld.JsonLdError
	if errors.As(err, &le) && le.Code == ld.LoadingRemoteContextFailed {
		if cause, ok := le.Details.(error); ok && errors.Is(cause, ErrContextNotAvailable) {
			return fmt.Errorf("data integrity: %w: %w", cause, credentials.ErrUnsupported)
		}
	}
	if errors.As(err, &le) && le.Code == ld.InvalidProperty {
		if name := findUndefinedTerm(doc, p.loader); name != "" {
			return fmt.Errorf("data integrity: JSON-LD: %s is not defined by any @context (undefined term): %w", name, credentials.ErrMalformed)
		}
	}
	return fmt.Errorf("data integrity: JSON-LD: %s: %w", jsonLDProblem(err), credentials.ErrMalformed)
}

// checkBlankNodes bounds the cost of canonicalizing dataset. RDFC-1.0 gives
// a blank node its canonical label from the hash of its own statements
// (its first-degree hash) when no other blank node shares that hash; only
// blank nodes that share one need the costly n-degree step. It counts
// those, grouping blank nodes by their statements with themselves written
// as _:a and every other blank node as _:z, exactly as the first-degree
// hash does, and refuses more than maxAmbiguousBlankNodes.
func checkBlankNodes(dataset *ld.RDFDataset) error {
	quadsOf := map[string][]string{}
	for graphName, quads := range dataset.Graphs {
		for _, q := range quads {
			nodes := [4]ld.Node{q.Subject, q.Predicate, q.Object, q.Graph}
			var blank []string
			for _, n := range nodes {
				if n != nil && ld.IsBlankNode(n) {
					blank = append(blank, n.GetValue())
				}
			}
			if strings.HasPrefix(graphName, "_:") {
				blank = append(blank, graphName)
			}
			for _, b := range blank {
				if len(quadsOf[b]) == 0 && len(quadsOf) >= maxBlankNodes {
					return fmt.Errorf("more than %d blank nodes", maxBlankNodes)
				}
				quadsOf[b] = append(quadsOf[b], firstDegreeLine(q, graphName, b))
			}
		}
	}
	groups := map[string]int{}
	for _, lines := range quadsOf {
		sort.Strings(lines)
		groups[strings.Join(lines, "\n")]++
	}
	ambiguous := 0
	for _, n := range groups {
		if n > 1 {
			ambiguous += n
		}
	}
	if ambiguous > maxAmbiguousBlankNodes {
		return fmt.Errorf("%w: its blank nodes are too alike to canonicalize at bounded cost (%d alike, at most %d)", ErrTooComplex, ambiguous, maxAmbiguousBlankNodes)
	}
	return nil
}

// firstDegreeLine writes a quad for grouping blank nodes: self as _:a, any
// other blank node as _:z.
func firstDegreeLine(q *ld.Quad, graphName, self string) string {
	term := func(n ld.Node) string {
		if n == nil {
			return ""
		}
		if ld.IsBlankNode(n) {
			if n.GetValue() == self {
				return "_:a"
			}
			return "_:z"
		}
		if l, ok := n.(*ld.Literal); ok {
			return fmt.Sprintf("%q^^%s@%s", l.Value, l.Datatype, l.Language)
		}
		return "<" + n.GetValue() + ">"
	}
	g := graphName
	switch {
	case g == "@default":
		g = ""
	case g == self:
		g = "_:a"
	case strings.HasPrefix(g, "_:"):
		g = "_:z"
	}
	return term(q.Subject) + " " + term(q.Predicate) + " " + term(q.Object) + " " + g
}
