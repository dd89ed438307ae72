package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// EncodingVersion is the version of the record encoding Append writes, its
// first byte. Version 1 is described in docs/audit.md and fixed by
// testdata/entry-v1.golden: a change to it is a new version, and decoding
// keeps reading the old ones.
const EncodingVersion = 1

// hashTag begins what an entry's hash is computed over, so that no other
// SHA-256 input of tally's can be mistaken for an audit entry's.
const hashTag = "tally-audit-v1\x00"

// ErrMalformed is what DecodeEntry returns, wrapped, for a record that is
// not an entry's encoding.
var ErrMalformed = errors.New("malformed audit record")

// MarshalBinary returns the entry's record: its canonical encoding, with
// Prev and Hash at the end (docs/audit.md). It refuses an entry that
// Append would not have written.
func (e Entry) MarshalBinary() ([]byte, error) {
	if err := e.validate(true); err != nil {
		return nil, err
	}
	b := e.appendBody(make([]byte, 0, e.size()))
	return append(b, e.Hash[:]...), nil
}

// ComputeHash returns the hash the entry's fields call for: SHA-256 over
// "tally-audit-v1", a zero byte, and the record without its last 32 bytes
// (the hash itself). An entry is intact when ComputeHash equals Hash.
func (e Entry) ComputeHash() Hash {
	h := sha256.New()
	h.Write([]byte(hashTag))
	h.Write(e.appendBody(make([]byte, 0, e.size())))
	var out Hash
	h.Sum(out[:0])
	return out
}

// appendBody appends the record without its hash:
//
//	version u8 | seq u64 | time i64 (Unix nanoseconds) | actor kind str | actor id str |
//	org str | action str | objects u16, then each: kind str | id str |
//	purpose str | outcome str | prev [32]byte
//
// where integers are big-endian and a str is its length in bytes as a u16
// and then its bytes.
func (e Entry) appendBody(b []byte) []byte {
	b = append(b, EncodingVersion)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	b = appendStr(b, string(e.Actor.Kind))
	b = appendStr(b, e.Actor.ID)
	b = appendStr(b, e.Org)
	b = appendStr(b, string(e.Action))
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Objects)))
	for _, o := range e.Objects {
		b = appendStr(b, string(o.Kind))
		b = appendStr(b, o.ID)
	}
	b = appendStr(b, string(e.Purpose))
	b = appendStr(b, string(e.Outcome))
	return append(b, e.Prev[:]...)
}

// size is the length of the entry's record.
func (e Entry) size() int {
	n := 1 + 8 + 8 + 2 + 32 + 32 + 2*6 + len(e.Actor.Kind) + len(e.Actor.ID) + len(e.Org) + len(e.Action) + len(e.Purpose) + len(e.Outcome)
	for _, o := range e.Objects {
		n += 4 + len(o.Kind) + len(o.ID)
	}
	return n
}

// appendStr appends s with its length. validate has bounded every field
// well below math.MaxUint16.
func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// DecodeEntry reads a record MarshalBinary wrote. It is strict: every
// field must be one Append could have written, and nothing may follow the
// hash, so that one entry has exactly one record. It does not check the
// hash: that is ComputeHash's and Verify's job.
func DecodeEntry(record []byte) (Entry, error) {
	d := decoder{b: record}
	var e Entry
	if v := d.u8(); d.err == nil && v != EncodingVersion {
		return Entry{}, fmt.Errorf("%w: encoding version %d, this tally reads version %d", ErrMalformed, v, EncodingVersion)
	}
	e.Seq = d.u64()
	nanos := d.u64()
	if d.err == nil && nanos > math.MaxInt64 {
		return Entry{}, fmt.Errorf("%w: time before 1970", ErrMalformed)
	}
	e.Time = time.Unix(0, int64(nanos)).UTC()
	e.Actor.Kind = ActorKind(d.str())
	e.Actor.ID = d.str()
	e.Org = d.str()
	e.Action = Action(d.str())
	if n := int(d.u16()); d.err == nil {
		if n > MaxObjects {
			return Entry{}, fmt.Errorf("%w: %d objects, at most %d", ErrMalformed, n, MaxObjects)
		}
		if n > 0 {
			e.Objects = make([]Object, n)
		}
		for i := range e.Objects {
			e.Objects[i].Kind = ObjectKind(d.str())
			e.Objects[i].ID = d.str()
		}
	}
	e.Purpose = Purpose(d.str())
	e.Outcome = Outcome(d.str())
	copy(e.Prev[:], d.take(len(e.Prev)))
	copy(e.Hash[:], d.take(len(e.Hash)))
	if d.err != nil {
		return Entry{}, d.err
	}
	if len(d.b) != 0 {
		return Entry{}, fmt.Errorf("%w: %d bytes after the hash", ErrMalformed, len(d.b))
	}
	if err := e.validate(true); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return e, nil
}

// decoder reads a record front to back; after its first error it reads
// nothing more and keeps that error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("%w: it ends early", ErrMalformed)
		d.b = nil
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// str reads a length and that many bytes, which must be UTF-8 (validate
// then narrows every field to ASCII).
func (d *decoder) str() string {
	n := d.u16()
	b := d.take(int(n))
	if d.err == nil && !utf8.Valid(b) {
		d.err = fmt.Errorf("%w: a text field is not UTF-8", ErrMalformed)
	}
	return string(b)
}

// entryJSON is an entry as `tally audit export` prints it: every field, so
// that whoever holds the export can recompute each hash (docs/audit.md).
type entryJSON struct {
	V       int      `json:"v"`
	Seq     uint64   `json:"seq"`
	Time    string   `json:"time"`
	Actor   Actor    `json:"actor"`
	Org     string   `json:"org"`
	Action  Action   `json:"action"`
	Objects []Object `json:"objects"`
	Purpose Purpose  `json:"purpose"`
	Outcome Outcome  `json:"outcome"`
	Prev    Hash     `json:"prev"`
	Hash    Hash     `json:"hash"`
}

// MarshalJSON writes the entry as one JSON object with every field: "v"
// (the encoding version), "seq", "time" (RFC 3339 in UTC, to the
// nanosecond), "actor" ({"kind","id"}), "org", "action", "objects"
// ([{"kind","id"}]), "purpose", "outcome", "prev" and "hash" (hexadecimal).
func (e Entry) MarshalJSON() ([]byte, error) {
	objects := e.Objects
	if objects == nil {
		objects = []Object{}
	}
	return json.Marshal(entryJSON{
		V: EncodingVersion, Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano),
		Actor: e.Actor, Org: e.Org, Action: e.Action, Objects: objects,
		Purpose: e.Purpose, Outcome: e.Outcome, Prev: e.Prev, Hash: e.Hash,
	})
}
