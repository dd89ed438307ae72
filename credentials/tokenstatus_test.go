package credentials_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// The seed corpus of FuzzParseTokenStatusList lives in
// testdata/fuzz/FuzzParseTokenStatusList/. Refresh it with
//
//	go test ./credentials -run TestTokenStatusListFuzzCorpus -update-tokenstatus-fuzz
var updateTokenStatusFuzz = flag.Bool("update-tokenstatus-fuzz", false, "rewrite the seed corpus of FuzzParseTokenStatusList")

const tokenListURI = "https://dadaab.example.org/status/token/3"

// The examples of draft-ietf-oauth-status-list, section 4.1 and 4.2: the
// statuses, the byte array, and its lst.
func TestTokenStatusListSpecExamples(t *testing.T) {
	for _, tc := range []struct {
		bits     int
		statuses []credentials.TokenStatus
		bytes    []byte
		lst      string
	}{
		{1, []credentials.TokenStatus{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, []byte{0xb9, 0xa3}, "eNrbuRgAAhcBXQ"},
		{2, []credentials.TokenStatus{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3}, []byte{0xc9, 0x44, 0xf9}, "eNo76fITAAPfAgc"},
	} {
		decoded, err := credentials.DecodeTokenStatuses(tc.lst)
		if err != nil || !bytes.Equal(decoded, tc.bytes) {
			t.Fatalf("bits %d: %s decodes to %x (%v), want %x", tc.bits, tc.lst, decoded, err, tc.bytes)
		}
		read := &credentials.TokenStatusList{Bits: tc.bits, Statuses: decoded}
		written := &credentials.TokenStatusList{Bits: tc.bits, Statuses: make([]byte, len(tc.bytes))}
		for i, want := range tc.statuses {
			if got, err := read.Get(i); err != nil || got != want {
				t.Fatalf("bits %d: status[%d] = %v (%v), want %v", tc.bits, i, got, err, want)
			}
			if err := written.Set(i, want); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(written.Statuses, tc.bytes) {
			t.Fatalf("bits %d: Set writes %x, want %x", tc.bits, written.Statuses, tc.bytes)
		}
		lst, err := credentials.EncodeTokenStatuses(tc.bytes)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := credentials.DecodeTokenStatuses(lst); err != nil || !bytes.Equal(again, tc.bytes) || !strings.HasPrefix(lst, "eN") {
			t.Fatalf("bits %d: %s does not round-trip as ZLIB at best compression: %x %v", tc.bits, lst, again, err)
		}
	}
	one := &credentials.TokenStatusList{Bits: 1, Statuses: []byte{0}}
	if err := one.Set(0, credentials.TokenSuspended); err == nil {
		t.Fatal("SUSPENDED was set in a 1-bit list")
	}
	if _, err := one.Get(8); err == nil {
		t.Fatal("Get read past the end")
	}
}

// A Token Status List made from a revocation and a suspension list: INVALID
// where revoked (whether suspended or not), SUSPENDED where only suspended.
func TestTokenStatusListOf(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	rev, _ := credentials.NewStatusList(statusListURL, k.DID, credentials.PurposeRevocation, credentials.MinStatusListSize)
	susp, _ := credentials.NewStatusList(strings.Replace(statusListURL, "revocation", "suspension", 1), k.DID, credentials.PurposeSuspension, credentials.MinStatusListSize)
	for _, i := range []int{5, 9, credentials.MinStatusListSize - 1} {
		_ = rev.Set(i, true)
	}
	for _, i := range []int{7, 9, 0} {
		_ = susp.Set(i, true)
	}
	rev.TTL, susp.TTL = 10*time.Minute, 5*time.Minute
	l, err := credentials.TokenStatusListOf(tokenListURI, rev, susp)
	if err != nil {
		t.Fatal(err)
	}
	if l.Bits != 2 || l.Size() != credentials.MinStatusListSize || l.Issuer != k.DID || l.TTL != 5*time.Minute {
		t.Fatalf("list: bits %d size %d issuer %s ttl %v", l.Bits, l.Size(), l.Issuer, l.TTL)
	}
	want := map[int]credentials.TokenStatus{0: credentials.TokenSuspended, 5: credentials.TokenInvalid, 7: credentials.TokenSuspended,
		9: credentials.TokenInvalid, credentials.MinStatusListSize - 1: credentials.TokenInvalid}
	for _, i := range []int{0, 1, 5, 6, 7, 8, 9, 94567, credentials.MinStatusListSize - 1} {
		if got, _ := l.Get(i); got != want[i] {
			t.Fatalf("status[%d] = %v, want %v", i, got, want[i])
		}
	}
	other, _ := credentials.NewStatusList(statusListURL, k.DID, credentials.PurposeSuspension, 2*credentials.MinStatusListSize)
	for name, pair := range map[string][2]*credentials.StatusList{
		"sizes differ":     {rev, other},
		"purposes swapped": {susp, rev},
		"no suspension":    {rev, nil},
	} {
		if _, err := credentials.TokenStatusListOf(tokenListURI, pair[0], pair[1]); err == nil {
			t.Fatalf("%s: made a list", name)
		}
	}
}

func issueTokenList(t testing.TB, k *credentials.Key, bits int, set map[int]credentials.TokenStatus) []byte {
	t.Helper()
	l, err := credentials.NewTokenStatusList(tokenListURI, k.DID, bits, credentials.MinStatusListSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range set {
		if err := l.Set(i, s); err != nil {
			t.Fatal(err)
		}
	}
	l.TTL = 5 * time.Minute
	raw, err := credentials.IssueTokenStatusList(l, k, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestIssueAndParseTokenStatusList(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			k := newIssuerKey(t, alg, "")
			raw := issueTokenList(t, k, 2, map[int]credentials.TokenStatus{94567: credentials.TokenInvalid, 3: credentials.TokenSuspended})
			if !credentials.IsTokenStatusList(raw) {
				t.Fatal("IsTokenStatusList does not know its own list")
			}
			parts := strings.Split(string(raw), ".")
			h, p := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
			sl, _ := p["status_list"].(map[string]any)
			if h["typ"] != credentials.TokenStatusListType || h["kid"] != k.ID || p["sub"] != tokenListURI || p["iss"] != k.DID ||
				p["iat"] != float64(testNow.Unix()) || p["exp"] != float64(testNow.Add(credentials.DefaultStatusListValidity).Unix()) ||
				p["ttl"] != float64(300) || sl["bits"] != float64(2) || !strings.HasPrefix(sl["lst"].(string), "eN") {
				t.Fatalf("header %v\npayload %v", h, p)
			}
			s, err := credentials.ParseTokenStatusList(raw)
			if err != nil {
				t.Fatal(err)
			}
			l := s.List
			if s.KeyID != k.ID || l.URI != tokenListURI || l.Issuer != k.DID || !l.Issued.Equal(testNow) || l.TTL != 5*time.Minute ||
				!l.Expires.Equal(testNow.Add(credentials.DefaultStatusListValidity)) || l.Size() != credentials.MinStatusListSize {
				t.Fatalf("parsed %+v", l)
			}
			for i, want := range map[int]credentials.TokenStatus{94567: credentials.TokenInvalid, 3: credentials.TokenSuspended, 4: credentials.TokenValid} {
				if got, _ := l.Get(i); got != want {
					t.Fatalf("status[%d] = %v, want %v", i, got, want)
				}
			}
			if err := s.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifySignature(newIssuerKey(t, alg, "").Public); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("another key: %v", err)
			}
		})
	}
}

// editTokenList re-signs the payload of a Status List Token after edit.
func editTokenList(t testing.TB, raw []byte, k *credentials.Key, header map[string]any, edit func(p, sl map[string]any)) []byte {
	t.Helper()
	p := jwsPayload(t, raw)
	edit(p, p["status_list"].(map[string]any))
	if header == nil {
		header = map[string]any{"kid": k.ID, "typ": credentials.TokenStatusListType}
	}
	return []byte(signJOSE(t, p, k, header))
}

// tokenListSeeds are Status List Tokens, good and broken, for the tests
// and the fuzz target, signed by a key that is the same in every run.
func tokenListSeeds(t testing.TB) map[string][]byte {
	k, err := credentials.NewKey(seedKey(t, "token-status-list", nil), "did:web:dadaab.example.org")
	if err != nil {
		t.Fatal(err)
	}
	good := issueTokenList(t, k, 2, map[int]credentials.TokenStatus{94567: credentials.TokenInvalid, 7: credentials.TokenSuspended})
	one := issueTokenList(t, k, 1, map[int]credentials.TokenStatus{0: credentials.TokenInvalid})
	edit := func(edit func(p, sl map[string]any)) []byte { return editTokenList(t, good, k, nil, edit) }
	return map[string][]byte{
		"bits-2":       good,
		"bits-1":       one,
		"spec-example": edit(func(p, sl map[string]any) { sl["bits"], sl["lst"] = 1, "eNrbuRgAAhcBXQ"; delete(p, "iss") }),
		"bits-8":       edit(func(_, sl map[string]any) { sl["bits"] = 8 }),
		"bits-3":       edit(func(_, sl map[string]any) { sl["bits"] = 3 }),
		"no-sub":       edit(func(p, _ map[string]any) { delete(p, "sub") }),
		"no-iat":       edit(func(p, _ map[string]any) { delete(p, "iat") }),
		"ttl-zero":     edit(func(p, _ map[string]any) { p["ttl"] = 0 }),
		"ttl-negative": edit(func(p, _ map[string]any) { p["ttl"] = -300 }),
		"ttl-huge":     edit(func(p, _ map[string]any) { p["ttl"] = 1e300 }),
		"exp-before":   edit(func(p, _ map[string]any) { p["exp"] = testNow.Add(-time.Hour).Unix() }),
		"lst-gzip":     edit(func(_, sl map[string]any) { sl["lst"] = compressed(t, true, []byte{0, 0}) }),
		"lst-not-b64":  edit(func(_, sl map[string]any) { sl["lst"] = "eN+/" }),
		"lst-empty":    edit(func(_, sl map[string]any) { sl["lst"] = compressed(t, false, nil) }),
		"no-list":      edit(func(p, _ map[string]any) { delete(p, "status_list") }),
		"typ-jwt":      editTokenList(t, good, k, map[string]any{"kid": k.ID, "typ": "JWT"}, func(_, _ map[string]any) {}),
	}
}

// compressed is data compressed with GZIP (gz) or ZLIB, base64url.
func compressed(t testing.TB, gz bool, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if gz {
		w = gzip.NewWriter(&buf)
	} else {
		w = zlib.NewWriter(&buf)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestParseTokenStatusListRejects(t *testing.T) {
	seeds := tokenListSeeds(t)
	for name, want := range map[string]string{
		"bits-3": "bits", "no-sub": "sub", "no-iat": "iat", "ttl-zero": "ttl", "ttl-negative": "ttl", "ttl-huge": "ttl",
		"exp-before": "expires", "lst-gzip": "ZLIB", "lst-not-b64": "base64url", "lst-empty": "empty", "no-list": "status_list", "typ-jwt": "typ",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := credentials.ParseTokenStatusList(seeds[name])
			if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, want)
			}
		})
	}
	for _, name := range []string{"bits-2", "bits-1", "spec-example", "bits-8"} {
		if _, err := credentials.ParseTokenStatusList(seeds[name]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	s, _ := credentials.ParseTokenStatusList(seeds["spec-example"])
	if got, _ := s.List.Get(0); got != credentials.TokenInvalid || s.List.Issuer != "" {
		t.Fatalf("the spec's example: status[0] = %v, issuer %q", got, s.List.Issuer)
	}
	if credentials.IsTokenStatusList(seeds["typ-jwt"]) || credentials.IsTokenStatusList(issueList(t, statusListKeys(t)[0], credentials.PurposeRevocation, credentials.MinStatusListSize)) {
		t.Fatal("IsTokenStatusList takes another JWT for a Status List Token")
	}
}

// tally's SD-JWT VCs carry, beside credentialStatus, the Token Status List
// reference of the same status record; ParseSDJWT reads it into the view.
func TestSDJWTTokenStatus(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	issued, err := credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := decodeSegment(t, strings.Split(issued, ".")[1])
	want := map[string]any{"status_list": map[string]any{"idx": float64(94567), "uri": "https://dadaab.example.org/status/token/3"}}
	if mustJSON(t, p["status"]) != mustJSON(t, want) || p["credentialStatus"] == nil {
		t.Fatalf("status claim %v", p["status"])
	}
	s, err := credentials.ParseSDJWT([]byte(issued))
	if err != nil {
		t.Fatal(err)
	}
	ref := s.TokenStatus()
	if ref == nil || ref.Index != 94567 || ref.URI != "https://dadaab.example.org/status/token/3" {
		t.Fatalf("TokenStatus() = %+v", ref)
	}
	if v := s.View(); v.TokenStatus == nil || *v.TokenStatus != *ref || len(v.Status) != 2 {
		t.Fatalf("View().TokenStatus = %+v", v.TokenStatus)
	}

	// Relative entries (a card's) name no base: no status claim.
	c.Status = credentials.StatusEntries("", 3, 94567)
	issued, err = credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeSegment(t, strings.Split(issued, ".")[1]); p["status"] != nil {
		t.Fatalf("a status claim for relative entries: %v", p["status"])
	}
	if s, err := credentials.ParseSDJWT([]byte(issued)); err != nil || s.TokenStatus() != nil || s.View().TokenStatus != nil {
		t.Fatalf("no status claim: %v %+v", err, s.TokenStatus())
	}
}

func TestTokenStatusListFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, raw := range tokenListSeeds(t) {
		corpus[name] = fuzzSeed{raw}
	}
	fuzzCorpus(t, "FuzzParseTokenStatusList", *updateTokenStatusFuzz, "update-tokenstatus-fuzz", corpus)
}

// FuzzParseTokenStatusList: ParseTokenStatusList never panics; its errors
// wrap ErrMalformed or ErrUnsupported; a list that parses has 1, 2, 4 or 8
// bits, reads every index in range and none outside, and verifies under no
// unrelated key.
func FuzzParseTokenStatusList(f *testing.F) {
	for _, raw := range tokenListSeeds(f) {
		f.Add(raw)
	}
	unrelated := unrelatedKeys(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := credentials.ParseTokenStatusList(raw)
		if err != nil {
			checkParseError(t, err)
			return
		}
		l := s.List
		if l.Bits != 1 && l.Bits != 2 && l.Bits != 4 && l.Bits != 8 || l.Size() == 0 || l.URI == "" || l.Issued.IsZero() || l.TTL < 0 {
			t.Fatalf("parsed a list with bits %d, size %d, uri %q, issued %v, ttl %v", l.Bits, l.Size(), l.URI, l.Issued, l.TTL)
		}
		for _, i := range []int{0, l.Size() / 2, l.Size() - 1} {
			if st, err := l.Get(i); err != nil || int(st) >= 1<<l.Bits {
				t.Fatalf("Get(%d) = %v, %v", i, st, err)
			}
		}
		if _, err := l.Get(l.Size()); err == nil {
			t.Fatal("Get read past the end")
		}
		for _, pub := range unrelated {
			if err := s.VerifySignature(pub); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("a fuzzed list verifies with an unrelated key: %v", err)
			}
		}
	})
}
