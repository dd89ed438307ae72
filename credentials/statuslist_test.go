package credentials_test

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// The seed corpora of FuzzParseStatusList, FuzzStatusListPayload and
// FuzzDecodeBitstring live in testdata/fuzz/<Name>/. Refresh them with
//
//	go test ./credentials -run TestStatusListFuzzCorpus -update-statuslist-fuzz
var updateStatusListFuzz = flag.Bool("update-statuslist-fuzz", false, "rewrite the seed corpora of the status list fuzz targets")

// maxStatusListBytes is the 2 MiB bound DecodeBitstring puts on a list.
const maxStatusListBytes = 2 << 20

const statusListURL = "https://dadaab.example.org/status/revocation/3"

// statusListKeys are the keys that sign the seed lists: Ed25519 with a
// did:web DID, and P-256 with a did:key.
func statusListKeys(t testing.TB) []*credentials.Key {
	return []*credentials.Key{
		testKey(t, credentials.EdDSA, "did:web:dadaab.example.org"),
		testKey(t, credentials.ES256, ""),
	}
}

// issueList issues a list of size entries with the given bits set.
func issueList(t testing.TB, k *credentials.Key, purpose string, size int, set ...int) []byte {
	t.Helper()
	l, err := credentials.NewStatusList(statusListURL, k.DID, purpose, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	l.TTL = 5 * time.Minute
	l.ValidFrom = testNow
	l.ValidUntil = testNow.Add(24 * time.Hour)
	raw, err := credentials.IssueStatusList(l, k, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwsPayload is the decoded payload of a compact JWS.
func jwsPayload(t testing.TB, token []byte) map[string]any {
	t.Helper()
	parts := strings.Split(string(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %.40s", token)
	}
	return decodeSegment(t, parts[1])
}

// editStatusList re-signs the payload of a status list token after edit.
func editStatusList(t testing.TB, token []byte, k *credentials.Key, edit func(c, subject map[string]any)) []byte {
	t.Helper()
	m := jwsPayload(t, token)
	edit(m, m["credentialSubject"].(map[string]any))
	return []byte(signJOSE(t, m, k, map[string]any{"kid": k.ID, "typ": "vc+jwt"}))
}

// statusListSeeds are inputs for the status list fuzz targets: lists that
// parse, and near misses.
func statusListSeeds(t testing.TB) map[string][]byte {
	keys := statusListKeys(t)
	ed, p256 := keys[0], keys[1]
	rev := issueList(t, ed, credentials.PurposeRevocation, credentials.MinStatusListSize, 0, 7, 94567, credentials.MinStatusListSize-1)
	seeds := map[string][]byte{
		"revocation-ed25519": rev,
		"suspension-p256":    issueList(t, p256, credentials.PurposeSuspension, 2*credentials.MinStatusListSize, 1, 131072, 262143),
	}
	small := &credentials.StatusList{URL: statusListURL, Issuer: ed.DID, Purpose: credentials.PurposeRevocation, Bits: make([]byte, 100)}
	var err error
	if seeds["too-small"], err = credentials.IssueStatusList(small, ed, testNow); err != nil {
		t.Fatal(err)
	}
	seeds["purpose-message"] = editStatusList(t, rev, ed, func(_, s map[string]any) { s["statusPurpose"] = "message" })
	seeds["not-gzip"] = editStatusList(t, rev, ed, func(_, s map[string]any) {
		s["encodedList"] = "u" + base64.RawURLEncoding.EncodeToString(make([]byte, 40))
	})
	seeds["no-multibase"] = editStatusList(t, rev, ed, func(_, s map[string]any) { s["encodedList"] = strings.TrimPrefix(s["encodedList"].(string), "u") })
	seeds["bad-validfrom"] = editStatusList(t, rev, ed, func(c, _ map[string]any) { c["validFrom"] = "2026-11-02" })
	seeds["fractional-time"] = editStatusList(t, rev, ed, func(c, _ map[string]any) { c["validUntil"] = "2026-11-03T09:30:00.25+01:00" })
	seeds["not-a-list"] = editStatusList(t, rev, ed, func(c, _ map[string]any) { c["type"] = []string{"VerifiableCredential"} })
	seeds["ttl-negative"] = editStatusList(t, rev, ed, func(_, s map[string]any) { s["ttl"] = -300000 })
	seeds["ttl-overflow"] = editStatusList(t, rev, ed, func(_, s map[string]any) { s["ttl"] = int64(10_000_000_000_000) })
	seeds["no-ttl"] = editStatusList(t, rev, ed, func(_, s map[string]any) { delete(s, "ttl") })
	seeds["alg-none"] = []byte(unsignedJWT(t, map[string]any{"alg": "none"}, jwsPayload(t, rev), nil))
	hmac, err := jws.Sign([]byte(mustJSON(t, jwsPayload(t, rev))), jws.WithKey(jwa.HS256, []byte("a shared secret of enough length")))
	if err != nil {
		t.Fatal(err)
	}
	seeds["hs256"] = hmac
	payload, _ := json.Marshal(jwsPayload(t, rev))
	if seeds["json-serialization"], err = jws.Sign(payload, jws.WithJSON(), jws.WithKey(jwa.EdDSA, ed.Signer)); err != nil {
		t.Fatal(err)
	}
	seeds["truncated"] = rev[:len(rev)/2]
	seeds["padded"] = append(append([]byte(" \n"), rev...), '\n')
	return seeds
}

// bitstringSeeds are encodedList values: lists of every bound, a list
// one byte too long, and near misses.
func bitstringSeeds(t testing.TB) map[string]string {
	enc := func(bits []byte) string {
		s, err := credentials.EncodeBitstring(bits)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ones := bytes.Repeat([]byte{0x5a}, credentials.MinStatusListSize/8)
	return map[string]string{
		"smallest":  enc(make([]byte, credentials.MinStatusListSize/8)),
		"pattern":   enc(ones),
		"too-small": enc(make([]byte, credentials.MinStatusListSize/8-1)),
		"largest":   enc(make([]byte, maxStatusListBytes)),
		"too-large": enc(make([]byte, maxStatusListBytes+1)),
		"two-members": "u" + base64.RawURLEncoding.EncodeToString(append(
			gzipBytes(t, make([]byte, 8192)), gzipBytes(t, make([]byte, 8192))...)),
		"padded":   enc(ones) + "==",
		"std-b64":  "u" + base64.StdEncoding.EncodeToString(gzipBytes(t, ones)),
		"no-u":     "z" + enc(ones)[1:],
		"empty":    "",
		"only-u":   "u",
		"trailing": enc(ones) + "AAAA",
	}
}

// gzipBytes is the GZIP member of raw, as EncodeBitstring makes it.
func gzipBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	s, err := credentials.EncodeBitstring(raw)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := base64.RawURLEncoding.DecodeString(s[1:])
	if err != nil {
		t.Fatal(err)
	}
	return gz
}

// TestStatusListFuzzCorpus writes the seed corpora with
// -update-statuslist-fuzz, and otherwise checks that they are there.
func TestStatusListFuzzCorpus(t *testing.T) {
	lists, payloads, bitstrings := map[string]fuzzSeed{}, map[string]fuzzSeed{}, map[string]fuzzSeed{}
	for name, raw := range statusListSeeds(t) {
		lists[name] = fuzzSeed{raw}
		if parts := strings.Split(string(raw), "."); len(parts) == 3 {
			if p, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				payloads[name] = fuzzSeed{p}
			}
		}
	}
	for name, s := range bitstringSeeds(t) {
		bitstrings[name] = fuzzSeed{s}
	}
	fuzzCorpus(t, "FuzzParseStatusList", *updateStatusListFuzz, "update-statuslist-fuzz", lists)
	fuzzCorpus(t, "FuzzStatusListPayload", *updateStatusListFuzz, "update-statuslist-fuzz", payloads)
	fuzzCorpus(t, "FuzzDecodeBitstring", *updateStatusListFuzz, "update-statuslist-fuzz", bitstrings)
}

// TestStatusListValidity: every list IssueStatusList signs says when it was
// signed and until when it is valid (validUntil and exp), so that verifiers
// can tell its age and stop using it; ParseStatusList takes the earlier of
// validUntil and exp.
func TestStatusListValidity(t *testing.T) {
	k := statusListKeys(t)[0]
	l, err := credentials.NewStatusList(statusListURL, k.DID, credentials.PurposeRevocation, credentials.MinStatusListSize)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := credentials.IssueStatusList(l, k, testNow)
	if err != nil {
		t.Fatal(err)
	}
	p := jwsPayload(t, raw)
	until := testNow.Add(credentials.DefaultStatusListValidity)
	if p["validUntil"] != until.Format(time.RFC3339) || p["exp"] != float64(until.Unix()) ||
		p["validFrom"] != testNow.Format(time.RFC3339) || p["iat"] != float64(testNow.Unix()) {
		t.Fatalf("the list does not say when it was signed and until when it is valid: %v", p)
	}
	s, err := credentials.ParseStatusList(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !s.List.ValidUntil.Equal(until) || !s.List.Issued.Equal(testNow) || !s.List.ValidFrom.Equal(testNow) {
		t.Fatalf("parsed: issued %v from %v until %v", s.List.Issued, s.List.ValidFrom, s.List.ValidUntil)
	}

	// An exp earlier than validUntil bounds the list.
	early := editStatusList(t, raw, k, func(c, _ map[string]any) { c["exp"] = testNow.Add(time.Hour).Unix() })
	if s, err = credentials.ParseStatusList(early); err != nil || !s.List.ValidUntil.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("exp before validUntil: %v %v", err, s)
	}
	for name, edit := range map[string]func(c, _ map[string]any){
		"negative exp":  func(c, _ map[string]any) { c["exp"] = -1 },
		"negative iat":  func(c, _ map[string]any) { c["iat"] = -1 },
		"iat past 9999": func(c, _ map[string]any) { c["iat"] = int64(1) << 40 },
	} {
		if _, err := credentials.ParseStatusList(editStatusList(t, raw, k, edit)); !errors.Is(err, credentials.ErrMalformed) {
			t.Fatalf("%s: err = %v, want ErrMalformed", name, err)
		}
	}

	// A list is never issued already lapsed.
	l.ValidUntil = testNow.Add(-time.Minute)
	if _, err := credentials.IssueStatusList(l, k, testNow); err == nil {
		t.Fatal("a list was issued past its validUntil")
	}
}

// TestParseStatusListTTL: a ttl is milliseconds a time.Duration can hold;
// a negative one, or one that would overflow it, is malformed (they parsed
// as negative durations before).
func TestParseStatusListTTL(t *testing.T) {
	k := statusListKeys(t)[0]
	rev := issueList(t, k, credentials.PurposeRevocation, credentials.MinStatusListSize)
	const maxTTL = 9_223_372_036_854 // ms in math.MaxInt64 ns
	for _, tc := range []struct {
		name string
		ttl  any // nil: no ttl member
		want time.Duration
		ok   bool
	}{
		{"absent", nil, 0, true},
		{"five minutes", 300_000, 5 * time.Minute, true},
		{"largest", maxTTL, maxTTL * time.Millisecond, true},
		{"negative", -1, 0, false},
		{"overflows", maxTTL + 1, 0, false},
		{"far too large", int64(10_000_000_000_000), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := editStatusList(t, rev, k, func(_, s map[string]any) {
				if tc.ttl == nil {
					delete(s, "ttl")
				} else {
					s["ttl"] = tc.ttl
				}
			})
			s, err := credentials.ParseStatusList(raw)
			if !tc.ok {
				if !errors.Is(err, credentials.ErrMalformed) {
					t.Fatalf("ttl %v: err = %v, want ErrMalformed", tc.ttl, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.List.TTL != tc.want {
				t.Fatalf("ttl %v: TTL = %v, want %v", tc.ttl, s.List.TTL, tc.want)
			}
		})
	}
}

// checkStatusList holds the invariants of a status list that parses: its
// size is within bounds, Get reads the bits in and only in range, it never
// verifies under an unrelated key, and issued again it parses to the same
// list (times to the second, the precision tally writes).
func checkStatusList(t *testing.T, s *credentials.SignedStatusList, unrelated []crypto.PublicKey, reissuer *credentials.Key) {
	l := s.List
	if n := l.Size(); n < credentials.MinStatusListSize || n > 8*maxStatusListBytes {
		t.Fatalf("a list of %d entries parsed", n)
	}
	if l.Purpose != credentials.PurposeRevocation && l.Purpose != credentials.PurposeSuspension {
		t.Fatalf("a list with purpose %q parsed", l.Purpose)
	}
	if l.TTL < 0 {
		t.Fatalf("a list with a negative ttl parsed: %v", l.TTL)
	}
	for _, i := range []int{0, 1, 7, 8, l.Size() / 3, l.Size() - 9, l.Size() - 1} {
		got, err := l.Get(i)
		if err != nil {
			t.Fatalf("Get(%d) of a %d-entry list: %v", i, l.Size(), err)
		}
		if want := l.Bits[i/8]&(0x80>>(i%8)) != 0; got != want {
			t.Fatalf("Get(%d) = %v, bit is %v", i, got, want)
		}
	}
	for _, i := range []int{-1, l.Size(), l.Size() + 8} {
		if _, err := l.Get(i); err == nil {
			t.Fatalf("Get(%d) of a %d-entry list succeeded", i, l.Size())
		}
	}
	for _, pub := range unrelated {
		if err := s.VerifySignature(pub); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("a fuzzed status list verifies with an unrelated key: %v", err)
		}
	}

	again := *l
	again.Issuer = reissuer.DID
	raw, err := credentials.IssueStatusList(&again, reissuer, testNow)
	// A list is issued valid from now (unless it says), and for
	// DefaultStatusListValidity (unless it says); never already lapsed.
	wantFrom, wantUntil := l.ValidFrom.Truncate(time.Second), l.ValidUntil.Truncate(time.Second)
	if l.ValidFrom.IsZero() {
		wantFrom = testNow
	}
	if l.ValidUntil.IsZero() {
		wantUntil = testNow.Add(credentials.DefaultStatusListValidity)
	}
	if !l.ValidUntil.IsZero() && (!l.ValidUntil.After(testNow) || !l.ValidUntil.After(wantFrom)) {
		if err == nil {
			t.Fatalf("a list valid until %v was issued at %v", l.ValidUntil, testNow)
		}
		return
	}
	if err != nil {
		t.Fatalf("a parsed list cannot be issued again: %v", err)
	}
	back, err := credentials.ParseStatusList(raw)
	if err != nil {
		t.Fatalf("a list issued again does not parse: %v", err)
	}
	if err := back.VerifySignature(reissuer.Public); err != nil {
		t.Fatalf("a list issued again does not verify: %v", err)
	}
	b := back.List
	if b.URL != l.URL || b.Issuer != reissuer.DID || b.Purpose != l.Purpose || !bytes.Equal(b.Bits, l.Bits) || b.TTL != l.TTL ||
		!b.ValidFrom.Equal(wantFrom) || !b.ValidUntil.Equal(wantUntil) || !b.Issued.Equal(testNow) {
		t.Fatalf("issuing again changed the list:\n got %s %s %s ttl %v from %v until %v\nwant %s %s %s ttl %v from %v until %v",
			b.URL, b.Issuer, b.Purpose, b.TTL, b.ValidFrom, b.ValidUntil, l.URL, reissuer.DID, l.Purpose, l.TTL, wantFrom, wantUntil)
	}
}

// FuzzParseStatusList: ParseStatusList never panics on any bytes; its
// errors wrap ErrMalformed or ErrUnsupported; what parses satisfies
// checkStatusList.
func FuzzParseStatusList(f *testing.F) {
	for _, raw := range statusListSeeds(f) {
		f.Add(raw)
	}
	unrelated := unrelatedKeys(f)
	reissuer := statusListKeys(f)[0]
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := credentials.ParseStatusList(raw)
		if err != nil {
			checkParseError(t, err)
			return
		}
		checkStatusList(t, s, unrelated, reissuer)
	})
}

// FuzzStatusListPayload signs fuzzed payload bytes as a status list
// credential, so that the fuzzer works on the JSON rather than on its
// base64url: whatever parses verifies under the signing key and satisfies
// checkStatusList.
func FuzzStatusListPayload(f *testing.F) {
	for _, raw := range statusListSeeds(f) {
		if parts := strings.Split(string(raw), "."); len(parts) == 3 {
			if p, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				f.Add(p)
			}
		}
	}
	k := statusListKeys(f)[0]
	unrelated := unrelatedKeys(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw := signJOSE(t, payload, k, map[string]any{"kid": k.ID, "typ": "vc+jwt"})
		s, err := credentials.ParseStatusList([]byte(raw))
		if err != nil {
			checkParseError(t, err)
			return
		}
		if err := s.VerifySignature(k.Public); err != nil {
			t.Fatalf("a signed status list does not verify: %v", err)
		}
		checkStatusList(t, s, unrelated, k)
	})
}

// FuzzDecodeBitstring: DecodeBitstring never panics, refuses lists out of
// bounds (fewer than MinStatusListSize entries, more than 2 MiB) with
// ErrMalformed, and reverses EncodeBitstring: the fuzzed string, read as
// the bits of a list of valid size, encodes and decodes to itself.
func FuzzDecodeBitstring(f *testing.F) {
	for _, s := range bitstringSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bits, err := credentials.DecodeBitstring(s)
		switch {
		case err != nil && !errors.Is(err, credentials.ErrMalformed):
			t.Fatalf("error does not wrap ErrMalformed: %v", err)
		case err == nil && (len(bits)*8 < credentials.MinStatusListSize || len(bits) > maxStatusListBytes):
			t.Fatalf("decoded a list of %d bytes", len(bits))
		case err == nil && len(bits) <= 64<<10:
			// Larger lists run the same code, and compressing 2 MiB
			// again (6 ms, more under coverage instrumentation) would
			// slow the fuzzer down.
			again, err := credentials.EncodeBitstring(bits)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := credentials.DecodeBitstring(again); err != nil || !bytes.Equal(back, bits) {
				t.Fatalf("a decoded list does not encode and decode to itself: %v", err)
			}
		}

		// The fuzzed bytes as a list: repeated to the smallest size, or
		// as they are when longer.
		x := []byte(s)
		if len(x) > maxStatusListBytes {
			return
		}
		if len(x) < credentials.MinStatusListSize/8 {
			x = make([]byte, credentials.MinStatusListSize/8)
			for i := 0; len(s) > 0 && i < len(x); i += copy(x[i:], s) {
			}
		}
		enc, err := credentials.EncodeBitstring(x)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "+/=") {
			t.Fatalf("EncodeBitstring wrote %.20q, not multibase base64url", enc)
		}
		back, err := credentials.DecodeBitstring(enc)
		if err != nil {
			t.Fatalf("an encoded list of %d bytes does not decode: %v", len(x), err)
		}
		if !bytes.Equal(back, x) {
			t.Fatal("DecodeBitstring(EncodeBitstring(x)) != x")
		}
	})
}
