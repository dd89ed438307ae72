package credentials

import (
	_ "embed"
	"encoding/json"
	"maps"
)

// ContextIRI is the base IRI of tally's vocabulary.
const ContextIRI = "https://tally-id.github.io/ns/v1#"

//go:embed contexts/tally-v1.jsonld
var tallyContextJSON []byte

// The tally context decoded once, when the package loads; the same in its
// canonical JSON (keys sorted, compact); and the default @context as
// json.Marshal writes it. All are read-only: the template is only ever
// copied, so that parsing a credential that carries the default context
// need not decode it again.
var (
	tallyContextTemplate = mustDecodeContext(tallyContextJSON)
	tallyInline          = InlineContext(mustMarshal(tallyContextTemplate))
	defaultContextJSON   = mustMarshal([]any{BaseContext, tallyInline})
)

// InlineContext is a JSON-LD context object held as its JSON text. It
// marshals as that object. Credentials that carry tally's default context
// share one InlineContext instead of each holding a copy of the decoded
// object (which cost a verification a tenth of its time): never modify its
// bytes.
type InlineContext []byte

// MarshalJSON implements json.Marshaler: the object itself.
func (c InlineContext) MarshalJSON() ([]byte, error) { return c, nil }

func mustDecodeContext(data []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic("credentials: embedded context is not JSON: " + err.Error())
	}
	return m
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("credentials: " + err.Error())
	}
	return b
}

// TallyContext returns tally's JSON-LD context object: every term of the
// credential types and claims, protected, so that a JSON-LD processor needs
// no network fetch to expand a tally credential. Each call returns a new
// copy.
func TallyContext() map[string]any {
	return copyJSONValue(tallyContextTemplate).(map[string]any)
}

// DefaultContext returns the @context of a tally credential: the VCDM 2.0
// base context URL, then tally's context inline, as an InlineContext shared
// by every caller (TallyContext gives a copy to change).
func DefaultContext() []any {
	return []any{BaseContext, tallyInline}
}

// copyJSONValue deep-copies a value decoded from JSON.
func copyJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := maps.Clone(v) // copies the table whole: faster than inserting
		for k, x := range v {
			switch x.(type) {
			case map[string]any, []any:
				m[k] = copyJSONValue(x)
			}
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = copyJSONValue(x)
		}
		return l
	}
	return v
}
