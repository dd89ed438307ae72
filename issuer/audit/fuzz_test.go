package audit_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"testing"

	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/issuer/audit"
)

// The seed corpora of FuzzDecodeEntry and FuzzParseAnchors live in
// testdata/fuzz/. Refresh them with
//
//	go test ./issuer/audit -run TestAuditFuzzCorpus -update-audit-fuzz
var updateFuzz = flag.Bool("update-audit-fuzz", false, "rewrite the seed corpora of the audit fuzz targets")

// entrySeeds are records: every sample entry, the golden one, and near
// misses.
func entrySeeds(t *testing.T) map[string][]byte {
	seeds := map[string][]byte{}
	_, store, _ := newTestLog(t)
	for _, r := range store.records {
		seeds[fmt.Sprintf("sample-%02d", r.seq)] = r.data
	}
	golden, err := goldenEntry().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	seeds["golden"] = golden
	seeds["golden-cut"] = golden[:len(golden)/2]
	seeds["golden-extra"] = append(bytes.Clone(golden), 0)
	seeds["version-2"] = append([]byte{2}, golden[1:]...)
	seeds["empty"] = []byte{}
	seeds["version-only"] = []byte{1}
	return seeds
}

// anchorSeeds are anchor files: one anchor, several, an empty log's, and
// near misses.
func anchorSeeds(t *testing.T) map[string][]byte {
	_, _, anchors := newTestLog(t)
	var all []byte
	for _, a := range anchors {
		line, _ := json.Marshal(a)
		all = append(append(all, line...), '\n')
	}
	first, _ := json.Marshal(anchors[0])
	empty, _ := json.Marshal(audit.Anchor{})
	return map[string][]byte{
		"one":         first,
		"two":         all,
		"empty-log":   empty,
		"no-time":     []byte(`{"type":"tally-audit-anchor","v":1,"seq":3,"hash":"9f2c3a0b6e1d4f5a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"}`),
		"unknown":     []byte(`{"type":"tally-audit-anchor","v":1,"seq":3,"hash":"00","x":1}`),
		"not-json":    []byte("seq=3"),
		"blank-lines": []byte("\n\n"),
	}
}

func TestAuditFuzzCorpus(t *testing.T) {
	for name, seeds := range map[string]map[string][]byte{
		"FuzzDecodeEntry":  entrySeeds(t),
		"FuzzParseAnchors": anchorSeeds(t),
	} {
		corpus := map[string]fuzzcorpus.Seed{}
		for key, raw := range seeds {
			corpus[key] = fuzzcorpus.Seed{raw}
		}
		fuzzcorpus.Keep(t, name, *updateFuzz, "go test ./issuer/audit -run TestAuditFuzzCorpus -update-audit-fuzz", corpus)
	}
}

// FuzzDecodeEntry checks that DecodeEntry never panics, and that what it
// accepts is canonical: encoding the entry again gives the same bytes, so
// one entry has one record and one hash.
func FuzzDecodeEntry(f *testing.F) {
	f.Fuzz(func(t *testing.T, record []byte) {
		e, err := audit.DecodeEntry(record)
		if err != nil {
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
		if !bytes.Equal(again, record) {
			t.Fatalf("not canonical:\n%x\nencodes again as\n%x", record, again)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatal(err)
		}
		_ = e.ComputeHash()
	})
}

// FuzzParseAnchors checks that ParseAnchors never panics, and that the
// anchors it accepts are written back as anchors it reads the same.
func FuzzParseAnchors(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		anchors, err := audit.ParseAnchors(data)
		if err != nil {
			return
		}
		var out []byte
		for _, a := range anchors {
			line, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(out, line...), '\n')
		}
		back, err := audit.ParseAnchors(out)
		if err != nil {
			t.Fatalf("written back, %s does not parse: %v", out, err)
		}
		for i := range anchors {
			if back[i].Seq != anchors[i].Seq || back[i].Hash != anchors[i].Hash || !back[i].Time.Equal(anchors[i].Time) {
				t.Fatalf("anchor %d came back as %+v, not %+v", i, back[i], anchors[i])
			}
		}
	})
}
