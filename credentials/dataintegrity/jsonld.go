package dataintegrity

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// Limits on the input, checked before any JSON-LD processing.
const (
	// MaxSize is the largest Data Integrity credential tally reads, in
	// bytes; a tally credential is about 2 KiB.
	MaxSize = 64 << 10
	// maxJSONDepth bounds how deep objects and arrays nest.
	maxJSONDepth = 32
	// maxJSONObjects bounds the number of objects, each a potential blank
	// node for RDF canonicalization.
	maxJSONObjects = 256
	// maxJSONValues bounds the number of values of any kind.
	maxJSONValues = 4096
	// maxContexts bounds the @context members: each is processed anew
	// wherever it stands below the top level.
	maxContexts = 8
)

// checkContexts checks the top-level @context before JSON-LD processing, so
// that an unknown context URL gets a plain error: every URL must be one the
// loader serves; inline context objects are allowed.
func checkContexts(doc map[string]any, l *loader) error {
	var list []any
	switch c := doc["@context"].(type) {
	case nil:
		return errors.New("@context is missing")
	case []any:
		list = c
	default:
		list = []any{c}
	}
	terms := 0
	for _, item := range list {
		switch c := item.(type) {
		case string:
			if _, ok := l.docs[c]; !ok {
				return fmt.Errorf("%w: %s (tally never fetches contexts)", ErrContextNotAvailable, c)
			}
		case map[string]any:
			terms += countTerms(c)
		default:
			return errors.New("@context entries must be URLs or objects")
		}
	}
	if terms > maxInlineTerms {
		return fmt.Errorf("%w (its inline contexts define %d terms, at most %d)", ErrTooComplex, terms, maxInlineTerms)
	}
	return nil
}

// maxInlineTerms bounds the term definitions of a credential's inline
// contexts, scoped ones included. A new inline context cannot come from
// the cache, and processing one costs in proportion to its terms (56 KB of
// them took 80 ms); tally's own has 38, the largest published credential
// contexts a few hundred.
const maxInlineTerms = 512

// countTerms counts the members of a context object and of the contexts
// scoped in it.
func countTerms(ctx map[string]any) int {
	n := len(ctx)
	for _, v := range ctx {
		if def, ok := v.(map[string]any); ok {
			if scoped, ok := def["@context"].(map[string]any); ok {
				n += countTerms(scoped)
			}
		}
	}
	return n
}

// findUndefinedTerm names the first member of doc that JSON-LD expansion
// drops, as a dotted path, or returns "". It expands doc without safe mode
// and compacts it back with doc's own context: a dropped member is missing
// from the result. It runs only to explain an error.
func findUndefinedTerm(doc map[string]any, l *loader) string {
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = l
	proc := ld.NewJsonLdProcessor()
	expanded, err := proc.Expand(ld.CloneDocument(doc), opts)
	if err != nil {
		return ""
	}
	compacted, err := proc.Compact(expanded, map[string]any{"@context": ld.CloneDocument(doc["@context"])}, opts)
	if err != nil {
		return ""
	}
	return missingMember(doc, compacted, "")
}

func missingMember(orig, compacted any, path string) string {
	switch o := orig.(type) {
	case map[string]any:
		c, ok := compacted.(map[string]any)
		if !ok {
			return ""
		}
		names := make([]string, 0, len(o))
		for k := range o {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if k == "@context" {
				continue
			}
			cv, ok := c[k]
			if !ok {
				return path + k
			}
			if found := missingMember(o[k], cv, path+k+"."); found != "" {
				return found
			}
		}
	case []any:
		c, ok := compacted.([]any)
		if !ok {
			if len(o) == 1 {
				return missingMember(o[0], compacted, path)
			}
			return ""
		}
		for i := range min(len(o), len(c)) {
			if found := missingMember(o[i], c[i], path); found != "" {
				return found
			}
		}
	}
	return ""
}

// jsonLDProblem turns a json-gold error into plain words: its code, and
// for a protected term the term's name, never the details json-gold adds,
// which can quote claim values.
func jsonLDProblem(err error) string {
	var le *ld.JsonLdError
	if errors.As(err, &le) {
		switch le.Code {
		case ld.InvalidProperty:
			return "a member name is not defined by any @context (undefined JSON-LD term)"
		case ld.ProtectedTermRedefinition:
			if term, ok := le.Details.(string); ok {
				return "a context redefines the protected term " + term
			}
			return "a context redefines a protected term"
		}
		return string(le.Code)
	}
	return "JSON-LD processing failed"
}

func checkExpanded(v any, path string) error {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if err := checkExpanded(item, path); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, val := range x {
			switch k {
			case "@id":
				s, _ := val.(string)
				if err := checkIRI(s); err != nil {
					// The id itself stays out of the message: it may be a
					// holder's identifier.
					return fmt.Errorf("JSON-LD: an id%s %v", at(path), err)
				}
			case "@type":
				if _, isValue := x["@value"]; isValue {
					if s, _ := val.(string); s == "@json" {
						continue
					}
				}
				types, ok := val.([]any)
				if !ok {
					types = []any{val}
				}
				for _, t := range types {
					s, _ := t.(string)
					if err := checkIRI(s); err != nil {
						return fmt.Errorf("JSON-LD: type %q%s is not defined by any @context", s, at(path))
					}
				}
			case "@value", "@language", "@direction", "@index":
			default:
				if strings.HasPrefix(k, "_:") {
					return fmt.Errorf("JSON-LD: blank node property %q%s", k, at(path))
				}
				if err := checkExpanded(val, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return " (under " + path + ")"
}

// checkIRI accepts an absolute IRI: a scheme, then ":". Blank node
// identifiers are refused.
func checkIRI(s string) error {
	if strings.HasPrefix(s, "_:") {
		return errors.New("is a blank node identifier, which tally does not accept")
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return errors.New("is not an absolute IRI")
	}
	for j, c := range s[:i] {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return errors.New("is not an absolute IRI")
		}
	}
	if strings.ContainsAny(s, " <>\"{}|\\^`\n\r\t") {
		return errors.New("contains characters an IRI cannot hold")
	}
	// JSON-LD processors (json-gold among them) take what a URL parser
	// refuses for a relative reference, and drop it.
	if u, err := url.Parse(s); err != nil || !u.IsAbs() {
		return errors.New("is not an absolute IRI")
	}
	return nil
}
