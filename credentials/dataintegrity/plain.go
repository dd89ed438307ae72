package dataintegrity

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// Credentials as issuers write them are JSON-LD in plain compacted form:
// every member a term of the context, values strings, numbers, booleans,
// arrays and objects, no keyword but the top-level @context. For that form
// plainToRDF writes the RDF statements straight from the JSON and the
// processed context's term definitions, which costs a fraction of JSON-LD
// expansion (json-gold copies the whole active context for every scoped
// context it meets). For anything else — a keyword, a list, a language
// map, a nested context, an undefined term, a compact IRI, a property-scoped
// context on an object — it declines, and the general path (expansion in
// safe mode, then the node map) does the work and gives the errors. What
// the verifier decides on is read from the statements either way, and a
// test holds the two paths to the same canonical dataset.

// plainDef is what the plain path uses of a term definition.
type plainDef struct {
	iri     string // the expanded IRI, or "@id" / "@type" for keyword aliases
	typ     string // "", "@id", "@vocab", or a datatype IRI
	set     bool   // @container @set
	scoped  any    // the term's local (scoped) context, if any
	unusual bool   // anything the plain path does not handle
}

// plainDefs returns the plain path's view of the context's terms, built on
// first use.
func (a *activeContext) plainDefs() map[string]plainDef {
	a.plainOnce.Do(func() {
		a.plain = map[string]plainDef{}
		defs, _ := a.ctx.AsMap()["termDefinitions"].(map[string]any)
		for term, d := range defs {
			def, ok := d.(map[string]any)
			if !ok {
				a.plain[term] = plainDef{unusual: true}
				continue
			}
			pd := plainDef{scoped: def["@context"]}
			pd.iri, _ = def["@id"].(string)
			pd.typ, _ = def["@type"].(string)
			if def["@reverse"] == true || def["@language"] != nil || def["@direction"] != nil || def["@nest"] != nil || def["@index"] != nil {
				pd.unusual = true
			}
			switch c := def["@container"].(type) {
			case nil:
			case []any:
				pd.set = len(c) == 1 && c[0] == "@set"
				pd.unusual = pd.unusual || !pd.set
			default:
				pd.unusual = true
			}
			if pd.typ == "@json" || pd.typ == "@none" {
				pd.unusual = true
			}
			if strings.HasPrefix(pd.iri, "@") && pd.iri != "@id" && pd.iri != "@type" {
				pd.unusual = true
			}
			a.plain[term] = pd
		}
		values, _ := a.ctx.AsMap()["values"].(map[string]any)
		for k := range values {
			switch k {
			case "@base", "@version", "@vocab", "processingMode":
			default: // @language, @direction, @propagate...
				a.plainUnusual = true
			}
		}
		if base, _ := values["@base"].(string); base != "" {
			a.plainUnusual = true
		}
	})
	return a.plain
}

// scopedContexts caches the contexts made by applying a term's local
// context to an active context.
type scopedContexts struct {
	mu sync.Mutex
	m  map[scopedKey]*activeContext
}

// scopedKey names a scoped context: base with the local context of term
// as src defines it. A term's local context depends on where it is looked
// up (a node's types in the context before its types, a property in the
// node's context), so src is part of the key: without it, one credential
// could leave another the wrong context.
type scopedKey struct {
	base, src *activeContext
	term      string
}

// scoped returns base with the local context of term (local, as src
// defines it) applied, or nil when the plain path cannot use it.
func (s *scopedContexts) scoped(base, src *activeContext, term string, local any, opts *ld.JsonLdOptions) *activeContext {
	k := scopedKey{base, src, term}
	s.mu.Lock()
	a, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return a
	}
	if m, isMap := local.(map[string]any); isMap {
		if _, has := m["@propagate"]; has {
			local = nil
		}
		if _, has := m["@import"]; has {
			local = nil
		}
	}
	if local != nil {
		if ctx, err := base.ctx.Parse(ld.CloneDocument(local)); err == nil {
			a = newActiveContext(ctx)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= 4*maxCachedContexts {
		s.m = map[scopedKey]*activeContext{}
	}
	s.m[k] = a
	return a
}

// plainWriter writes the statements of a plain document.
type plainWriter struct {
	p     *Processor
	opts  *ld.JsonLdOptions
	quads []*ld.Quad
	seen  map[string]bool
	blank int
}

// plainToRDF converts doc (without its @context, whose processed form is
// actx) to an RDF dataset, or reports false when doc is not in plain form.
func (p *Processor) plainToRDF(actx *activeContext, doc map[string]any) (*ld.RDFDataset, bool) {
	w := &plainWriter{p: p, opts: p.jsonLDOptions(), seen: map[string]bool{}}
	if _, ok := w.node(doc, actx); !ok {
		return nil, false
	}
	ds := ld.NewRDFDataset()
	ds.Graphs["@default"] = w.quads
	return ds, true
}

// node writes the statements of a node object whose parent's context is
// ctx, and returns the node.
func (w *plainWriter) node(obj map[string]any, ctx *activeContext) (ld.Node, bool) {
	if ctx == nil {
		return nil, false
	}
	defs := ctx.plainDefs()
	if ctx.plainUnusual {
		return nil, false
	}
	// The types, expanded with the context the node inherits; then the
	// node's own context: the types' scoped contexts, in the order of the
	// type terms.
	var typeTerms []string
	var idValue any
	hasID := false
	for key, v := range obj {
		if strings.HasPrefix(key, "@") {
			return nil, false
		}
		switch defs[key].iri {
		case "@type":
			switch t := v.(type) {
			case string:
				typeTerms = append(typeTerms, t)
			case []any:
				for _, x := range t {
					s, ok := x.(string)
					if !ok {
						return nil, false
					}
					typeTerms = append(typeTerms, s)
				}
			default:
				return nil, false
			}
		case "@id":
			if hasID {
				return nil, false
			}
			idValue, hasID = v, true
		}
	}
	slices.Sort(typeTerms)
	nodeCtx := ctx
	types := make([]string, 0, len(typeTerms))
	for _, t := range typeTerms {
		iri, ok := expandVocab(ctx, t)
		if !ok {
			return nil, false
		}
		types = append(types, iri)
		if d, ok := defs[t]; ok && d.scoped != nil {
			if nodeCtx = w.p.scoped.scoped(nodeCtx, ctx, t, d.scoped, w.opts); nodeCtx == nil {
				return nil, false
			}
		}
	}
	var subject ld.Node
	if hasID {
		id, ok := idValue.(string)
		if !ok || !absoluteIRI(ctx, id) {
			return nil, false
		}
		subject = ld.NewIRI(id)
	} else {
		subject = w.newBlank()
	}
	for _, t := range types {
		w.emit(subject, rdfType, ld.NewIRI(t))
	}
	nodeDefs := nodeCtx.plainDefs()
	if nodeCtx.plainUnusual {
		return nil, false
	}
	for key, v := range obj {
		d, defined := nodeDefs[key]
		if isKeywordAlias(d) != isKeywordAlias(defs[key]) {
			return nil, false // a scoped context changed what the key is
		}
		if isKeywordAlias(d) {
			continue
		}
		prop := d.iri
		switch {
		case !defined:
			var ok bool
			if prop, ok = expandUndefined(nodeCtx, key); !ok {
				return nil, false
			}
		case d.unusual || checkIRI(prop) != nil:
			return nil, false
		}
		values, isList := v.([]any)
		if !isList {
			values = []any{v}
		}
		for _, item := range values {
			object, ok := w.value(item, d, key, nodeCtx, ctx)
			if !ok {
				return nil, false
			}
			w.emit(subject, prop, object)
		}
	}
	return subject, true
}

// value writes one value of property key (defined by d in nodeCtx); child
// nodes inherit inherited, since a type's scoped context does not reach
// them.
func (w *plainWriter) value(item any, d plainDef, key string, nodeCtx, inherited *activeContext) (ld.Node, bool) {
	switch v := item.(type) {
	case string:
		switch d.typ {
		case "@id":
			// A property-scoped context applies to the value: it may make
			// a compact IRI of it. The general path decides.
			if d.scoped != nil || !absoluteIRI(nodeCtx, v) {
				return nil, false
			}
			return ld.NewIRI(v), true
		case "@vocab":
			termCtx := nodeCtx
			if d.scoped != nil {
				if termCtx = w.p.scoped.scoped(nodeCtx, nodeCtx, key, d.scoped, w.opts); termCtx == nil {
					return nil, false
				}
			}
			iri, ok := expandVocab(termCtx, v)
			if !ok {
				return nil, false
			}
			return ld.NewIRI(iri), true
		}
		lit, err := literal(map[string]any{"@value": v, "@type": nilIfEmpty(d.typ)})
		return lit, err == nil
	case float64, bool:
		if d.typ == "@id" || d.typ == "@vocab" {
			return nil, false
		}
		lit, err := literal(map[string]any{"@value": v, "@type": nilIfEmpty(d.typ)})
		return lit, err == nil
	case map[string]any:
		if d.scoped != nil {
			return nil, false
		}
		return w.node(v, inherited)
	}
	return nil, false
}

func isKeywordAlias(d plainDef) bool { return d.iri == "@id" || d.iri == "@type" }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// expandVocab expands a type or @vocab value: a term, an absolute IRI
// that is not a compact IRI, or a name relative to the vocabulary.
func expandVocab(ctx *activeContext, s string) (string, bool) {
	if d, ok := ctx.plainDefs()[s]; ok {
		if d.unusual || checkIRI(d.iri) != nil {
			return "", false
		}
		return d.iri, true
	}
	return expandUndefined(ctx, s)
}

// expandUndefined expands a name no term defines: an absolute IRI whose
// scheme is no term (else it would be a compact IRI), or a name relative
// to the vocabulary.
func expandUndefined(ctx *activeContext, s string) (string, bool) {
	if strings.Contains(s, ":") {
		return s, absoluteIRI(ctx, s)
	}
	if ctx.vocab == "" || s == "" {
		return "", false
	}
	iri := ctx.vocab + s
	return iri, checkIRI(iri) == nil
}

// absoluteIRI reports whether s is an absolute IRI that JSON-LD leaves as
// it is: not a blank node, not a compact IRI of a prefix the context
// defines.
func absoluteIRI(ctx *activeContext, s string) bool {
	if checkIRI(s) != nil {
		return false
	}
	scheme, rest, _ := strings.Cut(s, ":")
	if strings.HasPrefix(rest, "//") {
		return true
	}
	_, isTerm := ctx.plainDefs()[scheme]
	return !isTerm
}

func (w *plainWriter) newBlank() ld.Node {
	n := ld.NewBlankNode("_:p" + strconv.Itoa(w.blank))
	w.blank++
	return n
}

// emit adds a statement once: RDF datasets are sets.
func (w *plainWriter) emit(s ld.Node, p string, o ld.Node) {
	key := s.GetValue() + "\x00" + p + "\x00" + nodeKey(o)
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.quads = append(w.quads, ld.NewQuad(s, ld.NewIRI(p), o, "@default"))
}

func nodeKey(n ld.Node) string {
	if l, ok := n.(*ld.Literal); ok {
		return "L" + l.Value + "\x00" + l.Datatype + "\x00" + l.Language
	}
	if ld.IsBlankNode(n) {
		return "B" + n.GetValue()
	}
	return "I" + n.GetValue()
}
