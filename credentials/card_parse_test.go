package credentials_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
)

// signCOSE signs payload as a COSE_Sign1 with k's Ed25519 key, with the
// given protected and unprotected headers (go-cose adds alg when absent).
func signCOSE(t testing.TB, k *credentials.Key, prot cose.ProtectedHeader, unprot cose.UnprotectedHeader, payload []byte) []byte {
	t.Helper()
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.Sign1Message{Headers: cose.Headers{Protected: prot, Unprotected: unprot}, Payload: payload}
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	out, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// protectedKID is the protected header of k's cards: EdDSA and k's short
// key id.
func protectedKID(k *credentials.Key) cose.ProtectedHeader {
	return cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: k.CardKeyID()}
}

func cborBytes(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawCOSE builds a tagged COSE_Sign1 by hand, with a protected header of
// any shape and a signature of zeros, for headers go-cose will not sign.
func rawCOSE(t testing.TB, prot map[int]any, payload []byte) []byte {
	t.Helper()
	var p []byte
	if prot != nil {
		p = cborBytes(t, prot)
	}
	return cborBytes(t, cbor.Tag{Number: 18, Content: []any{p, map[int]any{}, payload, make([]byte, 64)}})
}

// registrationClaims is a valid registration card's CWT claims as a generic
// map, for tests to break.
func registrationClaims(did string) map[any]any {
	return map[any]any{
		1: did,
		4: 1825113600,
		6: 1793491200,
		169: map[any]any{
			1: "KE-DAD-2026-000123",
			4: "Fatima Hassan Abdi",
			8: "19910314",
			9: 2,
		},
		-65537: map[any]any{
			1: 1,
			2: bytes.Repeat([]byte{7}, 16),
			3: 3,
			4: 94567,
		},
	}
}

func TestParseCardProfile(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	kid := k.CardKeyID()
	prot := func() cose.ProtectedHeader {
		return cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: kid}
	}
	card := func(claims any) []byte { return signCOSE(t, k, prot(), nil, cborBytes(t, claims)) }
	edit := func(f func(m map[any]any)) []byte {
		m := registrationClaims(k.DID)
		f(m)
		return card(m)
	}
	z := func(b []byte) []byte { return zlibBytes(t, b) }
	good := card(registrationClaims(k.DID))

	for _, tc := range []struct {
		name string
		cose []byte // the card's bytes before base45
		want error  // nil: the card parses and verifies
		says string
	}{
		{"zlib", z(good), nil, ""},
		{"uncompressed", good, nil, ""},
		{"untagged", z(good[1:]), nil, ""},
		{"inside a CWT tag", z(append([]byte{0xd8, 0x3d}, good...)), nil, ""},
		{"kid unprotected", z(signCOSE(t, k, cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA},
			cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid}, cborBytes(t, registrationClaims(k.DID)))), nil, ""},
		{"unknown Claim 169 keys", z(edit(func(m map[any]any) {
			id := m[169].(map[any]any)
			id[2] = "1.0"
			id[10] = "New House, Near Metro Line"
			id[62] = []any{map[any]any{0: []byte{1, 2, 3}, 1: 0, 2: 4}}
			id[99] = 12345
		})), nil, ""},
		{"unknown CWT claims", z(edit(func(m map[any]any) { m[2] = "subject"; m[7] = []byte{1} })), nil, ""},

		{"empty", nil, credentials.ErrMalformed, "empty"},
		{"zip bomb", z(append(good, make([]byte, 70<<10)...)), credentials.ErrMalformed, "inflates to more than"},
		{"bytes after zlib", append(z(good), 0), credentials.ErrMalformed, "follow the zlib stream"},
		{"truncated zlib", z(good)[:40], credentials.ErrMalformed, "zlib"},
		{"bytes after COSE", z(append(append([]byte{}, good...), 0)), credentials.ErrMalformed, "COSE"},
		{"neither zlib nor COSE", []byte("hello"), credentials.ErrMalformed, "not a COSE_Sign1"},
		{"not an array", z(cborBytes(t, map[int]int{1: 2})), credentials.ErrMalformed, "not a COSE_Sign1"},
		{"ES384", z(rawCOSE(t, map[int]any{1: -35, 4: kid}, cborBytes(t, registrationClaims(k.DID)))), credentials.ErrUnsupported, "ES384"},
		{"alg as text", z(rawCOSE(t, map[int]any{1: "EdDSA", 4: kid}, cborBytes(t, registrationClaims(k.DID)))), credentials.ErrMalformed, "protected header"},
		{"empty protected header", z(rawCOSE(t, nil, cborBytes(t, registrationClaims(k.DID)))), credentials.ErrMalformed, "protected header"},
		{"duplicate Claim 169 key", z(edit(func(m map[any]any) {
			m[169] = cbor.RawMessage{0xa2, 0x04, 0x61, 'A', 0x04, 0x61, 'B'}
		})), credentials.ErrMalformed, "duplicate"},
		{"duplicate CWT claim", z(card(cbor.RawMessage(append([]byte{0xa6, 0x01, 0x61, 'x'}, cborBytes(t, registrationClaims(k.DID))[1:]...)))), credentials.ErrMalformed, "duplicate"},
		{"indefinite-length map", z(edit(func(m map[any]any) {
			m[169] = cbor.RawMessage{0xbf, 0x04, 0x61, 'A', 0xff}
		})), credentials.ErrMalformed, "indefinite"},
		{"a tag inside", z(edit(func(m map[any]any) { m[4] = cbor.Tag{Number: 1, Content: 1825113600} })), credentials.ErrMalformed, "CWT claims"},
		{"bad UTF-8", z(edit(func(m map[any]any) { m[169].(map[any]any)[4] = cbor.RawMessage{0x62, 0xff, 0xfe} })), credentials.ErrMalformed, "UTF-8"},
		{"no kid", z(signCOSE(t, k, cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}, nil, cborBytes(t, registrationClaims(k.DID)))), credentials.ErrMalformed, "key id"},
		{"critical header", z(signCOSE(t, k, cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: kid, cose.HeaderLabelCritical: []any{int64(99)}, int64(99): 1}, nil, cborBytes(t, registrationClaims(k.DID)))), credentials.ErrUnsupported, "critical"},
		{"claims not a map", z(card([]int{1, 2})), credentials.ErrMalformed, "CWT claims"},
		{"neither a tally claim nor Claim 169", z(edit(func(m map[any]any) { delete(m, -65537); delete(m, 169) })), credentials.ErrMalformed, "no Claim 169 identity"},
		{"no issuer", z(edit(func(m map[any]any) { delete(m, 1) })), credentials.ErrMalformed, "no issuer"},
		{"issuer not text", z(edit(func(m map[any]any) { m[1] = 42 })), credentials.ErrMalformed, "CWT claims"},
		{"exp not a number", z(edit(func(m map[any]any) { m[4] = "2027-11-01" })), credentials.ErrMalformed, "CWT claims"},
		{"exp too large", z(edit(func(m map[any]any) { m[4] = uint64(1) << 63 })), credentials.ErrMalformed, "CWT claims"},
		{"type code 9", z(edit(func(m map[any]any) { m[-65537].(map[any]any)[1] = 9 })), credentials.ErrMalformed, "type code 9"},
		{"gender as text", z(edit(func(m map[any]any) { m[169].(map[any]any)[9] = "female" })), credentials.ErrMalformed, "CWT claims"},
		{"gender 4", z(edit(func(m map[any]any) { m[169].(map[any]any)[9] = 4 })), credentials.ErrMalformed, "gender code"},
		{"date with dashes", z(edit(func(m map[any]any) { m[169].(map[any]any)[8] = "1991-03-14" })), credentials.ErrMalformed, "YYYYMMDD"},
		{"date not a day", z(edit(func(m map[any]any) { m[169].(map[any]any)[8] = "19910231" })), credentials.ErrMalformed, "calendar date"},
		{"date as integer", z(edit(func(m map[any]any) { m[169].(map[any]any)[8] = 19910314 })), credentials.ErrMalformed, "CWT claims"},
		{"name as bytes", z(edit(func(m map[any]any) { m[169].(map[any]any)[4] = []byte("Fatima") })), credentials.ErrMalformed, "CWT claims"},
		{"short seed", z(edit(func(m map[any]any) { m[-65537].(map[any]any)[2] = []byte{1, 2} })), credentials.ErrMalformed, "seed is 2 bytes"},
		{"seed as an array", z(edit(func(m map[any]any) { m[-65537].(map[any]any)[2] = make([]int, 16) })), credentials.ErrMalformed, "byte string"},
		{"list without index", z(edit(func(m map[any]any) { delete(m[-65537].(map[any]any), 4) })), credentials.ErrMalformed, "status index"},
		{"negative index", z(edit(func(m map[any]any) { m[-65537].(map[any]any)[4] = -1 })), credentials.ErrMalformed, "CWT claims"},
		{"Claim 169 not a map", z(edit(func(m map[any]any) { m[169] = []byte{0xa0} })), credentials.ErrMalformed, "CWT claims"},
		{"too deep", z(edit(func(m map[any]any) {
			var v any = 1
			for range 40 {
				v = []any{v}
			}
			m[169].(map[any]any)[99] = v
		})), credentials.ErrMalformed, "CWT claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card, err := credentials.ParseCard([]byte(credentials.Base45Encode(tc.cose)))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if err := card.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

// cardPayload returns the CWT claims of a card text as a generic map.
func cardPayload(t testing.TB, text string) (payload []byte, claims map[any]any) {
	t.Helper()
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(inflateCard(t, text)); err != nil {
		t.Fatal(err)
	}
	if err := cbor.Unmarshal(msg.Payload, &claims); err != nil {
		t.Fatal(err)
	}
	return msg.Payload, claims
}

func TestCardKeepsHighSensitivityOff(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	secrets := []string{"asylum-seeker", "Follow-up of chronic condition"}
	for _, name := range []string{"registration.json", "referral.json"} {
		t.Run(name, func(t *testing.T) {
			c := prepared(t, name, k)
			switch s := c.Subject.(type) {
			case *credentials.Registration:
				if s.Nationality != "SO" || s.LegalStatus != "asylum-seeker" {
					t.Fatal("the sample lost its high-sensitivity claims")
				}
			case *credentials.Referral:
				s.SharedFields["nationality"] = "SO"
				s.SharedFields["legalStatus"] = "asylum-seeker"
				s.Consent.Fields = append(s.Consent.Fields, "nationality", "legalStatus")
				if s.Reason == "" {
					t.Fatal("the sample lost its reason")
				}
			}
			text, err := credentials.IssueCard(c, k, c.ValidFrom)
			if err != nil {
				t.Fatal(err)
			}
			payload, claims := cardPayload(t, text)
			for _, s := range secrets {
				if bytes.Contains(payload, []byte(s)) {
					t.Fatalf("%q is on the card", s)
				}
			}
			id := claims[uint64(169)].(map[any]any)
			for _, key := range []uint64{13, 22} {
				if v, ok := id[key]; ok {
					t.Fatalf("Claim 169 key %d is on the card: %v", key, v)
				}
			}
			for key, v := range id {
				if v == "SO" {
					t.Fatalf("the nationality is on the card under key %v", key)
				}
			}
			card, err := credentials.ParseCard([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			got := mustJSON(t, card.Credential().Subject)
			for _, s := range append(secrets, `"SO"`, `"nationality":`, `"legalStatus":`, `"reason":`) {
				if strings.Contains(got, s) {
					t.Fatalf("the card's credential has %s: %s", s, got)
				}
			}
		})
	}
}

// TestCardClaim169Encoding checks the registration card's Claim 169 map
// against the value encodings of Claim 169 v1.2 (docs/qr-card.md).
func TestCardClaim169Encoding(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	c := prepared(t, "registration.json", k)
	text, err := credentials.IssueCard(c, k, c.ValidFrom)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := cardPayload(t, text)
	want := map[any]any{
		uint64(1): "KE-DAD-2026-000123",
		uint64(4): "Fatima Hassan Abdi",
		uint64(8): "19910314",
		uint64(9): uint64(2),
	}
	if got := claims[uint64(169)]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Claim 169 map = %v, want %v", got, want)
	}
	if claims[uint64(1)] != k.DID || claims[uint64(6)] != uint64(c.ValidFrom.Unix()) || claims[uint64(4)] != uint64(c.ValidUntil.Unix()) {
		t.Fatalf("iss, iat, exp = %v, %v, %v", claims[uint64(1)], claims[uint64(6)], claims[uint64(4)])
	}
	if _, ok := claims[uint64(5)]; ok {
		t.Fatal("nbf is on a card issued when it becomes valid")
	}
	tally := claims[int64(-65537)].(map[any]any)
	if tally[uint64(1)] != uint64(1) || tally[uint64(3)] != uint64(3) || tally[uint64(4)] != uint64(94567) || len(tally[uint64(2)].([]byte)) != 16 || len(tally) != 4 {
		t.Fatalf("tally claim = %v", tally)
	}
}
