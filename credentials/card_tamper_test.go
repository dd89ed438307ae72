package credentials_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"

	"github.com/tally-id/tally/credentials"
)

const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// accepted reports whether a card text parses and verifies with pub.
func accepted(text []byte, k *credentials.Key) bool {
	card, err := credentials.ParseCard(text)
	if err != nil {
		return false
	}
	return card.VerifySignature(k.Public) == nil
}

// inflateCard returns the COSE bytes of a card's text.
func inflateCard(t testing.TB, text string) []byte {
	t.Helper()
	z, err := credentials.Base45Decode(text)
	if err != nil {
		t.Fatal(err)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func zlibBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	_, _ = w.Write(raw)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCardTamperText changes every character of issued cards, in turn, to
// other base45 characters: every change must be refused by ParseCard or by
// VerifySignature. The registration card gets every one of the 44 other
// characters at every position; the others a spread of them.
func TestCardTamperText(t *testing.T) {
	for _, k := range issuers(t)[:3] {
		for _, name := range samples {
			t.Run(keyName(k)+"/"+name, func(t *testing.T) {
				c := prepared(t, name, k)
				text, err := credentials.IssueCard(c, k, c.ValidFrom)
				if err != nil {
					t.Fatal(err)
				}
				if !accepted([]byte(text), k) {
					t.Fatal("the untouched card is refused")
				}
				steps := []int{1, 7, 22, 31, 44}
				if name == "registration.json" && k.Alg == credentials.EdDSA && !testing.Short() {
					steps = steps[:0]
					for s := 1; s < 45; s++ {
						steps = append(steps, s)
					}
				}
				b := []byte(text)
				tried := 0
				for i := range b {
					orig := b[i]
					v := bytes.IndexByte([]byte(base45Alphabet), orig)
					for _, s := range steps {
						b[i] = base45Alphabet[(v+s)%45]
						tried++
						if accepted(b, k) {
							t.Fatalf("character %d changed from %q to %q: the card still verifies", i, orig, b[i])
						}
					}
					b[i] = orig
				}
				t.Logf("%d changes of %d characters, all refused", tried, len(text))
			})
		}
	}
}

// TestCardTamperCOSE changes every byte of the signed COSE bytes, before
// compression: every change must be refused.
func TestCardTamperCOSE(t *testing.T) {
	for _, k := range issuers(t)[:3] {
		for _, name := range samples {
			t.Run(keyName(k)+"/"+name, func(t *testing.T) {
				c := prepared(t, name, k)
				text, err := credentials.IssueCard(c, k, c.ValidFrom)
				if err != nil {
					t.Fatal(err)
				}
				raw := inflateCard(t, text)
				var zb bytes.Buffer
				zw, _ := zlib.NewWriterLevel(&zb, zlib.BestCompression)
				compressed := func() []byte {
					zb.Reset()
					zw.Reset(&zb)
					_, _ = zw.Write(raw)
					_ = zw.Close()
					return []byte(credentials.Base45Encode(zb.Bytes()))
				}
				if !accepted(compressed(), k) {
					t.Fatal("the untouched COSE bytes are refused")
				}
				for i := range raw {
					for _, mask := range []byte{0x01, 0x80, 0xff} {
						raw[i] ^= mask
						if accepted(compressed(), k) {
							t.Fatalf("byte %d of %d xor %#x: the card still verifies", i, len(raw), mask)
						}
						// Uncompressed COSE is read too.
						if mask == 0x01 && accepted([]byte(credentials.Base45Encode(raw)), k) {
							t.Fatalf("byte %d of %d xor %#x, uncompressed: the card still verifies", i, len(raw), mask)
						}
						raw[i] ^= mask
					}
				}
			})
		}
	}
}
