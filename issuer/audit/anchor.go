package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Anchor is the head of the log at some moment: the last entry's sequence
// number, hash and time. Since each hash covers every entry before it, an
// anchor kept away from the log (another machine, another organisation,
// paper) lets Verify prove that the log still holds that entry unchanged:
// that nothing up to it was rewritten and that the tail was not cut off.
type Anchor struct {
	Seq  uint64
	Hash Hash
	// Time is the anchored entry's time (zero for an empty log's anchor).
	Time time.Time
}

func anchorOf(e Entry) Anchor { return Anchor{Seq: e.Seq, Hash: e.Hash, Time: e.Time} }

// anchorType marks an anchor's JSON, so that no other JSON line is taken
// for one.
const anchorType = "tally-audit-anchor"

// anchorJSON is an anchor as `tally audit export --anchor` prints it.
type anchorJSON struct {
	Type string `json:"type"`
	V    int    `json:"v"`
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
	Time string `json:"time,omitempty"`
}

// MarshalJSON writes the anchor as one JSON object:
// {"type":"tally-audit-anchor","v":1,"seq":…,"hash":"…","time":"…"}.
func (a Anchor) MarshalJSON() ([]byte, error) {
	j := anchorJSON{Type: anchorType, V: EncodingVersion, Seq: a.Seq, Hash: a.Hash}
	if !a.Time.IsZero() {
		j.Time = a.Time.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(j)
}

// maxAnchorFile bounds what ParseAnchors reads: a year of hourly anchors
// is under 1.5 MB.
const maxAnchorFile = 8 << 20

// ParseAnchors reads anchors written by MarshalJSON, one per line (a file
// that `tally audit export --anchor >> FILE` grows); blank lines are
// skipped. It is strict: unknown members, a wrong type or version, or an
// anchor of entry 0 with a hash are refused.
func ParseAnchors(data []byte) ([]Anchor, error) {
	if len(data) > maxAnchorFile {
		return nil, fmt.Errorf("an anchor file is at most %d bytes", maxAnchorFile)
	}
	var anchors []Anchor
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		a, err := parseAnchor(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		anchors = append(anchors, a)
	}
	if len(anchors) == 0 {
		return nil, errors.New("no anchor in it")
	}
	return anchors, nil
}

func parseAnchor(line []byte) (Anchor, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var j anchorJSON
	if err := dec.Decode(&j); err != nil {
		return Anchor{}, fmt.Errorf("not an anchor: %w", err)
	}
	if len(bytes.TrimSpace(line[dec.InputOffset():])) != 0 {
		return Anchor{}, errors.New("not an anchor: something follows it on its line")
	}
	if j.Type != anchorType {
		return Anchor{}, fmt.Errorf("not an anchor: its type is not %q", anchorType)
	}
	if j.V != EncodingVersion {
		return Anchor{}, fmt.Errorf("an anchor of version %d: this tally reads version %d", j.V, EncodingVersion)
	}
	a := Anchor{Seq: j.Seq, Hash: j.Hash}
	if j.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, j.Time)
		if err != nil {
			return Anchor{}, fmt.Errorf("its time: %w", err)
		}
		a.Time = t.UTC()
	}
	if (a.Seq == 0) != a.Hash.IsZero() {
		return Anchor{}, errors.New("an anchor of entry 0 (an empty log) has a zero hash, and only it")
	}
	return a, nil
}
