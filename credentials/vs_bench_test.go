package credentials_test

import (
	"crypto/ed25519"
	"crypto/sha512"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

func BenchmarkVerifyOnlyJWT(b *testing.B) {
	token, k := benchJWT(b)
	j, _ := credentials.ParseJWT(token)
	for b.Loop() {
		if err := j.VerifySignature(k.Public); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEd25519LongJWT(b *testing.B) {
	token, _ := benchJWT(b)
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte(string(token[:strings.LastIndexByte(string(token), '.')]))
	sig := ed25519.Sign(priv, msg)
	b.Logf("msg %d", len(msg))
	for b.Loop() {
		ed25519.Verify(pub, msg, sig)
	}
}

func BenchmarkSHA512JWT(b *testing.B) {
	token, _ := benchJWT(b)
	for b.Loop() {
		sha512.Sum512(token)
	}
}
