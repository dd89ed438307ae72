package verifier_test

import (
	"context"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func TestSamePerson(t *testing.T) {
	f := newFixture(t)
	other := testKey(t, "org-b", "did:web:org-b.example")
	list := f.trustFor(t, credentials.Types()...)
	issB, err := verifier.NewTrustedIssuer("Organisation B", credentials.Types(), other)
	if err != nil {
		t.Fatal(err)
	}
	issB.StatusBase = f.base
	if err := list.Add(issB); err != nil {
		t.Fatal(err)
	}
	v := f.verifier(t, verifier.Options{Trust: list, Offline: true})
	verify := func(name string, key *credentials.Key, seed string, fm credentials.Format) *verifier.Result {
		t.Helper()
		c := sample(t, name, key, f.base)
		if seed == "" {
			credentials.SetSubjectSeed(c.Subject, nil)
		} else {
			credentials.SetSubjectSeed(c.Subject, credentials.Seed(seed))
		}
		res, err := v.Verify(context.Background(), issue(t, fm, c, key))
		if err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
		return res
	}
	reg := verify("registration", f.key, "0123456789abcdef", credentials.FormatQR)
	for _, tc := range []struct {
		name string
		b    *verifier.Result
		want bool
	}{
		{"same issuer, same seed", verify("referral", f.key, "0123456789abcdef", credentials.FormatJWT), true},
		{"different seed", verify("referral", f.key, "fedcba9876543210", credentials.FormatJWT), false},
		{"different issuer", verify("referral", other, "0123456789abcdef", credentials.FormatJWT), false},
		{"missing seed", verify("referral", f.key, "", credentials.FormatJWT), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verifier.SamePerson(reg, tc.b); got != tc.want {
				t.Errorf("SamePerson(registration, referral) = %v, want %v", got, tc.want)
			}
			if got := verifier.SamePerson(tc.b, reg); got != tc.want {
				t.Errorf("SamePerson(referral, registration) = %v, want %v", got, tc.want)
			}
		})
	}
}
