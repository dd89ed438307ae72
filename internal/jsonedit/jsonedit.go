// Package jsonedit is for tests that tamper with credentials: it decodes a
// JSON object, lets the test change it, and encodes it again.
package jsonedit

import (
	"encoding/json"
	"testing"
)

// Edit decodes raw as a JSON object, applies edit to it and encodes the
// result, failing the test on any error.
func Edit(t testing.TB, raw []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Obj returns the member key of m as an object.
func Obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
