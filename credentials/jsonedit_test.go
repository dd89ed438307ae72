package credentials_test

import (
	"testing"

	"github.com/tally-id/tally/internal/jsonedit"
)

func editJSON(t testing.TB, raw []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	return jsonedit.Edit(t, raw, edit)
}

func obj(m map[string]any, key string) map[string]any { return jsonedit.Obj(m, key) }
