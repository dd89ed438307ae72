package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

// The golden vector of encoding version 1 lives in
// testdata/entry-v1.golden. It must never change: a change to the encoding
// is a new version. Write it (once) with
//
//	go test ./issuer/audit -run TestEncodingGolden -update-audit-golden
var updateGolden = flag.Bool("update-audit-golden", false, "rewrite testdata/entry-v1.golden")

// goldenEntry is the entry of the golden vector: every field set, a time
// with nanoseconds, two objects.
func goldenEntry() audit.Entry {
	e := audit.Entry{
		Seq:   42,
		Time:  time.Date(2026, 11, 26, 9, 30, 15, 123456789, time.UTC),
		Actor: audit.Staff("st_7k2m9q"),
		Org:   "dadaab", Action: audit.ActionIssue,
		Objects: []audit.Object{
			{Kind: audit.ObjectRegistration, ID: "reg_01JD3X4T9Q"},
			{Kind: audit.ObjectCredential, ID: "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"},
		},
		Purpose: audit.ProgrammePurpose("MPCA-2026"),
		Outcome: audit.OutcomeSuccess,
	}
	e.Prev = sha256.Sum256([]byte("entry 41"))
	e.Hash = e.ComputeHash()
	return e
}

func TestEncodingGolden(t *testing.T) {
	e := goldenEntry()
	record, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("record %x\nhash %s\n", record, e.Hash)
	path := filepath.Join("testdata", "entry-v1.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("encoding version 1 changed: a change is a new EncodingVersion.\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// TestEncodingByHand builds the golden entry's record from docs/audit.md's
// description, without the package, so that the document and the code
// agree, and anyone can recompute a hash from an export.
func TestEncodingByHand(t *testing.T) {
	e := goldenEntry()
	str := func(b []byte, s string) []byte { return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...) }
	var b []byte
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, 42)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	b = str(b, "staff")
	b = str(b, "st_7k2m9q")
	b = str(b, "dadaab")
	b = str(b, "issue")
	b = binary.BigEndian.AppendUint16(b, 2)
	b = str(str(b, "registration"), "reg_01JD3X4T9Q")
	b = str(str(b, "credential"), "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77")
	b = str(b, "programme:MPCA-2026")
	b = str(b, "success")
	b = append(b, e.Prev[:]...)
	hash := sha256.Sum256(append([]byte("tally-audit-v1\x00"), b...))
	if audit.Hash(hash) != e.Hash {
		t.Errorf("hash by hand %x, ComputeHash %s", hash, e.Hash)
	}
	record, _ := e.MarshalBinary()
	if want := append(b, hash[:]...); !bytes.Equal(record, want) {
		t.Errorf("record\n%x\nby hand\n%x", record, want)
	}
}

func TestDecodeEntryRoundTrip(t *testing.T) {
	entries := append(sampleEntries(), goldenEntry())
	for i, e := range entries {
		if e.Seq == 0 {
			e.Seq, e.Time = uint64(i+1), time.Unix(0, int64(i)).UTC()
		}
		e.Hash = e.ComputeHash()
		record, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := audit.DecodeEntry(record)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(e) || !got.Time.Equal(e.Time) {
			t.Errorf("entry %d came back as\n%v\nnot\n%v", i, got, e)
		}
	}
}

func TestDecodeEntryRefuses(t *testing.T) {
	golden, err := goldenEntry().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(golden)) }
	// The offset of the time, and of the object count.
	const timeAt = 1 + 8
	objectsAt := timeAt + 8 + (2 + len("staff")) + (2 + len("st_7k2m9q")) + (2 + len("dadaab")) + (2 + len("issue"))
	tests := []struct {
		name   string
		record []byte
	}{
		{"empty", nil},
		{"version 0", edit(func(b []byte) []byte { b[0] = 0; return b })},
		{"version 2", edit(func(b []byte) []byte { b[0] = 2; return b })},
		{"seq 0", edit(func(b []byte) []byte { clear(b[1:9]); return b })},
		{"time before 1970", edit(func(b []byte) []byte { b[timeAt] = 0xff; return b })},
		{"time after 2261", edit(func(b []byte) []byte { b[timeAt] = 0x7f; return b })},
		{"a byte after the hash", append(bytes.Clone(golden), 0)},
		{"hash cut short", golden[:len(golden)-1]},
		{"object count too large", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[objectsAt:], audit.MaxObjects+1)
			return b
		})},
		{"object count off by one", edit(func(b []byte) []byte { b[objectsAt+1] = 3; return b })},
		{"string length past the end", edit(func(b []byte) []byte { b[timeAt+8] = 0xff; return b })},
		{"not UTF-8", edit(func(b []byte) []byte { return bytes.Replace(b, []byte("dadaab"), []byte("dad\xffab"), 1) })},
		{"id with a space", edit(func(b []byte) []byte { return bytes.Replace(b, []byte("st_7k2m9q"), []byte("st 7k2m9q"), 1) })},
		{"unknown action", edit(func(b []byte) []byte { return bytes.Replace(b, []byte("issue"), []byte("isSue"), 1) })},
	}
	for i := range golden {
		tests = append(tests, struct {
			name   string
			record []byte
		}{fmt.Sprintf("cut at %d", i), golden[:i]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audit.DecodeEntry(tt.record); !errors.Is(err, audit.ErrMalformed) {
				t.Errorf("DecodeEntry: %v, want ErrMalformed", err)
			}
		})
	}
}

func TestMarshalBinaryRefusesInvalidEntries(t *testing.T) {
	e := goldenEntry()
	e.Seq = 0
	if _, err := e.MarshalBinary(); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Errorf("an entry without a sequence number: %v", err)
	}
	e = goldenEntry()
	e.Time = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)
	if _, err := e.MarshalBinary(); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Errorf("an entry before 1970: %v", err)
	}
}

func TestEntryJSON(t *testing.T) {
	e := goldenEntry()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"seq":42,"time":"2026-11-26T09:30:15.123456789Z","actor":{"kind":"staff","id":"st_7k2m9q"},` +
		`"org":"dadaab","action":"issue","objects":[{"kind":"registration","id":"reg_01JD3X4T9Q"},` +
		`{"kind":"credential","id":"urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"}],"purpose":"programme:MPCA-2026",` +
		`"outcome":"success","prev":"` + e.Prev.String() + `","hash":"` + e.Hash.String() + `"}`
	if string(raw) != want {
		t.Errorf("JSON\n%s\nwant\n%s", raw, want)
	}
	e.Objects, e.Actor = nil, audit.Anonymous()
	raw, _ = json.Marshal(e)
	if !strings.Contains(string(raw), `"objects":[]`) || !strings.Contains(string(raw), `"actor":{"kind":"anonymous"}`) {
		t.Errorf("JSON of an anonymous entry without objects: %s", raw)
	}
}

func TestHashText(t *testing.T) {
	h := goldenEntry().Hash
	text, _ := h.MarshalText()
	var back audit.Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "00", strings.ToUpper(h.String()), h.String() + "00", "g" + h.String()[1:]} {
		if err := back.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q was read as a hash", bad)
		}
	}
	if hex.EncodeToString(h[:]) != h.String() {
		t.Error("String is not lower-case hexadecimal")
	}
}
