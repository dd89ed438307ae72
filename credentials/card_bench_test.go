package credentials_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// The verifier's budget for a whole card verification is 1.3 times a bare
// ed25519.Verify of a 300-byte message (DESIGN.md, Targets). Compare:
//
//	go test -run '^$' -bench 'Card|Bare' -benchmem ./credentials

// BenchmarkBareEd25519 is the baseline: one ed25519.Verify of 300 bytes.
func BenchmarkBareEd25519(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 300)
	_, _ = rand.Read(msg)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkParseAndVerifyCard is what a verifier does with a scanned card:
// base45, inflate, COSE and CWT decoding, the key looked up in a trust
// list, the signature, the status bit and the validity period.
func BenchmarkParseAndVerifyCard(b *testing.B) {
	k := testKey(b, credentials.EdDSA, "did:web:dadaab.example.org")
	c := prepared(b, "registration.json", k)
	text, err := credentials.IssueCard(c, k, c.ValidFrom)
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(text)
	type trustKey struct{ issuer, kid string }
	trust := map[trustKey]ed25519.PublicKey{
		{k.DID, credentials.CardKeyIDString(k.CardKeyID())}: k.Public.(ed25519.PublicKey),
	}
	revoked := make([]byte, credentials.MinStatusListSize/8)
	now := c.ValidFrom.Add(24 * time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		card, err := credentials.ParseCard(raw)
		if err != nil {
			b.Fatal(err)
		}
		pub, ok := trust[trustKey{card.Issuer(), card.KeyID()}]
		if !ok {
			b.Fatal("issuer not trusted")
		}
		if err := card.VerifySignature(pub); err != nil {
			b.Fatal(err)
		}
		cred := card.Credential()
		if now.Before(cred.ValidFrom) || !now.Before(cred.ValidUntil) {
			b.Fatal("not valid now")
		}
		_, index, ok := credentials.TallyStatus(cred.Status)
		if !ok || revoked[index/8]&(0x80>>(index%8)) != 0 {
			b.Fatal("revoked")
		}
	}
}
