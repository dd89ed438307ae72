package dataintegrity

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/piprate/json-gold/ld"
)

//go:embed contexts/*.jsonld
var contextFiles embed.FS

// The URLs of the contexts built into tally, and their files.
var bundledContexts = map[string]string{
	"https://www.w3.org/ns/credentials/v2":          "credentials-v2.jsonld",
	"https://www.w3.org/2018/credentials/v1":        "credentials-v1.jsonld",
	"https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
	"https://w3id.org/security/data-integrity/v2":   "data-integrity-v2.jsonld",
	"https://w3id.org/security/multikey/v1":         "multikey-v1.jsonld",
	"https://www.w3.org/ns/did/v1":                  "did-v1.jsonld",
	"https://w3id.org/vc/status-list/2021/v1":       "status-list-2021-v1.jsonld",
}

// BundledContexts returns the URLs of the JSON-LD contexts a credential may
// name without carrying them inline.
func BundledContexts() []string {
	urls := make([]string, 0, len(bundledContexts))
	for u := range bundledContexts {
		urls = append(urls, u)
	}
	return urls
}

// ErrContextNotAvailable is returned (wrapped) when a credential names a
// JSON-LD context by a URL that is not built into tally. tally never
// fetches a context from the network.
var ErrContextNotAvailable = errors.New("JSON-LD context is not built into tally")

// loader is a json-gold document loader that serves the bundled contexts
// (and any extra ones a Processor is given) from memory, and refuses every
// other URL. It never does I/O and is immutable once made.
type loader struct {
	docs map[string]any
}

func newLoader(extra map[string][]byte) (*loader, error) {
	l := &loader{docs: map[string]any{}}
	for u, name := range bundledContexts {
		content, err := contextFiles.ReadFile("contexts/" + name)
		if err != nil {
			return nil, err
		}
		if err := l.add(u, content); err != nil {
			return nil, err
		}
	}
	for u, content := range extra {
		if err := l.add(u, content); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *loader) add(u string, content []byte) error {
	doc, err := ld.DocumentFromReader(bytes.NewReader(content))
	if err != nil {
		return fmt.Errorf("JSON-LD context %s: %w", u, err)
	}
	l.docs[u] = doc
	return nil
}

// LoadDocument implements ld.DocumentLoader. It hands out a copy, since
// json-gold may change what it is given.
func (l *loader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	doc, ok := l.docs[u]
	if !ok {
		return nil, fmt.Errorf("%w: %s (tally never fetches contexts; carry it inline)", ErrContextNotAvailable, u)
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: ld.CloneDocument(doc)}, nil
}

// maxCachedContexts bounds the processed-context cache: credentials from
// many issuers with as many distinct contexts do not grow it without end.
const maxCachedContexts = 64

// contextCache holds JSON-LD contexts already processed, by the JSON text of
// the @context value that made them. Processing the VCDM 2.0 context costs
// more than everything else in a verification; it never changes.
type contextCache struct {
	mu  sync.Mutex
	ctx map[string]*activeContext
}

// activeContext is a processed JSON-LD context, with what the claims view
// needs to name properties: each IRI's term, the vocabulary IRI, and the
// terms whose values are sets or lists.
type activeContext struct {
	ctx     *ld.Context
	terms   map[string]string // IRI to its shortest term
	vocab   string
	sets    map[string]bool
	defined map[string]bool // every term

	plainOnce    sync.Once
	plain        map[string]plainDef
	plainUnusual bool // the context sets what the plain path does not handle
}

func newActiveContext(ctx *ld.Context) *activeContext {
	a := &activeContext{ctx: ctx, terms: map[string]string{}, sets: map[string]bool{}, defined: map[string]bool{}}
	m := ctx.AsMap()
	if values, ok := m["values"].(map[string]any); ok {
		a.vocab, _ = values["@vocab"].(string)
	}
	defs, _ := m["termDefinitions"].(map[string]any)
	for term, d := range defs {
		a.defined[term] = true
		def, ok := d.(map[string]any)
		if !ok || strings.Contains(term, ":") || def["@reverse"] == true {
			continue
		}
		iri, _ := def["@id"].(string)
		if iri == "" || strings.HasPrefix(iri, "@") {
			continue
		}
		if old, ok := a.terms[iri]; !ok || len(term) < len(old) || len(term) == len(old) && term < old {
			a.terms[iri] = term
		}
		switch c := def["@container"].(type) {
		case string:
			a.sets[term] = c == "@set" || c == "@list"
		case []any:
			for _, x := range c {
				a.sets[term] = a.sets[term] || x == "@set" || x == "@list"
			}
		}
	}
	return a
}

// name is the term for iri: the context's term, else the IRI relative to
// the vocabulary, else the IRI.
func (a *activeContext) name(iri string) string {
	if t, ok := a.terms[iri]; ok {
		return t
	}
	if a.vocab != "" {
		if rest, ok := strings.CutPrefix(iri, a.vocab); ok && rest != "" && !strings.ContainsAny(rest, ":/#") {
			if !a.defined[rest] {
				return rest
			}
		}
	}
	return iri
}

// get returns the active context that the @context value (raw is its
// JSON text, as encoding/json writes it: object keys sorted) gives when
// processed from an empty context. Context processing takes the entries of
// a list one after the other, so a list is processed on top of its cached
// prefix: a credential that differs from others only in its last, inline
// context costs the processing of that one.
func (c *contextCache) get(raw []byte, value any, opts *ld.JsonLdOptions) (*activeContext, error) {
	key := string(raw)
	c.mu.Lock()
	ctx, ok := c.ctx[key]
	c.mu.Unlock()
	if ok {
		return ctx, nil
	}
	base := ld.NewContext(nil, opts)
	last := value
	if list, isList := value.([]any); isList && len(list) > 1 {
		prefix := list[:len(list)-1]
		prefixKey, err := contextKey(prefix)
		if err != nil {
			return nil, err
		}
		p, err := c.get(prefixKey, prefix, opts)
		if err != nil {
			return nil, err
		}
		base, last = p.ctx, list[len(list)-1]
	}
	parsed, err := base.Parse(ld.CloneDocument(last))
	if err != nil {
		return nil, err
	}
	ctx = newActiveContext(parsed)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx = map[string]*activeContext{}
	}
	for k := range c.ctx {
		if len(c.ctx) < maxCachedContexts {
			break
		}
		delete(c.ctx, k) // map order is random: a random entry goes
	}
	c.ctx[key] = ctx
	return ctx, nil
}

// namingContext is the context a credential's view names IRIs with (its
// types, its claims' properties, its status entries' types): the context
// documents it names by URL — built in, or given in Options.Contexts, which
// the verifier trusts — processed in order, without its inline contexts.
//
// The signature covers the statements, not the @context that yields them:
// anyone can rewrite an inline context and the members with it, keeping
// the statements. Named by the credential's own context, a badge's type IRI
// could be shown as ShelterCredential and pass a trust list that allows
// only that, or two claims could swap names. An IRI that no trusted
// context names is written whole, as the statements hold it.
func (p *Processor) namingContext(value any) (*activeContext, error) {
	list, ok := value.([]any)
	if !ok {
		list = []any{value}
	}
	urls := make([]any, 0, len(list))
	for _, c := range list {
		if s, ok := c.(string); ok {
			urls = append(urls, s)
		}
	}
	key, err := contextKey(urls)
	if err != nil {
		return nil, err
	}
	return p.cache.get(key, urls, p.jsonLDOptions())
}

// contextKey is the cache key of an @context value: its JSON text.
func contextKey(value any) ([]byte, error) {
	return json.Marshal(value)
}
