package bolt

import (
	"encoding/base32"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/tally-id/tally/verifier/registry"
)

// A registry entry is stored in a compact binary form rather than JSON: a
// domain holds millions of them and every byte saved is a page of the
// B+tree less to rewrite when a batch of scans lands. The key is the
// token's 16 bytes; the value, version 1:
//
//	1             version
//	varint        first seen, Unix milliseconds
//	uvarint       last seen - first seen, milliseconds
//	uvarint       count
//	1             flags: 1 last service point = first, 2 last programme = first
//	string        first service point   (a string is a uvarint length, then bytes)
//	[string]      last service point, unless flag 1
//	string        first programme
//	[string]      last programme, unless flag 2
//	uvarint       number of periods, then for each:
//	  string      programme
//	  uvarint     month, as year*12 + month - 1
//	  uvarint     count
const entryVersion = 1

// Bounds a stored entry must keep, so that a damaged one cannot make the
// decoder allocate without limit.
const (
	maxEntryString  = 256
	maxEntryPeriods = 100_000
)

var errDamagedEntry = errors.New("bucket registry_tokens: damaged entry")

var tokenBytes = base32.StdEncoding.WithPadding(base32.NoPadding)

// tokenKey is a token's 16 bytes; the registry checked it.
func tokenKeyOf(token string) ([]byte, error) {
	raw, err := tokenBytes.DecodeString(strings.ToUpper(token))
	if err != nil || len(raw) != 16 {
		return nil, errors.New("not a dedup token")
	}
	return raw, nil
}

func tokenOfKey(k []byte) string { return strings.ToLower(tokenBytes.EncodeToString(k)) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func monthNumber(m registry.Month) uint64 {
	s := string(m)
	if len(s) != 7 {
		return 0
	}
	y := uint64(s[0]-'0')*1000 + uint64(s[1]-'0')*100 + uint64(s[2]-'0')*10 + uint64(s[3]-'0')
	mo := uint64(s[5]-'0')*10 + uint64(s[6]-'0')
	return y*12 + mo - 1
}

func monthOfNumber(n uint64) registry.Month {
	y, m := n/12, n%12+1
	return registry.Month(string([]byte{byte('0' + y/1000%10), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-', byte('0' + m/10), byte('0' + m%10)}))
}

// encodeEntry writes e in the binary form above.
func encodeEntry(e *registry.Entry) []byte {
	b := make([]byte, 0, 64+len(e.Periods)*12)
	b = append(b, entryVersion)
	first, last := e.FirstSeen.UnixMilli(), e.LastSeen.UnixMilli()
	b = binary.AppendVarint(b, first)
	b = binary.AppendUvarint(b, uint64(last-first))
	b = binary.AppendUvarint(b, uint64(e.Count))
	var flags byte
	if e.LastAt == e.FirstAt {
		flags |= 1
	}
	if e.LastProgramme == e.FirstProgramme {
		flags |= 2
	}
	b = append(b, flags)
	b = appendString(b, e.FirstAt)
	if flags&1 == 0 {
		b = appendString(b, e.LastAt)
	}
	b = appendString(b, e.FirstProgramme)
	if flags&2 == 0 {
		b = appendString(b, e.LastProgramme)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Periods)))
	for _, p := range e.Periods {
		b = appendString(b, p.Programme)
		b = binary.AppendUvarint(b, monthNumber(p.Month))
		b = binary.AppendUvarint(b, uint64(p.Count))
	}
	return b
}

// entryReader reads the binary form, remembering the first problem.
type entryReader struct {
	b   []byte
	bad bool
}

func (r *entryReader) uvarint(max uint64) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *entryReader) string() string {
	n := r.uvarint(maxEntryString)
	if r.bad || uint64(len(r.b)) < n {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// The range of times and months an entry may hold: years 2000 to 2999.
var (
	minEntryMilli = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxEntryMilli = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

const (
	minMonthNumber = 2000 * 12
	maxMonthNumber = 3000*12 - 1
)

// decodeEntry reads the binary form of token's entry.
func decodeEntry(token string, data []byte) (registry.Entry, error) {
	r := entryReader{b: data}
	if r.byte() != entryVersion {
		return registry.Entry{}, errDamagedEntry
	}
	e := registry.Entry{Token: token}
	first := r.varint()
	span := r.uvarint(uint64(maxEntryMilli - minEntryMilli))
	count := r.uvarint(math.MaxInt32)
	flags := r.byte()
	if r.bad || first < minEntryMilli || first+int64(span) > maxEntryMilli || flags > 3 || count == 0 {
		return registry.Entry{}, errDamagedEntry
	}
	e.FirstSeen = time.UnixMilli(first).UTC()
	e.LastSeen = time.UnixMilli(first + int64(span)).UTC()
	e.Count = int(count)
	e.FirstAt = r.string()
	e.LastAt = e.FirstAt
	if flags&1 == 0 {
		e.LastAt = r.string()
	}
	e.FirstProgramme = r.string()
	e.LastProgramme = e.FirstProgramme
	if flags&2 == 0 {
		e.LastProgramme = r.string()
	}
	n := r.uvarint(maxEntryPeriods)
	if r.bad || n > uint64(len(r.b)) {
		return registry.Entry{}, errDamagedEntry
	}
	e.Periods = make([]registry.PeriodCount, 0, n)
	for range n {
		p := registry.PeriodCount{Programme: r.string()}
		m := r.uvarint(maxMonthNumber)
		c := r.uvarint(math.MaxInt32)
		if r.bad || m < minMonthNumber || c == 0 {
			return registry.Entry{}, errDamagedEntry
		}
		p.Month, p.Count = monthOfNumber(m), int(c)
		e.Periods = append(e.Periods, p)
	}
	if r.bad || len(r.b) != 0 {
		return registry.Entry{}, errDamagedEntry
	}
	return e, nil
}
