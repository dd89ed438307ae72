package dataintegrity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
)

// Run both in one go and compare (DESIGN expects Data Integrity to cost
// about 50 bare Ed25519 verifications):
//
//	go test -run '^$' -bench 'DataIntegrity|BareEd25519DI' -benchmem ./credentials

// BenchmarkVerifyDataIntegrity parses and verifies a registration
// credential: JSON checks, strict JSON-LD expansion, RDF canonicalization
// of document and proof configuration, SHA-256, Ed25519.
func BenchmarkVerifyDataIntegrity(b *testing.B) {
	k := diKey(b, 1, "")
	raw := issueDI(b, "registration.json", k)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		d, err := testProc.Parse(context.Background(), raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyDataIntegritySignatureOnly is VerifySignature alone, on a
// credential parsed once.
func BenchmarkVerifyDataIntegritySignatureOnly(b *testing.B) {
	k := diKey(b, 1, "")
	d, err := testProc.Parse(context.Background(), issueDI(b, "registration.json", k))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := d.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareEd25519DI is the baseline: one ed25519.Verify over the 64
// bytes eddsa-rdfc-2022 signs (two SHA-256 hashes).
func BenchmarkBareEd25519DI(b *testing.B) {
	k := diKey(b, 1, "")
	proofHash := sha256.Sum256([]byte("proof configuration"))
	docHash := sha256.Sum256([]byte("document"))
	msg := append(proofHash[:], docHash[:]...)
	sig := ed25519.Sign(k.Signer.(ed25519.PrivateKey), msg)
	pub := k.Public.(ed25519.PublicKey)
	b.ResetTimer()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}
