package credentials_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// TestCardBirthDate checks where a card carries the date of birth: a full
// date in Claim 169 key 8 as YYYYMMDD, which every Claim 169 reader knows,
// and a partly known one in tally's private claim (key 12), never in key 8.
func TestCardBirthDate(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	for _, tc := range []struct {
		sample, dob string
		key8, key12 any // nil: absent
	}{
		{"registration.json", "1991-03-14", "19910314", nil},
		{"registration.json", "1991-03", nil, "199103"},
		{"registration.json", "1991", nil, "1991"},
		{"referral.json", "1991-03-14", "19910314", nil},
		{"referral.json", "1991-03", nil, "199103"},
		{"referral.json", "1991", nil, "1991"},
	} {
		t.Run(tc.sample+"/"+tc.dob, func(t *testing.T) {
			c := prepared(t, tc.sample, k)
			switch s := c.Subject.(type) {
			case *credentials.Registration:
				s.DateOfBirth = tc.dob
			case *credentials.Referral:
				s.SharedFields["dateOfBirth"] = tc.dob
			}
			text, err := credentials.IssueCard(c, k, c.ValidFrom)
			if err != nil {
				t.Fatal(err)
			}
			_, claims := cardPayload(t, text)
			if got := claims[uint64(169)].(map[any]any)[uint64(8)]; got != tc.key8 {
				t.Errorf("Claim 169 key 8 = %v, want %v", got, tc.key8)
			}
			if got := claims[int64(-65537)].(map[any]any)[uint64(12)]; got != tc.key12 {
				t.Errorf("tally key 12 = %v, want %v", got, tc.key12)
			}
			card, err := credentials.ParseCard([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch s := card.Credential().Subject.(type) {
			case *credentials.Registration:
				got = s.DateOfBirth
			case *credentials.Referral:
				got = s.SharedFields["dateOfBirth"]
			}
			if got != tc.dob {
				t.Fatalf("date of birth read back as %q, want %q", got, tc.dob)
			}
		})
	}
}

func TestParseCardBirthDate(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	for _, tc := range []struct {
		name        string
		key8, key12 any // nil: absent
		want        string
		err         string
	}{
		{"full", "19910314", nil, "1991-03-14", ""},
		{"partly known", nil, "199103", "1991-03", ""},
		{"year", nil, "1991", "1991", ""},
		{"partly known in key 8, as older cards have it", "199103", nil, "1991-03", ""},
		{"both", "19910314", "1991", "", "two dates of birth"},
		{"full date in key 12", nil, "19910314", "", "belongs in Claim 169"},
		{"not digits in key 12", nil, "19x1", "", "not YYYYMMDD"},
		{"no month 13", nil, "199113", "", "calendar date"},
		{"key 12 not text", nil, 1991, "", "CWT claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := registrationClaims(k.DID)
			delete(m[169].(map[any]any), 8)
			if tc.key8 != nil {
				m[169].(map[any]any)[8] = tc.key8
			}
			if tc.key12 != nil {
				m[-65537].(map[any]any)[12] = tc.key12
			}
			raw := signCOSE(t, k, protectedKID(k), nil, cborBytes(t, m))
			card, err := credentials.ParseCard([]byte(credentials.Base45Encode(zlibBytes(t, raw))))
			if tc.err != "" {
				if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrMalformed saying %q", err, tc.err)
				}
				if err != nil && (strings.Contains(err.Error(), "1991") || strings.Contains(err.Error(), "19x1")) {
					t.Fatalf("the error quotes the date: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := card.Credential().Subject.(*credentials.Registration).DateOfBirth; got != tc.want {
				t.Fatalf("date of birth %q, want %q", got, tc.want)
			}
		})
	}
}
