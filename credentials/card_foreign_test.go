package credentials_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/adler32"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
)

// foreignIssuer is the https URI of the Claim 169 issuer in these tests.
const foreignIssuer = "https://id.example.gov"

// foreignClaims are a national ID card's CWT claims: every key of the Claim
// 169 v1.2.2 table, and no tally claim.
func foreignClaims() map[any]any {
	return map[any]any{
		1: foreignIssuer,
		4: 1893456000, // 2030-01-01
		5: 1767225600, // 2026-01-01
		6: 1767139200, // 2025-12-31
		169: map[any]any{
			1:  "3918592438",
			2:  "1.0",
			3:  "eng",
			4:  "Amina Yusuf Hassan",
			5:  "Amina",
			6:  "Yusuf",
			7:  "Hassan",
			8:  "19880102",
			9:  2,
			10: "House 12\nBlock C\nGarissa",
			11: "amina@example.org",
			12: "+254700000000",
			13: "KE",
			14: 1,
			15: "Yusuf Hassan",
			16: []byte{0xff, 0xd8, 0xff, 0xe0},
			17: 1,
			18: []any{1, 6},
			19: "أمينة يوسف حسن",
			20: "ara",
			21: "849VCWC8+R9",
			22: "citizen",
			23: "KE",
			50: []any{map[any]any{0: []byte{1, 2}, 1: 1, 2: 1}},
			62: []any{map[any]any{0: []byte{3, 4}, 1: 0, 2: 4, 3: "VendorA"}},
			65: []any{map[any]any{0: []byte{5}, 1: 2, 2: 1}},
		},
	}
}

// foreignClaimsJSON is what the generic view shows of foreignClaims.
const foreignClaimsJSON = `{"address":"House 12\nBlock C\nGarissa","bestQualityFingers":[1,6],"countryOfIssuance":"KE",` +
	`"dateOfBirth":"1988-01-02","email":"amina@example.org","firstName":"Amina","fullName":"Amina Yusuf Hassan",` +
	`"gender":2,"guardian":"Yusuf Hassan","id":"3918592438","language":"eng","lastName":"Hassan","legalStatus":"citizen",` +
	`"locationCode":"849VCWC8+R9","maritalStatus":1,"middleName":"Yusuf","nationality":"KE","phone":"+254700000000",` +
	`"photoFormat":1,"secondaryFullName":"أمينة يوسف حسن","secondaryLanguage":"ara","version":"1.0"}`

// foreignCard signs claims as a Claim 169 card with k, the given headers,
// zlib-compressed, and returns its text.
func foreignCard(t testing.TB, k *credentials.Key, prot cose.ProtectedHeader, unprot cose.UnprotectedHeader, claims any) string {
	t.Helper()
	return credentials.Base45Encode(zlibBytes(t, signCOSE(t, k, prot, unprot, cborBytes(t, claims))))
}

func edDSAHeader() cose.ProtectedHeader {
	return cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}
}

func TestParseForeignCard(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	_, unrelated := fuzzKeys(t)
	raw := signCOSE(t, k, edDSAHeader(), nil, cborBytes(t, foreignClaims()))
	for _, tc := range []struct {
		name string
		text string
		kid  string
	}{
		{"zlib, no kid", credentials.Base45Encode(zlibBytes(t, raw)), ""},
		{"uncompressed", credentials.Base45Encode(raw), ""},
		{"zlib stored", foreignStored(t, raw), ""},
		{"inside a CWT tag", credentials.Base45Encode(append([]byte{0xd8, 0x3d}, raw...)), ""},
		{"text kid, protected", foreignCard(t, k, cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: []byte("k-1101")}, nil, foreignClaims()), "k-1101"},
		{"text kid, unprotected", foreignCard(t, k, edDSAHeader(), cose.UnprotectedHeader{cose.HeaderLabelKeyID: []byte("k-1101")}, foreignClaims()), "k-1101"},
		{"binary kid", foreignCard(t, k, edDSAHeader(), cose.UnprotectedHeader{cose.HeaderLabelKeyID: []byte{0, 1, 0xfe}}, foreignClaims()), "0001fe"},
		{"kid with a space", foreignCard(t, k, edDSAHeader(), cose.UnprotectedHeader{cose.HeaderLabelKeyID: []byte("k 1")}, foreignClaims()), "6b2031"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card, err := credentials.ParseCard([]byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if card.Credential() != nil || card.Issuer() != foreignIssuer || card.KeyID() != tc.kid || card.Algorithm() != credentials.EdDSA {
				t.Fatalf("credential %v, issuer %q, kid %q, alg %s", card.Credential(), card.Issuer(), card.KeyID(), card.Algorithm())
			}
			if err := card.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
			if err := card.VerifySignature(unrelated.Public); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("verifies with an unrelated key: %v", err)
			}
			v := card.View()
			if !slices.Equal(v.Types, []string{"VerifiableCredential", credentials.Claim169Type}) || v.Issuer != foreignIssuer || v.ID != "" ||
				!v.ValidFrom.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !v.ValidUntil.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) ||
				!card.IssuedAt().Equal(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)) || v.Status != nil || v.TokenStatus != nil {
				t.Fatalf("view %+v, iat %v", v, card.IssuedAt())
			}
			if string(v.Claims) != foreignClaimsJSON {
				t.Fatalf("claims\n got %s\nwant %s", v.Claims, foreignClaimsJSON)
			}
			if want := []string{"photo", "rightThumb", "face", "voice"}; !slices.Equal(v.Skipped, want) {
				t.Fatalf("skipped %v, want %v", v.Skipped, want)
			}
			// The view is the caller's to change.
			v.Claims[0], v.Skipped[0], v.Types[0] = 'x', "x", "x"
			if again := card.View(); string(again.Claims) != foreignClaimsJSON || again.Skipped[0] != "photo" || again.Types[0] != "VerifiableCredential" {
				t.Fatal("changing a view changed the card")
			}
		})
	}
}

// foreignStored is raw as zlib with one stored block, the form tally
// writes its own cards in.
func foreignStored(t *testing.T, raw []byte) string {
	n := len(raw)
	z := append([]byte{0x78, 0x01, 0x01, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}, raw...)
	return credentials.Base45Encode(binary.BigEndian.AppendUint32(z, adler32.Checksum(raw)))
}

func TestParseForeignCardClaims(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	claims := func(id map[any]any) map[any]any {
		return map[any]any{1: foreignIssuer, 6: 1767139200, 169: id}
	}
	for _, tc := range []struct {
		name    string
		claims  map[any]any
		json    string   // the view's claims
		skipped []string // the view's Skipped
	}{
		{"nothing but the identity", map[any]any{169: map[any]any{4: "Amina"}}, `{"fullName":"Amina"}`, nil},
		{"an empty identity", claims(map[any]any{}), `{}`, nil},
		{"date with dashes", claims(map[any]any{8: "1988-01-02"}), `{"dateOfBirth":"1988-01-02"}`, nil},
		{"empty fingers", claims(map[any]any{18: []any{}}), `{"bestQualityFingers":[]}`, nil},
		{"codes outside the spec's", claims(map[any]any{9: 7, 14: -1}), `{"gender":7,"maritalStatus":-1}`, nil},
		{"unknown keys", claims(map[any]any{
			30: "reserved", 45: 12345, 70: []byte{1, 2, 3}, 99: true, -3: nil, 0: 1.5, "note": "text key",
			100: map[any]any{1: []any{"a", uint64(math.MaxUint64)}, "b": -1},
		}), `{"unknown":{"-3":null,"0":1.5,"100":{"1":["a",18446744073709551615],"b":-1},"30":"reserved","45":12345,"70":"AQID","99":true,"note":"text key"}}`, nil},
		{"values JSON cannot hold", claims(map[any]any{4: "Amina", 30: math.NaN(), 31: []any{math.Inf(1)}, 32: map[any]any{1: 1, "1": 2}, 33: cbor.SimpleValue(99)}),
			`{"fullName":"Amina"}`, []string{"unknown.30", "unknown.31", "unknown.32", "unknown.33"}},
		{"other CWT claims", func() map[any]any {
			m := claims(map[any]any{4: "Amina"})
			m[2], m[7], m[-70000], m["x"] = "3918592438", []byte{1}, 1, 2
			return m
		}(), `{"fullName":"Amina"}`, []string{"CWT claim -70000", "CWT claim 2 (sub)", "CWT claim 7 (cti)", "CWT claim x"}},
		{"biometrics of any shape", claims(map[any]any{16: "a photo as text", 62: 1, 51: map[any]any{}}), `{}`, []string{"photo", "rightPointerFinger", "face"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card, err := credentials.ParseCard([]byte(foreignCard(t, k, edDSAHeader(), nil, tc.claims)))
			if err != nil {
				t.Fatal(err)
			}
			if err := card.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
			v := card.View()
			if string(v.Claims) != tc.json || !slices.Equal(v.Skipped, tc.skipped) {
				t.Fatalf("claims %s, skipped %q;\nwant %s, %q", v.Claims, v.Skipped, tc.json, tc.skipped)
			}
			if !json.Valid(v.Claims) {
				t.Fatal("claims are not JSON")
			}
		})
	}
}

func TestParseForeignCardRefuses(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	const secret = "Amina" // a claim value no error may quote
	edit := func(f func(m map[any]any)) string {
		m := foreignClaims()
		m[169].(map[any]any)[4] = secret
		f(m)
		return foreignCard(t, k, edDSAHeader(), nil, m)
	}
	id := func(key int, v any) string {
		return edit(func(m map[any]any) { m[169].(map[any]any)[key] = v })
	}
	for _, tc := range []struct {
		name string
		text string
		want error
		says string
	}{
		{"no Claim 169", edit(func(m map[any]any) { delete(m, 169) }), credentials.ErrMalformed, "no Claim 169 identity"},
		{"Claim 169 not a map", edit(func(m map[any]any) { m[169] = []any{secret} }), credentials.ErrMalformed, "CWT claims"},
		{"Claim 169 in a byte string", edit(func(m map[any]any) { m[169] = cborBytes(t, map[int]string{4: secret}) }), credentials.ErrMalformed, "CWT claims"},
		{"name as a number", id(4, 42), credentials.ErrMalformed, "CWT claims"},
		{"name as bytes", id(6, []byte(secret)), credentials.ErrMalformed, "key 6 (middleName)"},
		{"address as a number", id(10, 42), credentials.ErrMalformed, "key 10 (address)"},
		{"gender as text", id(9, "1"), credentials.ErrMalformed, "CWT claims"},
		{"marital status as text", id(14, "married"), credentials.ErrMalformed, "key 14 (maritalStatus)"},
		{"marital status too large", id(14, uint64(math.MaxUint64)), credentials.ErrMalformed, "key 14 (maritalStatus)"},
		{"fingers not a list", id(18, 1), credentials.ErrMalformed, "key 18 (bestQualityFingers)"},
		{"fingers as text", id(18, []any{"1"}), credentials.ErrMalformed, "key 18 (bestQualityFingers)"},
		{"date as a number", id(8, 19880102), credentials.ErrMalformed, "CWT claims"},
		{"date YYYY", id(8, "1988"), credentials.ErrMalformed, "neither YYYYMMDD nor YYYY-MM-DD"},
		{"date YYYY-M-D", id(8, "1988-1-2"), credentials.ErrMalformed, "neither YYYYMMDD nor YYYY-MM-DD"},
		{"date with slashes", id(8, "1988/01/02"), credentials.ErrMalformed, "neither YYYYMMDD nor YYYY-MM-DD"},
		{"date not a day", id(8, "19880231"), credentials.ErrMalformed, "calendar date"},
		{"date not a day, with dashes", id(8, "1988-02-31"), credentials.ErrMalformed, "calendar date"},
		{"key as bytes", edit(func(m map[any]any) { m[169] = cbor.RawMessage{0xa1, 0x41, 0x01, 0x01} }), credentials.ErrMalformed, "CWT claims"},
		{"number and text key alike", edit(func(m map[any]any) { m[169].(map[any]any)[99], m[169].(map[any]any)["99"] = 1, 2 }), credentials.ErrMalformed, "twice"},
		{"iss not text", edit(func(m map[any]any) { m[1] = 42 }), credentials.ErrMalformed, "CWT claims"},
		{"iss with a space", edit(func(m map[any]any) { m[1] = "https://id.example.gov/a b" }), credentials.ErrMalformed, "issuer"},
		{"iss with a new line", edit(func(m map[any]any) { m[1] = "https://id.example.gov\n" }), credentials.ErrMalformed, "issuer"},
		{"iss too long", edit(func(m map[any]any) { m[1] = "https://" + strings.Repeat("a", 600) }), credentials.ErrMalformed, "issuer"},
		{"exp after 9999", edit(func(m map[any]any) { m[4] = int64(253402300800) }), credentials.ErrMalformed, "exp"},
		{"nbf before 1970", edit(func(m map[any]any) { m[5] = -1 }), credentials.ErrMalformed, "nbf"},
		{"iat as a float", edit(func(m map[any]any) { m[6] = 1767139200.5 }), credentials.ErrMalformed, "CWT claims"},
		{"too many keys", edit(func(m map[any]any) {
			for i := range 300 {
				m[169].(map[any]any)[1000+i] = i
			}
		}), credentials.ErrMalformed, "CWT claims"},
		{"too deep", id(99, func() any {
			var v any = secret
			for range 20 {
				v = []any{v}
			}
			return v
		}()), credentials.ErrMalformed, "CWT claims"},
		{"too large", id(99, bytes.Repeat([]byte{'a'}, 70<<10)), credentials.ErrMalformed, "inflates to more than"},
		{"kid too long", foreignCard(t, k, edDSAHeader(), cose.UnprotectedHeader{cose.HeaderLabelKeyID: make([]byte, 65)}, foreignClaims()), credentials.ErrMalformed, "longer than 64"},
		{"ES256K", credentials.Base45Encode(rawCOSE(t, map[int]any{1: -47}, cborBytes(t, foreignClaims()))), credentials.ErrUnsupported, "algorithm"},
		{"COSE_Encrypt0", credentials.Base45Encode(cborBytes(t, cbor.Tag{Number: 16, Content: []any{[]byte{0xa1, 0x01, 0x03}, map[int]any{5: make([]byte, 12)}, make([]byte, 40)}})), credentials.ErrUnsupported, "encrypted"},
		{"COSE_Encrypt", credentials.Base45Encode(cborBytes(t, cbor.Tag{Number: 96, Content: []any{[]byte{}, map[int]any{}, []byte{1}, []any{}}})), credentials.ErrUnsupported, "encrypted"},
		{"COSE_Mac0", credentials.Base45Encode(cborBytes(t, cbor.Tag{Number: 17, Content: []any{[]byte{}, map[int]any{}, []byte{1}, []byte{2}}})), credentials.ErrUnsupported, "MAC"},
		{"COSE_Sign", credentials.Base45Encode(cborBytes(t, cbor.Tag{Number: 98, Content: []any{[]byte{}, map[int]any{}, []byte{1}, []any{}}})), credentials.ErrUnsupported, "several signatures"},
		{"neither zlib nor COSE", credentials.Base45Encode([]byte{0xde, 0xad, 0xbe, 0xef}), credentials.ErrMalformed, "not zlib"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := credentials.ParseCard([]byte(tc.text))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.want, tc.says)
			}
			for _, v := range []string{secret, "1988", "married", "18446744073709551615"} {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("the error quotes a claim value: %v", err)
				}
			}
		})
	}
}
