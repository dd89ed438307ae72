package http

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tally-id/tally/verifier/servicepoint"
)

// FuzzDeskClaims: the claims table of a foreign credential is bounded
// whatever the claims hold, and its values stay valid text.
func FuzzDeskClaims(f *testing.F) {
	f.Add(`{"fullName":"Signed Test Person","id":"ID-SIGNED-001"}`)
	f.Add(`[{"a":{"b":[1,2,{"c":null}]}},"x"]`)
	f.Add(`{"photo":"` + strings.Repeat("é", 400) + `"}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, claims string) {
		v := &deskView{Answer: &servicepoint.Answer{Claims: json.RawMessage(claims)}}
		rows := v.Claims()
		if len(rows) > maxClaimRows {
			t.Fatalf("%d rows", len(rows))
		}
		for _, r := range rows {
			if len(r.Value) > maxClaimValue+len("…") {
				t.Fatalf("a value of %d bytes", len(r.Value))
			}
			if utf8.ValidString(claims) && !utf8.ValidString(r.Value) {
				t.Fatalf("value %q is not valid text", r.Value)
			}
		}
	})
}
