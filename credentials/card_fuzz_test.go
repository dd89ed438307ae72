package credentials_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
)

// updateCardSeeds rewrites the seed corpora of the card fuzz targets in
// testdata/fuzz: go test ./credentials -run TestCardFuzzSeeds -update-card-seeds
var updateCardSeeds = flag.Bool("update-card-seeds", false, "rewrite the card fuzz targets' seed corpora in testdata/fuzz")

// fuzzKeys are the issuer whose cards seed the fuzz targets and an
// unrelated key that must never verify anything the fuzzer makes.
func fuzzKeys(t testing.TB) (issuer, unrelated *credentials.Key) {
	other, err := credentials.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x55}, ed25519.SeedSize)), "")
	if err != nil {
		t.Fatal(err)
	}
	return testKey(t, credentials.EdDSA, "did:web:dadaab.example.org"), other
}

// fuzzCards are the sample cards of the fuzz key, as text.
func fuzzCards(t testing.TB) []string {
	k, _ := fuzzKeys(t)
	var out []string
	for _, name := range samples {
		c := prepared(t, name, k)
		text, err := credentials.IssueCard(c, k, c.ValidFrom)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, text)
	}
	// A referral that passes on every kind of shared field.
	c := prepared(t, "referral.json", k)
	r := c.Subject.(*credentials.Referral)
	for name, v := range map[string]string{"gender": "female", "programme": "MPCA-2026", "householdSize": "5", "locationCode": "KE-DADAAB-HSP1", "firstName": "Fatima", "lastName": "Abdi"} {
		r.SharedFields[name] = v
		r.Consent.Fields = append(r.Consent.Fields, name)
	}
	text, err := credentials.IssueCard(c, k, c.ValidFrom)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, text)
}

// checkParsedCard holds the invariants of anything ParseCard accepts: it
// never verifies with an unrelated key; and when its credential is valid,
// issuing it again as a card and parsing that gives the same credential.
func checkParsedCard(t *testing.T, card *credentials.Card, unrelated *credentials.Key) {
	if err := card.VerifySignature(unrelated.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("a fuzzed card verifies with an unrelated key: %v", err)
	}
	if card.Credential() == nil {
		checkForeignCard(t, card)
		return
	}
	c := *card.Credential()
	if c.Validate() != nil || c.ValidFrom.IsZero() {
		return
	}
	k, _ := fuzzKeys(t)
	c.Issuer = k.DID
	text, err := credentials.IssueCard(&c, k, c.ValidFrom)
	if err != nil {
		t.Fatalf("a parsed, valid card credential cannot be issued again: %v\n%s", err, mustJSON(t, &c))
	}
	again, err := credentials.ParseCard([]byte(text))
	if err != nil {
		t.Fatalf("a card issued again does not parse: %v", err)
	}
	if got, want := mustJSON(t, again.Credential()), mustJSON(t, &c); got != want {
		t.Fatalf("issuing again changed the credential:\n got %s\nwant %s", got, want)
	}
}

func FuzzParseCard(f *testing.F) {
	for _, text := range fuzzCards(f) {
		f.Add([]byte(text))
		f.Add([]byte(text[:len(text)/2]))
	}
	for _, v := range claim169Vectors(f) {
		f.Add([]byte(v.QR))
	}
	f.Add([]byte("NCFOXN%TS3DH0YOJ58S S"))
	_, unrelated := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, text []byte) {
		card, err := credentials.ParseCard(text)
		if err != nil {
			checkParseError(t, err)
			return
		}
		checkParsedCard(t, card, unrelated)
	})
}

// FuzzCardCOSE feeds raw, uncompressed COSE bytes to the card parser, and
// checks it against go-cose: a signature the card parser accepts, go-cose
// accepts too.
func FuzzCardCOSE(f *testing.F) {
	for _, text := range fuzzCards(f) {
		f.Add(inflateCard(f, text))
	}
	for _, raw := range vectorCOSE(f) {
		f.Add(raw)
	}
	k, unrelated := fuzzKeys(f)
	verifier, err := cose.NewVerifier(cose.AlgorithmEdDSA, k.Public)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		card, err := credentials.ParseCard([]byte(credentials.Base45Encode(raw)))
		if err != nil {
			checkParseError(t, err)
			return
		}
		checkParsedCard(t, card, unrelated)
		if card.VerifySignature(k.Public) != nil {
			return
		}
		var msg cose.Sign1Message
		body := raw
		if len(body) > 2 && body[0] == 0xd8 && body[1] == 0x3d {
			body = body[2:]
		}
		if body[0] == 0xd2 {
			err = msg.UnmarshalCBOR(body)
		} else {
			err = (*cose.UntaggedSign1Message)(&msg).UnmarshalCBOR(body)
		}
		if err == nil {
			err = msg.Verify(nil, verifier)
		}
		if err != nil {
			t.Fatalf("the card parser accepts a signature go-cose refuses: %v", err)
		}
	})
}

// FuzzCardCWT signs fuzzed CWT claims bytes as a card: whatever parses must
// verify, and satisfy checkParsedCard.
func FuzzCardCWT(f *testing.F) {
	for _, text := range fuzzCards(f) {
		payload, _ := cardPayload(f, text)
		f.Add(payload)
	}
	f.Add(cborBytes(f, registrationClaims("did:web:dadaab.example.org")))
	for _, payload := range vectorPayloads(f) {
		f.Add(payload)
	}
	k, unrelated := fuzzKeys(f)
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.Signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		msg := cose.Sign1Message{
			Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA, cose.HeaderLabelKeyID: k.CardKeyID()}},
			Payload: payload,
		}
		if err := msg.Sign(rand.Reader, nil, signer); err != nil {
			t.Fatal(err)
		}
		raw, err := msg.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		card, err := credentials.ParseCard([]byte(credentials.Base45Encode(raw)))
		if err != nil {
			checkParseError(t, err)
			return
		}
		if err := card.VerifySignature(k.Public); err != nil {
			t.Fatalf("a signed card does not verify: %v", err)
		}
		checkParsedCard(t, card, unrelated)
	})
}

// TestCardFuzzSeeds writes the seed corpora of the card and base45 fuzz
// targets when run with -update-card-seeds, and otherwise checks that they
// are there.
func TestCardFuzzSeeds(t *testing.T) {
	cards := fuzzCards(t)
	corpora := map[string][]string{}
	for i, text := range cards {
		corpora["FuzzParseCard"] = append(corpora["FuzzParseCard"], fmt.Sprintf("[]byte(%q)", text))
		corpora["FuzzCardCOSE"] = append(corpora["FuzzCardCOSE"], fmt.Sprintf("[]byte(%q)", inflateCard(t, text)))
		payload, _ := cardPayload(t, text)
		corpora["FuzzCardCWT"] = append(corpora["FuzzCardCWT"], fmt.Sprintf("[]byte(%q)", payload))
		if i == 0 {
			corpora["FuzzBase45Decode"] = append(corpora["FuzzBase45Decode"], fmt.Sprintf("string(%q)", text))
		}
	}
	corpora["FuzzParseCard"] = append(corpora["FuzzParseCard"], fmt.Sprintf("[]byte(%q)", cards[0][:100]))
	corpora["FuzzBase45Decode"] = append(corpora["FuzzBase45Decode"],
		`string("%69 VD92EX0")`, `string("GGW")`, `string("BB8B")`, `string("U5")`)
	for name, seeds := range corpora {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*updateCardSeeds {
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) == 0 {
				t.Errorf("no seed corpus in %s: run with -update-card-seeds", dir)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			data := "go test fuzz v1\n" + s + "\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
