package verifier_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// BenchmarkEd25519Verify is the baseline every target is a ratio of: a
// bare ed25519.Verify of a 300-byte message.
func BenchmarkEd25519Verify(b *testing.B) {
	key := testKey(b, "baseline", "")
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i)
	}
	sig := ed25519.Sign(key.Signer.(ed25519.PrivateKey), msg)
	pub := key.Public.(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("baseline signature does not verify")
		}
	}
}

// benchVerify measures Verify of the sample registration in format fm:
// everything a service point does, with the issuer's status lists fresh in
// the verifier's cache, as they are between two fetches.
func benchVerify(b *testing.B, fm credentials.Format) {
	f := newFixture(b)
	raw := issue(b, fm, sample(b, "registration", f.key, f.base), f.key)
	v := f.verifier(b, verifier.Options{})
	ctx := context.Background()
	res, err := v.Verify(ctx, raw) // fills the status cache
	if err != nil {
		b.Fatal(err)
	}
	if !res.Status.Checked {
		b.Fatal("status not checked")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyQR verifies a QR card: base45, inflate, CBOR, COSE
// signature, trust, status bit, time.
func BenchmarkVerifyQR(b *testing.B) { benchVerify(b, credentials.FormatQR) }

// BenchmarkVerifyJWT verifies a VC-JWT.
func BenchmarkVerifyJWT(b *testing.B) { benchVerify(b, credentials.FormatJWT) }

// BenchmarkVerifySDJWT verifies an SD-JWT VC with every claim disclosed.
func BenchmarkVerifySDJWT(b *testing.B) { benchVerify(b, credentials.FormatSDJWT) }

// BenchmarkVerifyDataIntegrity verifies an eddsa-rdfc-2022 credential
// (RDF canonicalization dominates).
func BenchmarkVerifyDataIntegrity(b *testing.B) { benchVerify(b, credentials.FormatDataIntegrity) }
