package audit

import (
	"bytes"
	"encoding/base64"
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
//
// A line may also be a signed anchor (SignedAnchorTyp), as the server's
// anchor route returns it: its anchor is read from its payload, whose
// signature ParseAnchors does not check (ParseAnchorLines returns the
// token, for the caller to check with the organisation's key).
func ParseAnchors(data []byte) ([]Anchor, error) {
	lines, err := ParseAnchorLines(data)
	if err != nil {
		return nil, err
	}
	anchors := make([]Anchor, len(lines))
	for i, l := range lines {
		anchors[i] = l.Anchor
	}
	return anchors, nil
}

// AnchorLine is one line of an anchor file: an anchor, and, for a signed
// one, the organisation that signed it and the token.
type AnchorLine struct {
	Anchor Anchor
	// Org and Token are set for a signed anchor.
	Org   string
	Token string
	// Entries and Signed are a signed anchor's count of entries and time
	// of signing.
	Entries uint64
	Signed  time.Time
}

// ParseAnchorLines reads an anchor file as ParseAnchors does, keeping
// each signed anchor's token and organisation.
func ParseAnchorLines(data []byte) ([]AnchorLine, error) {
	if len(data) > maxAnchorFile {
		return nil, fmt.Errorf("an anchor file is at most %d bytes", maxAnchorFile)
	}
	var out []AnchorLine
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var l AnchorLine
		var err error
		if line[0] == '{' {
			l.Anchor, err = parseAnchor(line)
		} else {
			l, err = parseSignedAnchor(line)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("no anchor in it")
	}
	return out, nil
}

// SignedAnchorTyp is the typ header of a signed anchor: a compact JWS
// (RFC 7515) whose payload is SignedAnchorClaims' JSON, signed with the
// organisation's key.
const SignedAnchorTyp = "tally-audit-anchor+jwt"

// SignedAnchorClaims is what an organisation signs of its log's head:
// the anchor, how many entries the log holds, the organisation, and when
// it was signed.
type SignedAnchorClaims struct {
	Type    string `json:"type"`
	V       int    `json:"v"`
	Org     string `json:"org"`
	Seq     uint64 `json:"seq"`
	Hash    Hash   `json:"hash"`
	Time    string `json:"time,omitempty"`
	Entries uint64 `json:"entries"`
	Signed  string `json:"signed"`
}

// SignedClaims returns what an organisation signs of anchor a.
func (a Anchor) SignedClaims(org string, entries uint64, signed time.Time) SignedAnchorClaims {
	c := SignedAnchorClaims{Type: anchorType, V: EncodingVersion, Org: org, Seq: a.Seq, Hash: a.Hash, Entries: entries,
		Signed: signed.UTC().Format(time.RFC3339)}
	if !a.Time.IsZero() {
		c.Time = a.Time.UTC().Format(time.RFC3339Nano)
	}
	return c
}

// parseSignedAnchor reads the payload of a signed anchor's token.
func parseSignedAnchor(token []byte) (AnchorLine, error) {
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 {
		return AnchorLine{}, errors.New("not an anchor: neither a JSON object nor a signed anchor (header.payload.signature)")
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(string(parts[1]))
	if err != nil {
		return AnchorLine{}, errors.New("not a signed anchor: its payload is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var c SignedAnchorClaims
	if err := dec.Decode(&c); err != nil || dec.More() {
		return AnchorLine{}, errors.New("not a signed anchor: its payload is not an anchor's claims")
	}
	line, err := json.Marshal(anchorJSON{Type: c.Type, V: c.V, Seq: c.Seq, Hash: c.Hash, Time: c.Time})
	if err != nil {
		return AnchorLine{}, err
	}
	a, err := parseAnchor(line)
	if err != nil {
		return AnchorLine{}, err
	}
	signed, err := time.Parse(time.RFC3339, c.Signed)
	if err != nil {
		return AnchorLine{}, errors.New("a signed anchor's signing time is not an RFC 3339 time")
	}
	if c.Org == "" {
		return AnchorLine{}, errors.New("a signed anchor names no organisation")
	}
	return AnchorLine{Anchor: a, Org: c.Org, Token: string(token), Entries: c.Entries, Signed: signed.UTC()}, nil
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
