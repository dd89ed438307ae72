package credentials_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

func TestStatusEntriesLayout(t *testing.T) {
	entries := credentials.StatusEntries("https://org-a.example/status/", 3, 94567)
	if len(entries) != 2 || entries[0].ListCredential != "https://org-a.example/status/revocation/3" ||
		entries[1].ListCredential != "https://org-a.example/status/suspension/3" || entries[1].Index != 94567 {
		t.Fatalf("entries: %+v", entries)
	}
	for _, tc := range []struct {
		name    string
		entries []credentials.StatusEntry
		list    int
		index   int
		ok      bool
	}{
		{"absolute", entries, 3, 94567, true},
		{"relative (a card's)", credentials.StatusEntries("", 7, 12), 7, 12, true},
		{"none", nil, 0, 0, false},
		{"lists differ", []credentials.StatusEntry{entries[0], credentials.StatusEntries("https://x", 4, 94567)[1]}, 0, 0, false},
		{"indexes differ", []credentials.StatusEntry{entries[0], credentials.StatusEntries("https://x", 3, 1)[1]}, 0, 0, false},
		{"foreign layout", []credentials.StatusEntry{{Purpose: "revocation", Index: 1, ListCredential: "https://x/lists/abc"}}, 0, 0, false},
		{"other purpose", []credentials.StatusEntry{{Purpose: "message", Index: 1, ListCredential: "https://x/message/1"}}, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, index, ok := credentials.TallyStatus(tc.entries)
			if ok != tc.ok || (ok && (list != tc.list || index != tc.index)) {
				t.Fatalf("TallyStatus = %d, %d, %v", list, index, ok)
			}
		})
	}
}

func TestStatusListBits(t *testing.T) {
	l, err := credentials.NewStatusList("https://x/status/revocation/0", "did:web:x", credentials.PurposeRevocation, credentials.MinStatusListSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 7, 8, 94567, credentials.MinStatusListSize - 1} {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	// Bit 0 is the most significant bit of byte 0 (Bitstring Status List
	// v1.0, section 3.2).
	if l.Bits[0] != 0x81 || l.Bits[1] != 0x80 || l.Bits[len(l.Bits)-1] != 0x01 {
		t.Fatalf("bit order: % x ... % x", l.Bits[:2], l.Bits[len(l.Bits)-1:])
	}
	if got, _ := l.Get(94567); !got {
		t.Fatal("bit 94567 not set")
	}
	if got, _ := l.Get(94568); got {
		t.Fatal("bit 94568 set")
	}
	_ = l.Set(7, false)
	if got, _ := l.Get(7); got {
		t.Fatal("bit 7 not cleared")
	}
	for _, bad := range []int{-1, credentials.MinStatusListSize} {
		if _, err := l.Get(bad); err == nil {
			t.Fatalf("Get(%d) accepted", bad)
		}
		if err := l.Set(bad, true); err == nil {
			t.Fatalf("Set(%d) accepted", bad)
		}
	}
	for _, size := range []int{0, 1024, credentials.MinStatusListSize + 1} {
		if _, err := credentials.NewStatusList("u", "did:web:x", credentials.PurposeRevocation, size); err == nil {
			t.Fatalf("a list of %d entries was made", size)
		}
	}
	if _, err := credentials.NewStatusList("u", "did:web:x", "refresh", credentials.MinStatusListSize); err == nil {
		t.Fatal("purpose refresh accepted")
	}
}

func TestEncodedList(t *testing.T) {
	bits := make([]byte, credentials.MinStatusListSize/8)
	bits[11820] = 0x10
	enc, err := credentials.EncodeBitstring(bits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "+/=") {
		t.Fatalf("encodedList %q is not multibase base64url without padding", enc[:10])
	}
	// An all-but-one-zero list of 16 KiB compresses to almost nothing.
	if len(enc) > 200 {
		t.Fatalf("encodedList is %d characters", len(enc))
	}
	back, err := credentials.DecodeBitstring(enc)
	if err != nil || !bytes.Equal(back, bits) {
		t.Fatalf("round trip: %v", err)
	}

	gz := func(b []byte) string {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(b)
		_ = w.Close()
		return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	}
	for _, tc := range []struct{ name, in string }{
		{"no multibase prefix", enc[1:]},
		{"base58 prefix", "z" + enc[1:]},
		{"not base64url", "u!!!"},
		{"not gzip", "u" + base64.RawURLEncoding.EncodeToString([]byte("plain text"))},
		{"too short a list", gz(make([]byte, 1024))},
		{"a gzip bomb", gz(make([]byte, 3<<20))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := credentials.DecodeBitstring(tc.in); !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestStatusListCredential(t *testing.T) {
	key := newIssuerKey(t, credentials.EdDSA, "did:web:org-a.example")
	other := newIssuerKey(t, credentials.EdDSA, "did:web:org-a.example")
	l, _ := credentials.NewStatusList("https://org-a.example/status/suspension/2", key.DID, credentials.PurposeSuspension, credentials.MinStatusListSize)
	l.TTL = 10 * time.Minute
	l.ValidUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = l.Set(42, true)
	raw, err := credentials.IssueStatusList(l, key, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s, err := credentials.ParseStatusList(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(key.Public); err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(other.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("another key: %v", err)
	}
	got := s.List
	if got.URL != l.URL || got.Issuer != key.DID || got.Purpose != credentials.PurposeSuspension || got.TTL != l.TTL || !got.ValidUntil.Equal(l.ValidUntil) || s.KeyID != key.ID {
		t.Fatalf("parsed list: %+v", got)
	}
	if set, _ := got.Get(42); !set {
		t.Fatal("bit 42 lost")
	}
	// Any change to the signed bytes breaks the signature.
	parts := strings.Split(string(raw), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte("suspension"), []byte("revocation"), -1)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	forged, err := credentials.ParseStatusList([]byte(strings.Join(parts, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if err := forged.VerifySignature(key.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("a forged list verified: %v", err)
	}
	// The key must be the list's issuer's.
	if _, err := credentials.IssueStatusList(l, newIssuerKey(t, credentials.EdDSA, ""), time.Now()); err == nil {
		t.Fatal("a list was signed by a key of another DID")
	}
	for _, bad := range []string{"", "not a jws", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 5<<20)} {
		if _, err := credentials.ParseStatusList([]byte(bad)); err == nil {
			t.Fatalf("ParseStatusList(%.20q) accepted", bad)
		}
	}
}

func TestIssueStatusListRefusesNegativeTTL(t *testing.T) {
	key := newIssuerKey(t, credentials.EdDSA, "")
	l, _ := credentials.NewStatusList("https://x/status/revocation/0", key.DID, credentials.PurposeRevocation, credentials.MinStatusListSize)
	l.TTL = -time.Minute
	if _, err := credentials.IssueStatusList(l, key, time.Now()); err == nil {
		t.Fatal("a list with a negative ttl was issued")
	}
}
