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
//
// On a busy machine the two benchmarks' times wander; BenchmarkCardRatio
// runs both in alternation and reports the ratio of their best times.

// bareVerifier is the baseline: one ed25519.Verify of 300 bytes.
type bareVerifier struct {
	pub      ed25519.PublicKey
	msg, sig []byte
}

func newBareVerifier() *bareVerifier {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 300)
	_, _ = rand.Read(msg)
	return &bareVerifier{pub, msg, ed25519.Sign(priv, msg)}
}

func (v *bareVerifier) verify(b *testing.B) {
	if !ed25519.Verify(v.pub, v.msg, v.sig) {
		b.Fatal("bad signature")
	}
}

// cardVerifier does what a verifier does with a scanned card: base45,
// inflate, COSE and CWT decoding, the key looked up in a trust list, the
// signature, the status bit and the validity period.
type cardVerifier struct {
	raw     []byte
	trust   map[trustKey]ed25519.PublicKey
	revoked []byte
	now     time.Time
}

type trustKey struct{ issuer, kid string }

func newCardVerifier(b *testing.B) *cardVerifier {
	k := testKey(b, credentials.EdDSA, "did:web:dadaab.example.org")
	c := prepared(b, "registration.json", k)
	text, err := credentials.IssueCard(c, k, c.ValidFrom)
	if err != nil {
		b.Fatal(err)
	}
	return &cardVerifier{
		raw: []byte(text),
		trust: map[trustKey]ed25519.PublicKey{
			{k.DID, credentials.CardKeyIDString(k.CardKeyID())}: k.Public.(ed25519.PublicKey),
		},
		revoked: make([]byte, credentials.MinStatusListSize/8),
		now:     c.ValidFrom.Add(24 * time.Hour),
	}
}

func (v *cardVerifier) verify(b *testing.B) {
	card, err := credentials.ParseCard(v.raw)
	if err != nil {
		b.Fatal(err)
	}
	pub, ok := v.trust[trustKey{card.Issuer(), card.KeyID()}]
	if !ok {
		b.Fatal("issuer not trusted")
	}
	if err := card.VerifySignature(pub); err != nil {
		b.Fatal(err)
	}
	cred := card.Credential()
	if v.now.Before(cred.ValidFrom) || !v.now.Before(cred.ValidUntil) {
		b.Fatal("not valid now")
	}
	_, index, ok := credentials.TallyStatus(cred.Status)
	if !ok || v.revoked[index/8]&(0x80>>(index%8)) != 0 {
		b.Fatal("revoked")
	}
}

// BenchmarkBareEd25519 is the baseline: one ed25519.Verify of 300 bytes.
func BenchmarkBareEd25519(b *testing.B) {
	v := newBareVerifier()
	b.ReportAllocs()
	for b.Loop() {
		v.verify(b)
	}
}

// BenchmarkParseAndVerifyCard is one whole card verification.
func BenchmarkParseAndVerifyCard(b *testing.B) {
	v := newCardVerifier(b)
	b.ReportAllocs()
	for b.Loop() {
		v.verify(b)
	}
}

// BenchmarkCardRatio alternates batches of bare verifications and card
// verifications and reports the ratio of their best times per operation
// (the budget is 1.3), which busy machines disturb far less than the
// separate benchmarks.
func BenchmarkCardRatio(b *testing.B) {
	bare, card := newBareVerifier(), newCardVerifier(b)
	const batch = 20
	best := func(cur time.Duration, f func(*testing.B)) time.Duration {
		start := time.Now()
		for range batch {
			f(b)
		}
		return min(cur, time.Since(start))
	}
	bestBare, bestCard := time.Hour, time.Hour
	for b.Loop() {
		bestBare = best(bestBare, bare.verify)
		bestCard = best(bestCard, card.verify)
	}
	b.ReportMetric(float64(bestBare)/batch, "bare-ns/op")
	b.ReportMetric(float64(bestCard)/batch, "card-ns/op")
	b.ReportMetric(float64(bestCard)/float64(bestBare), "ratio")
}
