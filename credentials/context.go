package credentials

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

// ContextIRI is the base IRI of tally's vocabulary.
const ContextIRI = "https://tally-id.github.io/ns/v1#"

//go:embed contexts/tally-v1.jsonld
var tallyContextJSON []byte

// TallyContext returns tally's JSON-LD context object: every term of the
// credential types and claims, protected, so that a JSON-LD processor needs
// no network fetch to expand a tally credential.
func TallyContext() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(tallyContextJSON, &m); err != nil {
		panic("credentials: embedded context is not JSON: " + err.Error())
	}
	return m
}

// DefaultContext returns the @context of a tally credential: the VCDM 2.0
// base context URL, then tally's context inline.
func DefaultContext() []any {
	return []any{BaseContext, TallyContext()}
}

// TallyContextJSON returns tally's context object in compact JSON.
func TallyContextJSON() []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, tallyContextJSON); err != nil {
		panic("credentials: embedded context is not JSON: " + err.Error())
	}
	return b.Bytes()
}
