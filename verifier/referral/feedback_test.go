package referral_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/verifier/referral"
)

// The seed corpus of FuzzParseFeedback is kept in
// testdata/fuzz/FuzzParseFeedback. Refresh it with
//
//	go test ./verifier/referral -run TestFeedbackFuzzCorpus -update-feedback-fuzz
var updateFeedbackFuzz = flag.Bool("update-feedback-fuzz", false, "rewrite the seed corpus of FuzzParseFeedback")

// testKey derives a deterministic Ed25519 key of did from a label.
func testKey(t testing.TB, label, did string) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func goodFeedback() referral.Feedback {
	return referral.Feedback{Issuer: "did:web:b.example", Audience: "did:web:a.example", ID: "x5Gk2m0f2w1bJq8s9Lw3Zg",
		IssuedAt: 1795000000, Referral: "urn:uuid:0b6f8f9e-3c1d-4b8e-9a51-8d1c5e7f2a10", State: referral.StateClosed, Outcome: "served"}
}

func sign(t testing.TB, f referral.Feedback, k *credentials.Key) string {
	t.Helper()
	tok, err := referral.SignFeedback(&f, k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// reheader replaces a token's header, keeping payload and signature.
func reheader(tok, header string) string {
	parts := strings.Split(tok, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1] + "." + parts[2]
}

func feedbackSeeds(t testing.TB) map[string][]byte {
	k := testKey(t, "b", "did:web:b.example")
	good := sign(t, goodFeedback(), k)
	declined := goodFeedback()
	declined.State, declined.Outcome, declined.Reason = referral.StateDeclined, "", "no-capacity"
	return map[string][]byte{
		"good":        []byte(good),
		"declined":    []byte(sign(t, declined, k)),
		"empty":       {},
		"two-parts":   []byte("a.b"),
		"alg-none":    []byte(reheader(good, `{"alg":"none","typ":"`+referral.FeedbackType+`","kid":"`+k.ID+`"}`)),
		"wrong-typ":   []byte(reheader(good, `{"alg":"EdDSA","typ":"JWT","kid":"`+k.ID+`"}`)),
		"jwk":         []byte(reheader(good, `{"alg":"EdDSA","typ":"`+referral.FeedbackType+`","kid":"`+k.ID+`","jwk":{}}`)),
		"payload-arr": []byte("eyJhbGciOiJFZERTQSJ9.W10.c2ln"),
		"spaces":      []byte(" " + good + "\n"),
	}
}

func TestFeedbackFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzcorpus.Seed{}
	for name, data := range feedbackSeeds(t) {
		corpus[name] = fuzzcorpus.Seed{data}
	}
	fuzzcorpus.Keep(t, "FuzzParseFeedback", *updateFeedbackFuzz, "go test ./verifier/referral -run TestFeedbackFuzzCorpus -update-feedback-fuzz", corpus)
}

// FuzzParseFeedback: ParseFeedback never panics; an error is a
// *FeedbackError; what it accepts has well-formed claims and a kid of its
// iss, and verifies only with the key that signed it.
func FuzzParseFeedback(f *testing.F) {
	for _, data := range feedbackSeeds(f) {
		f.Add(data)
	}
	k := testKey(f, "b", "did:web:b.example")
	other := testKey(f, "c", "did:web:b.example")
	f.Fuzz(func(t *testing.T, data []byte) {
		ft, err := referral.ParseFeedback(data)
		if err != nil {
			var fe *referral.FeedbackError
			if !errors.As(err, &fe) || !errors.Is(err, referral.ErrFeedback) {
				t.Fatalf("error %#v", err)
			}
			return
		}
		if ft.Claims.Issuer == "" || !strings.HasPrefix(ft.KeyID, ft.Claims.Issuer+"#") {
			t.Fatalf("accepted claims %+v with kid %q", ft.Claims, ft.KeyID)
		}
		if ft.Verify([]*credentials.Key{other}) == nil && other.ID == ft.KeyID {
			t.Fatal("verified with a key that did not sign")
		}
		_ = ft.Verify([]*credentials.Key{k})
	})
}

func TestFeedbackRoundTrip(t *testing.T) {
	k := testKey(t, "b", "did:web:b.example")
	tok := sign(t, goodFeedback(), k)
	ft, err := referral.ParseFeedback([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ft.Claims != goodFeedback() || ft.KeyID != k.ID {
		t.Fatalf("claims %+v, kid %s", ft.Claims, ft.KeyID)
	}
	if err := ft.Verify([]*credentials.Key{k}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// P-256 too.
	p, err := credentials.GenerateKey(credentials.ES256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := credentials.NewKey(p, "did:web:b.example")
	if err != nil {
		t.Fatal(err)
	}
	ft, err = referral.ParseFeedback([]byte(sign(t, goodFeedback(), pk)))
	if err != nil || ft.Verify([]*credentials.Key{k, pk}) != nil {
		t.Fatalf("ES256: %v", err)
	}
}

func TestFeedbackRefused(t *testing.T) {
	k := testKey(t, "b", "did:web:b.example")
	// Another key under the same kid: a forgery.
	forger := testKey(t, "mallory", "did:web:b.example")
	forger.ID = k.ID
	forged, err := referral.ParseFeedback([]byte(sign(t, goodFeedback(), forger)))
	if err != nil {
		t.Fatal(err)
	}
	if err := forged.Verify([]*credentials.Key{k}); !errors.Is(err, referral.ErrFeedback) {
		t.Errorf("a forged signature verified: %v", err)
	}
	good := sign(t, goodFeedback(), k)
	parts := strings.Split(good, ".")
	tampered := goodFeedback()
	tampered.Outcome = "not-served"
	bad := map[string]string{
		"alg none":       reheader(good, `{"alg":"none","typ":"`+referral.FeedbackType+`","kid":"`+k.ID+`"}`),
		"HS256":          reheader(good, `{"alg":"HS256","typ":"`+referral.FeedbackType+`","kid":"`+k.ID+`"}`),
		"wrong typ":      reheader(good, `{"alg":"EdDSA","typ":"JWT","kid":"`+k.ID+`"}`),
		"kid of another": reheader(good, `{"alg":"EdDSA","typ":"`+referral.FeedbackType+`","kid":"did:web:c.example#k"}`),
		"crit":           reheader(good, `{"alg":"EdDSA","typ":"`+referral.FeedbackType+`","kid":"`+k.ID+`","crit":["x"]}`),
		"too long":       good + strings.Repeat("A", referral.MaxFeedbackJWT),
		"no signature":   parts[0] + "." + parts[1] + ".",
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := referral.ParseFeedback([]byte(tok)); !errors.Is(err, referral.ErrFeedback) {
				t.Errorf("ParseFeedback accepted it: %v", err)
			}
		})
	}
	for name, f := range map[string]func(*referral.Feedback){
		"reason on close":  func(f *referral.Feedback) { f.Reason = "no-capacity" },
		"unknown outcome":  func(f *referral.Feedback) { f.Outcome = "fine" },
		"state received":   func(f *referral.Feedback) { f.State = referral.StateReceived },
		"no jti":           func(f *referral.Feedback) { f.ID = "" },
		"aud not a DID":    func(f *referral.Feedback) { f.Audience = "https://a.example" },
		"free-text reason": func(f *referral.Feedback) { f.State, f.Outcome, f.Reason = referral.StateDeclined, "", "Fatima moved" },
	} {
		t.Run(name, func(t *testing.T) {
			fb := goodFeedback()
			f(&fb)
			if _, err := referral.SignFeedback(&fb, k); err == nil {
				t.Error("SignFeedback signed it")
			}
		})
	}
	// A payload changed after signing does not verify.
	ft, err := referral.ParseFeedback([]byte(strings.Join([]string{parts[0], strings.Split(sign(t, tampered, forger), ".")[1], parts[2]}, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if ft.Verify([]*credentials.Key{k}) == nil {
		t.Error("a tampered payload verified")
	}
}
