package credentials_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// The VC-JWT speed target (DESIGN.md): parsing and verifying a VC-JWT costs
// at most 1.5 times a bare ed25519.Verify of a 300-byte message. Compare
//
//	go test -run '^$' -bench 'JWT' -benchmem ./credentials

var benchNow = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func BenchmarkBareEd25519JWT(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

// benchJWT is a registration VC-JWT signed by an Ed25519 did:key issuer.
func benchJWT(b *testing.B) (token []byte, k *credentials.Key) {
	b.Helper()
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(make([]byte, 32)), "")
	if err != nil {
		b.Fatal(err)
	}
	c := loadSample(b, "registration.json")
	if err := credentials.Prepare(c, k.DID, zeroReader{}); err != nil {
		b.Fatal(err)
	}
	c.Status = credentials.StatusEntries("https://dadaab.example.org/status", 3, 94567)
	s, err := credentials.IssueJWT(c, k, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	return []byte(s), k
}

func BenchmarkParseAndVerifyJWT(b *testing.B) {
	token, k := benchJWT(b)
	b.SetBytes(int64(len(token)))
	b.ReportAllocs()
	for b.Loop() {
		j, err := credentials.ParseJWT(token)
		if err != nil {
			b.Fatal(err)
		}
		if err := j.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySignatureJWT is the signature check alone: Ed25519 over
// the JWS signing input (about 3.6 KB).
func BenchmarkVerifySignatureJWT(b *testing.B) {
	token, k := benchJWT(b)
	j, err := credentials.ParseJWT(token)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := j.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWXVerifyJWT is jwx's jws.Verify on the same token, for
// comparison: it checks the signature and decodes no credential.
func BenchmarkJWXVerifyJWT(b *testing.B) {
	token, k := benchJWT(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jws.Verify(token, jws.WithKey(jwa.EdDSA, k.Public)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJWT(b *testing.B) {
	token, _ := benchJWT(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := credentials.ParseJWT(token); err != nil {
			b.Fatal(err)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0x42
	}
	return len(p), nil
}

// BenchmarkJWTVerifyRatio interleaves a bare ed25519.Verify of 300 bytes
// with a full ParseJWT and VerifySignature, and reports the ratio of their
// times: a machine busy with other work slows both alike.
func BenchmarkJWTVerifyRatio(b *testing.B) {
	token, k := benchJWT(b)
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	var bare, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
		t1 := time.Now()
		j, err := credentials.ParseJWT(token)
		if err != nil {
			b.Fatal(err)
		}
		if err := j.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		bare += t1.Sub(t0)
		full += t2.Sub(t1)
	}
	b.ReportMetric(float64(full)/float64(bare), "x-bare")
}
