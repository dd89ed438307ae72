package verifier_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func TestVerifyPresentation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	wallet := testKey(t, "fatima's phone", "")
	thief := testKey(t, "someone else's phone", "")
	sdjwt, err := credentials.IssueSDJWT(sample(t, "registration", f.key, f.base), f.key, testNow,
		credentials.SDJWTOptions{Holder: wallet.Public, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	const aud, nonce = "did:web:clinic.example", "n-4f1c2a"
	present := func(claims []string, holder *credentials.Key, aud, nonce string) []byte {
		t.Helper()
		p, err := credentials.PresentSDJWT(sdjwt, claims, holder.Signer, aud, nonce, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(p)
	}
	v := f.verifier(t, verifier.Options{})
	want := verifier.Presentation{Audience: aud, Nonce: nonce}

	t.Run("minimal disclosure", func(t *testing.T) {
		res, err := v.VerifyPresentation(ctx, present([]string{"registrationId", "fullName"}, wallet, aud, nonce), want)
		if err != nil {
			t.Fatal(err)
		}
		reg := res.Credential.Subject.(*credentials.Registration)
		if reg.FullName != "Fatima Hassan Abdi" || reg.DateOfBirth != "" || reg.Nationality != "" {
			t.Fatalf("disclosed more or less than asked: %+v", reg)
		}
		if !slices.Contains(res.Disclosed, "fullName") || slices.Contains(res.Disclosed, "dateOfBirth") {
			t.Fatalf("Disclosed = %v", res.Disclosed)
		}
		domain, _ := verifier.NewDedupKey("clinic", nil)
		if _, err := res.DedupToken(domain); err != verifier.ErrNoDedupSeed {
			t.Fatalf("a token without the seed disclosed: %v", err)
		}
	})
	t.Run("seed disclosed for dedup", func(t *testing.T) {
		res, err := v.VerifyPresentation(ctx, present([]string{"registrationId", "dedupSeed"}, wallet, aud, nonce), want)
		if err != nil {
			t.Fatal(err)
		}
		domain, _ := verifier.NewDedupKey("clinic", nil)
		if tok, err := res.DedupToken(domain); err != nil || len(tok) != 26 {
			t.Fatalf("token %q, %v", tok, err)
		}
	})
	for _, tc := range []struct {
		name string
		raw  []byte
		want verifier.Presentation
	}{
		{"replayed at another verifier", present([]string{"fullName"}, wallet, "did:web:elsewhere.example", nonce), want},
		{"replayed later", present([]string{"fullName"}, wallet, aud, "an-old-nonce"), want},
		{"presented by someone else", resignKeyBinding(t, present([]string{"fullName"}, wallet, aud, nonce), thief), want},
		{"no key binding", []byte(sdjwt), want},
		{"not bound to any holder", issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, f.base), f.key), want},
		{"a card is not a presentation", issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key), want},
		{"no nonce asked", present([]string{"fullName"}, wallet, aud, nonce), verifier.Presentation{Audience: aud}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.VerifyPresentation(ctx, tc.raw, tc.want)
			wantReason(t, err, verifier.BadPresentation)
		})
	}
	t.Run("stale presentation", func(t *testing.T) {
		late := f.verifier(t, verifier.Options{Now: func() time.Time { return testNow.Add(time.Hour) }})
		_, err := late.VerifyPresentation(ctx, present([]string{"fullName"}, wallet, aud, nonce), want)
		wantReason(t, err, verifier.BadPresentation)
	})
	// Holder binding is the default: Verify refuses a bound SD-JWT that is
	// not presented, with or without a key-binding JWT it cannot check.
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"issuance form", []byte(sdjwt)},
		{"presentation given to Verify", present([]string{"fullName"}, wallet, aud, nonce)},
	} {
		t.Run("plain verify refuses a bound SD-JWT: "+tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tc.raw)
			wantReason(t, err, verifier.BadPresentation)
			var ve *verifier.Error
			errors.As(err, &ve)
			if !strings.Contains(ve.Detail, "ask the wallet for a presentation") {
				t.Fatalf("the rejection does not say what to do: %q", ve.Detail)
			}
		})
	}
	t.Run("plain verify of an unbound SD-JWT", func(t *testing.T) {
		unbound := issue(t, credentials.FormatSDJWT, sample(t, "registration", f.key, f.base), f.key)
		if _, err := v.Verify(ctx, unbound); err != nil {
			t.Fatalf("an SD-JWT bound to no key has no holder to check: %v", err)
		}
	})
	t.Run("back-office re-check of a stored token", func(t *testing.T) {
		backOffice := f.verifier(t, verifier.Options{AllowUnboundSDJWT: true})
		res, err := backOffice.Verify(ctx, []byte(sdjwt))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "holder binding not checked") {
			t.Fatalf("no warning that holder binding was not checked: %v", res.Warnings)
		}
		// A presentation is still checked in full.
		_, err = backOffice.VerifyPresentation(ctx, []byte(sdjwt), want)
		wantReason(t, err, verifier.BadPresentation)
		if _, err := backOffice.VerifyPresentation(ctx, present([]string{"fullName"}, wallet, aud, nonce), want); err != nil {
			t.Fatal(err)
		}
	})
}

// resignKeyBinding replaces a presentation's key-binding JWT by one with
// the same header and claims, signed by another key: a stolen credential
// presented from another phone.
func resignKeyBinding(t *testing.T, presentation []byte, by *credentials.Key) []byte {
	t.Helper()
	s := string(presentation)
	i := strings.LastIndex(s, "~")
	kb := strings.Split(s[i+1:], ".")
	if len(kb) != 3 {
		t.Fatalf("no key-binding JWT in %q", s)
	}
	sig, err := by.Signer.Sign(rand.Reader, []byte(kb[0]+"."+kb[1]), crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s[:i+1] + kb[0] + "." + kb[1] + "." + base64.RawURLEncoding.EncodeToString(sig))
}
