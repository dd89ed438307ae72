package audit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer/audit"
)

func TestAnchorJSONRoundTrip(t *testing.T) {
	_, _, anchors := newTestLog(t)
	var file []byte
	for _, a := range append([]audit.Anchor{{}}, anchors...) {
		line, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		file = append(append(file, line...), '\n')
	}
	file = append(file, "\n  \n"...)
	got, err := audit.ParseAnchors(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != (audit.Anchor{}) {
		t.Fatalf("parsed %+v", got)
	}
	for i, a := range anchors {
		if g := got[i+1]; g.Seq != a.Seq || g.Hash != a.Hash || !g.Time.Equal(a.Time) {
			t.Errorf("anchor %d came back as %+v, not %+v", i, g, a)
		}
	}
	if !strings.HasPrefix(string(file), `{"type":"tally-audit-anchor","v":1,"seq":0,"hash":"0000`) {
		t.Errorf("an empty log's anchor: %s", file)
	}
}

func TestParseAnchorsRefuses(t *testing.T) {
	const hash = "9f2c3a0b6e1d4f5a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
	const zero = "0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct{ name, file, says string }{
		{"empty", "", "no anchor"},
		{"blank", "\n \n", "no anchor"},
		{"not JSON", "seq=10 hash=" + hash, "line 1: not an anchor"},
		{"another type", `{"type":"trust-list","v":1,"seq":1,"hash":"` + hash + `"}`, "type"},
		{"no type", `{"v":1,"seq":1,"hash":"` + hash + `"}`, "type"},
		{"version 2", `{"type":"tally-audit-anchor","v":2,"seq":1,"hash":"` + hash + `"}`, "version 2"},
		{"unknown member", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + hash + `","org":"x"}`, "unknown field"},
		{"short hash", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"9f2c"}`, "hexadecimal"},
		{"upper-case hash", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + strings.ToUpper(hash) + `"}`, "lower-case"},
		{"negative seq", `{"type":"tally-audit-anchor","v":1,"seq":-1,"hash":"` + hash + `"}`, "not an anchor"},
		{"entry 0 with a hash", `{"type":"tally-audit-anchor","v":1,"seq":0,"hash":"` + hash + `"}`, "entry 0"},
		{"entry 1 with a zero hash", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + zero + `"}`, "entry 0"},
		{"bad time", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + hash + `","time":"yesterday"}`, "time"},
		{"two on a line", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + hash + `"} {}`, "follows"},
		{"a brace after it", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + hash + `"}}`, "follows"},
		{"second line bad", `{"type":"tally-audit-anchor","v":1,"seq":1,"hash":"` + hash + "\"}\n{}", "line 2"},
		{"too large", strings.Repeat(" ", 8<<20+1), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := audit.ParseAnchors([]byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("ParseAnchors: %v, want an error saying %q", err, tt.says)
			}
		})
	}
}
