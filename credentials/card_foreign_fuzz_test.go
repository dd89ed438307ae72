package credentials_test

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"encoding/json"
	"flag"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
)

// updateForeignSeeds rewrites the seeds the Claim 169 test vectors give the
// card fuzz targets: go test ./credentials -run TestForeignCardFuzzSeeds -update-foreign-seeds
var updateForeignSeeds = flag.Bool("update-foreign-seeds", false, "rewrite the card fuzz targets' seeds from the Claim 169 test vectors")

// vectorParts are the layers of the Claim 169 test vectors that reach a
// COSE_Sign1: its bytes, its payload, and the Claim 169 map in it, by
// vector name.
type vectorParts struct {
	name                    string
	cose, payload, identity []byte
}

func claim169VectorParts(t testing.TB) []vectorParts {
	t.Helper()
	var out []vectorParts
	for _, v := range claim169Vectors(t) {
		z, err := credentials.Base45Decode(v.QR)
		if err != nil {
			continue
		}
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			continue
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			continue
		}
		p := vectorParts{name: v.Name, cose: raw}
		// go-cose refuses the vectors' empty signatures: take the
		// COSE_Sign1 (tag 18) apart by hand.
		var tag cbor.RawTag
		var parts []cbor.RawMessage
		if cbor.Unmarshal(raw, &tag) == nil && tag.Number == 18 && cbor.Unmarshal(tag.Content, &parts) == nil && len(parts) == 4 &&
			cbor.Unmarshal(parts[2], &p.payload) == nil {
			var claims map[int]cbor.RawMessage
			if cbor.Unmarshal(p.payload, &claims) == nil {
				p.identity = claims[169]
			}
		}
		out = append(out, p)
	}
	return out
}

func vectorCOSE(t testing.TB) (out [][]byte) {
	for _, p := range claim169VectorParts(t) {
		out = append(out, p.cose)
	}
	return out
}

func vectorPayloads(t testing.TB) (out [][]byte) {
	for _, p := range claim169VectorParts(t) {
		if p.payload != nil {
			out = append(out, p.payload)
		}
	}
	return out
}

// checkForeignCard holds the invariants of a Claim 169 card of another
// issuer that ParseCard accepts: its view has the Claim 169 types and the
// card's issuer, claims that are a JSON object with dates as YYYY-MM-DD,
// and times JSON can write.
func checkForeignCard(t *testing.T, card *credentials.Card) {
	t.Helper()
	v := card.View()
	if !slices.Equal(v.Types, []string{"VerifiableCredential", credentials.Claim169Type}) || v.Issuer != card.Issuer() {
		t.Fatalf("foreign card view: types %v, issuer %q (card %q)", v.Types, v.Issuer, card.Issuer())
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(v.Claims, &claims); err != nil || claims == nil {
		t.Fatalf("foreign card claims are not a JSON object: %v: %s", err, v.Claims)
	}
	if dob, ok := claims["dateOfBirth"]; ok {
		var s string
		if err := json.Unmarshal(dob, &s); err != nil {
			t.Fatalf("dateOfBirth %s is not text", dob)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			t.Fatalf("dateOfBirth is not YYYY-MM-DD: %v", err)
		}
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("a foreign card's view does not encode: %v", err)
	}
}

// sortedCBOR encodes v with map keys sorted, the same bytes every time.
func sortedCBOR(t testing.TB, v any) []byte {
	t.Helper()
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzForeignCard signs a fuzzed Claim 169 map, with a fuzzed kid, as a
// card of another issuer: whatever parses is a foreign card that verifies,
// reads the same every time, and satisfies checkParsedCard.
func FuzzForeignCard(f *testing.F) {
	for _, p := range claim169VectorParts(f) {
		if p.identity != nil {
			f.Add(p.identity, []byte(nil))
		}
	}
	f.Add(sortedCBOR(f, foreignClaims()[169]), []byte("k-1101"))
	k, unrelated := fuzzKeys(f)
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.Signer)
	if err != nil {
		f.Fatal(err)
	}
	head := cborBytes(f, map[int]any{1: foreignIssuer, 6: 1767139200})
	f.Fuzz(func(t *testing.T, identity, kid []byte) {
		// {1: iss, 6: iat, 169: identity}: the two-pair map head becomes
		// a three-pair one.
		payload := append([]byte{0xa3}, head[1:]...)
		payload = append(append(payload, 0x18, 0xa9), identity...)
		msg := cose.Sign1Message{Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}}, Payload: payload}
		if len(kid) > 0 {
			msg.Headers.Unprotected = cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid}
		}
		if err := msg.Sign(rand.Reader, nil, signer); err != nil {
			t.Fatal(err)
		}
		raw, err := msg.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		text := []byte(credentials.Base45Encode(raw))
		card, err := credentials.ParseCard(text)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if card.Credential() != nil {
			t.Fatal("a card without tally's claim gave a tally credential")
		}
		if err := card.VerifySignature(k.Public); err != nil {
			t.Fatalf("a signed foreign card does not verify: %v", err)
		}
		if (card.KeyID() == "") != (len(kid) == 0) {
			t.Fatalf("kid %x gave KeyID %q", kid, card.KeyID())
		}
		checkParsedCard(t, card, unrelated)
		again, err := credentials.ParseCard(text)
		if err != nil {
			t.Fatalf("the same card parses once, not twice: %v", err)
		}
		a, b := card.View(), again.View()
		if !bytes.Equal(a.Claims, b.Claims) || !slices.Equal(a.Skipped, b.Skipped) {
			t.Fatalf("the same card reads two ways:\n%s %q\n%s %q", a.Claims, a.Skipped, b.Claims, b.Skipped)
		}
	})
}

// TestForeignCardFuzzSeeds keeps the seeds the Claim 169 test vectors give
// the card fuzz targets in testdata/fuzz (written with
// -update-foreign-seeds, checked otherwise).
func TestForeignCardFuzzSeeds(t *testing.T) {
	corpora := map[string]map[string]fuzzSeed{}
	add := func(target, name string, seed fuzzSeed) {
		if corpora[target] == nil {
			corpora[target] = map[string]fuzzSeed{}
		}
		corpora[target][name] = seed
	}
	for _, v := range claim169Vectors(t) {
		add("FuzzParseCard", "claim169-"+v.Name, fuzzSeed{[]byte(v.QR)})
	}
	for _, p := range claim169VectorParts(t) {
		add("FuzzCardCOSE", "claim169-"+p.name, fuzzSeed{p.cose})
		if p.payload != nil {
			add("FuzzCardCWT", "claim169-"+p.name, fuzzSeed{p.payload})
		}
		if p.identity != nil {
			add("FuzzForeignCard", p.name, fuzzSeed{p.identity, []byte{}})
		}
	}
	add("FuzzForeignCard", "every-key-kid", fuzzSeed{sortedCBOR(t, foreignClaims()[169]), []byte("k-1101")})
	for target, seeds := range corpora {
		fuzzCorpus(t, target, *updateForeignSeeds, "update-foreign-seeds", seeds)
	}
}
