package verifier_test

import (
	"testing"

	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/vcgopeer"
)

// BenchmarkVcGoParseJWT is the peer: trustbloc/vc-go's own ParseCredential,
// with its proof check, on the token BenchmarkVerifyJWT verifies.
func BenchmarkVcGoParseJWT(b *testing.B) {
	f := newFixture(b)
	token := issue(b, credentials.FormatJWT, sample(b, "registration", f.key, f.base), f.key)
	opts := vcgopeer.ParseOptions(vcgopeer.Keys{f.key.ID: f.key.Public})
	if _, err := verifiable.ParseCredential(token, opts...); err != nil {
		b.Fatal(err)
	}
	tampered := append([]byte{}, token...)
	tampered[len(tampered)-3] ^= 1
	if _, err := verifiable.ParseCredential(tampered, opts...); err == nil {
		b.Fatal("vc-go accepted a tampered token: the peer checks nothing")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := verifiable.ParseCredential(token, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
