package credentials_test

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/qrtest"
)

// TestQRVersionAlphanumeric confirms that base45 text is put in the QR
// code's alphanumeric mode: version 13 at level Q holds exactly 352
// alphanumeric characters (it would hold only 241 in byte mode).
func TestQRVersionAlphanumeric(t *testing.T) {
	for _, tc := range []struct {
		n, version int
	}{
		{1, 1}, {352, 13}, {353, 14},
	} {
		text := strings.Repeat("A$", tc.n)[:tc.n]
		v, err := credentials.QRVersion(text)
		if err != nil || v != tc.version {
			t.Fatalf("QRVersion(%d characters) = %d, %v, want %d", tc.n, v, err, tc.version)
		}
	}
	// One character outside the alphanumeric set forces byte mode.
	if v, _ := credentials.QRVersion("a" + strings.Repeat("A", 351)); v <= 13 {
		t.Fatalf("352 characters in byte mode fit version %d", v)
	}
	if _, err := credentials.QRVersion(strings.Repeat("A", 5000)); err == nil {
		t.Fatal("5,000 characters fit a QR code")
	}
}

// cardSize is one measured card.
type cardSize struct {
	issuer, sample    string
	chars, zlib, cose int
	version           int
}

func measureCards(t *testing.T) []cardSize {
	var out []cardSize
	for _, k := range issuers(t)[:2] {
		for _, name := range samples {
			c := prepared(t, name, k)
			text, err := credentials.IssueCard(c, k, c.ValidFrom)
			if err != nil {
				t.Fatal(err)
			}
			v, err := credentials.QRVersion(text)
			if err != nil {
				t.Fatal(err)
			}
			z, _ := credentials.Base45Decode(text)
			out = append(out, cardSize{keyName(k), strings.TrimSuffix(name, ".json"), len(text), len(z), len(inflateCard(t, text)), v})
		}
	}
	return out
}

// TestCardSizeBudget holds the registration card to QR version 13 at level
// Q (DESIGN.md), for did:web and did:key issuers alike, and the other cards
// to their present sizes, so that no card grows unnoticed. (The referral
// card grew by its 16-byte id, CWT claim 7, which the receiving
// organisation records it by: the sample, with all nine fields shared,
// went from version 17 to 18.)
func TestCardSizeBudget(t *testing.T) {
	limits := map[string]int{
		"EdDSA/did:web registration": credentials.CardQRMaxVersion,
		"EdDSA/did:web eligibility":  13,
		"EdDSA/did:web referral":     18,
		"EdDSA/did:key registration": credentials.CardQRMaxVersion,
		"EdDSA/did:key eligibility":  13,
		"EdDSA/did:key referral":     18,
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-14s %-13s %6s %5s %5s %8s\n", "issuer", "card", "chars", "zlib", "COSE", "QR (Q)")
	for _, s := range measureCards(t) {
		fmt.Fprintf(&table, "%-14s %-13s %6d %5d %5d %8d\n", s.issuer, s.sample, s.chars, s.zlib, s.cose, s.version)
		if limit := limits[s.issuer+" "+s.sample]; s.version > limit {
			t.Errorf("%s %s card needs QR version %d at level Q, more than %d", s.issuer, s.sample, s.version, limit)
		}
	}
	t.Log(table.String())
}

// TestCardQRImage draws a card as a PNG, reads it back with a QR decoder,
// and checks that the text is the card's and that it verifies.
func TestCardQRImage(t *testing.T) {
	for _, k := range issuers(t)[:3] {
		for _, name := range samples {
			t.Run(keyName(k)+"/"+name, func(t *testing.T) {
				c := prepared(t, name, k)
				text, err := credentials.IssueCard(c, k, c.ValidFrom)
				if err != nil {
					t.Fatal(err)
				}
				img, err := credentials.CardPNG(text, 600)
				if err != nil {
					t.Fatal(err)
				}
				decoded, err := png.Decode(bytes.NewReader(img))
				if err != nil {
					t.Fatal(err)
				}
				res, err := qrtest.Read(decoded)
				if err != nil {
					t.Fatal(err)
				}
				if res.GetText() != text {
					t.Fatalf("the QR code reads %q, not the card", res.GetText())
				}
				if level := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; level != "Q" {
					t.Fatalf("error correction level %v, want Q", level)
				}
				card, err := credentials.ParseCard([]byte(res.GetText()))
				if err != nil {
					t.Fatal(err)
				}
				if err := card.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	if _, err := credentials.CardPNG("ABC", 0); err == nil {
		t.Fatal("a zero-pixel image was drawn")
	}
}
