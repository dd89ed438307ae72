package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	ldcontext "github.com/trustbloc/did-go/doc/ld/context"
	ldembed "github.com/trustbloc/did-go/doc/ld/context/embed"

	"github.com/piprate/json-gold/ld"
)

// MaxDataIntegritySize is the largest Data Integrity credential tally reads,
// in bytes. JSON-LD canonicalization costs grow quickly with the input; a
// tally credential is about 2 KiB.
const MaxDataIntegritySize = 64 << 10

// Limits on the shape of a JSON-LD input, checked before any JSON-LD
// processing: how deep objects and arrays nest, and how many objects (each
// a potential blank node for RDF canonicalization) there are.
const (
	maxJSONDepth   = 32
	maxJSONObjects = 256
)

// offlineContexts are the URLs of the JSON-LD contexts tally serves from the
// program itself. Only the VCDM 2.0 base context is needed: it defines the
// credential terms and DataIntegrityProof with its proof terms, and tally's
// own terms travel inline in every credential (see TallyContext).
var offlineContexts = []string{BaseContext}

// ErrContextNotAvailable is returned (wrapped) when a credential names a
// JSON-LD context that is not built into tally. tally never fetches a
// context from the network.
var ErrContextNotAvailable = errors.New("JSON-LD context is not built into tally")

// contextLoader is a json-gold document loader that serves a fixed set of
// JSON-LD contexts from memory and refuses every other URL. It never does
// I/O. It is immutable once made, so it may be shared.
type contextLoader struct {
	docs map[string]any
}

// JSONLDLoader returns the JSON-LD document loader tally uses for Data
// Integrity: it serves the VCDM 2.0 base context
// (https://www.w3.org/ns/credentials/v2) from the copy embedded in
// github.com/trustbloc/did-go (doc/ld/context/embed), and refuses any other
// URL with an error wrapping ErrContextNotAvailable. Pass it to vc-go
// (verifiable.WithJSONLDDocumentLoader) to process tally credentials offline.
func JSONLDLoader() ld.DocumentLoader {
	l, err := newContextLoader(nil)
	if err != nil {
		// The embedded contexts are part of a pinned dependency; tests
		// load them, so this cannot happen in a built program.
		panic("credentials: embedded JSON-LD context: " + err.Error())
	}
	return l
}

// newContextLoader makes a loader for the built-in contexts plus extra ones
// (used by tests for the W3C examples context).
func newContextLoader(extra []ldcontext.Document) (*contextLoader, error) {
	l := &contextLoader{docs: map[string]any{}}
	for _, u := range offlineContexts {
		content, ok := embeddedContext(u)
		if !ok {
			return nil, fmt.Errorf("did-go embeds no copy of %s", u)
		}
		if err := l.add(u, content); err != nil {
			return nil, err
		}
	}
	for _, d := range extra {
		if err := l.add(d.URL, d.Content); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func embeddedContext(u string) ([]byte, bool) {
	for _, d := range ldembed.Contexts {
		if d.URL == u {
			return d.Content, true
		}
	}
	return nil, false
}

func (l *contextLoader) add(u string, content []byte) error {
	doc, err := ld.DocumentFromReader(bytes.NewReader(content))
	if err != nil {
		return fmt.Errorf("JSON-LD context %s: %w", u, err)
	}
	l.docs[u] = doc
	return nil
}

// LoadDocument implements ld.DocumentLoader.
func (l *contextLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	doc, ok := l.docs[u]
	if !ok {
		return nil, fmt.Errorf("%w: %s (tally never fetches contexts; tally's own terms are inline)", ErrContextNotAvailable, u)
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: doc}, nil
}

// checkJSONShape reads raw as JSON and checks what JSON-LD processing would
// otherwise let through or choke on: it must be one object, with no
// duplicate member names at any level (two parsers could take different
// ones), nesting at most maxJSONDepth deep and at most maxJSONObjects
// objects.
func checkJSONShape(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	objects := 1
	if err := scanObject(dec, 1, &objects); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// scanObject reads the members of an object whose '{' was just read.
func scanObject(dec *json.Decoder, depth int, objects *int) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("not JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("not JSON: object member name is not a string")
		}
		if seen[name] {
			return fmt.Errorf("member %q appears twice in one object", name)
		}
		seen[name] = true
		if err := scanValue(dec, depth, objects); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("not JSON: %v", err)
	}
	return nil
}

func scanValue(dec *json.Decoder, depth int, objects *int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth+1 > maxJSONDepth {
		return fmt.Errorf("JSON nests deeper than %d levels", maxJSONDepth)
	}
	switch d {
	case '{':
		*objects++
		if *objects > maxJSONObjects {
			return fmt.Errorf("more than %d JSON objects", maxJSONObjects)
		}
		return scanObject(dec, depth+1, objects)
	case '[':
		for dec.More() {
			if err := scanValue(dec, depth+1, objects); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return fmt.Errorf("not JSON: %v", err)
		}
	}
	return nil
}

// checkContexts checks the top-level @context before JSON-LD processing, so
// that an unknown context URL gets a plain error: every URL must be one the
// loader serves; inline context objects are allowed.
func checkContexts(doc map[string]any, l *contextLoader) error {
	var list []any
	switch c := doc["@context"].(type) {
	case nil:
		return errors.New("@context is missing")
	case []any:
		list = c
	default:
		list = []any{c}
	}
	for _, item := range list {
		switch c := item.(type) {
		case string:
			if _, ok := l.docs[c]; !ok {
				return fmt.Errorf("%w: %s (tally never fetches contexts)", ErrContextNotAvailable, c)
			}
		case map[string]any:
		default:
			return errors.New("@context entries must be URLs or objects")
		}
	}
	return nil
}

// checkStrictJSONLD expands doc with JSON-LD 1.1 in safe mode and checks
// that nothing in it would be silently lost on the way to RDF, so that
// everything a reader sees in the JSON is covered by the signature:
//
//   - every member name must be a term some context defines, an absolute
//     IRI or a keyword (safe mode raises an error otherwise);
//   - every type and every node id must be an absolute IRI; relative
//     references (a type no context defines, an id like "abc") would be
//     dropped from the RDF dataset;
//   - blank node identifiers ("_:b0") are refused: tally credentials never
//     need them, and with them an input can build the symmetric graphs that
//     make RDF canonicalization slow.
//
// doc is not modified.
func checkStrictJSONLD(doc map[string]any, l *contextLoader) error {
	if err := checkContexts(doc, l); err != nil {
		return err
	}
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = l
	opts.SafeMode = true
	expanded, err := ld.NewJsonLdProcessor().Expand(ld.CloneDocument(doc), opts)
	if err != nil {
		var le *ld.JsonLdError
		if errors.As(err, &le) && le.Code == ld.LoadingRemoteContextFailed {
			if cause, ok := le.Details.(error); ok && errors.Is(cause, ErrContextNotAvailable) {
				if inner := errors.Unwrap(cause); inner != nil {
					return inner // the loader's own words
				}
				return cause
			}
		}
		if errors.As(err, &le) && le.Code == ld.InvalidProperty {
			if name := findUndefinedTerm(doc, l); name != "" {
				return fmt.Errorf("JSON-LD: %s is not defined by any @context (undefined term)", name)
			}
		}
		return fmt.Errorf("JSON-LD: %s", jsonLDProblem(err))
	}
	return checkExpanded(expanded, "")
}

// findUndefinedTerm names the first member of doc that JSON-LD expansion
// drops, as a dotted path, or returns "". It expands doc without safe mode
// and compacts it back with doc's own context: a dropped member is missing
// from the result. It runs only to explain an error.
func findUndefinedTerm(doc map[string]any, l *contextLoader) string {
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

// jsonLDProblem turns a json-gold error into plain words. json-gold's
// details often hold the offending value, which may be a claim's: only
// the error code is kept.
func jsonLDProblem(err error) string {
	var le *ld.JsonLdError
	if errors.As(err, &le) {
		switch le.Code {
		case ld.InvalidProperty:
			return "a member name is not defined by any @context (undefined JSON-LD term)"
		case ld.ProtectedTermRedefinition:
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
					// The id is not quoted: a subject's id is the holder's DID.
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
	return nil
}
