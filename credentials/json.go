package credentials

import json "github.com/goccy/go-json"

// The token formats decode JSON with goccy/go-json, which does what
// encoding/json does, several times faster: a verifier spends most of its
// time outside the signature check decoding JSON.

// unmarshalJSON decodes data into v.
func unmarshalJSON(data []byte, v any) error { return json.Unmarshal(data, v) }

// rawJSON is a JSON value kept as its bytes, like json.RawMessage, but
// without copying them: it refers to the decoder's input, so it must not
// outlive the decoding it is part of.
type rawJSON []byte

// UnmarshalJSON keeps data.
func (r *rawJSON) UnmarshalJSON(data []byte) error {
	*r = data
	return nil
}

// MarshalJSON writes the value as it came.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}
