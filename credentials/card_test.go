package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// detRand is a deterministic randomness source, so that sizes measured in
// tests do not move between runs.
func detRand(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}) }

// testKey makes a deterministic issuer key: alg, and did "" for did:key.
func testKey(t testing.TB, alg credentials.Algorithm, did string) *credentials.Key {
	t.Helper()
	var signer crypto.Signer
	switch alg {
	case credentials.EdDSA:
		seed := make([]byte, ed25519.SeedSize)
		_, _ = io.ReadFull(detRand(1), seed)
		signer = ed25519.NewKeyFromSeed(seed)
	case credentials.ES256:
		var err error
		signer, err = ecdsa.GenerateKey(elliptic.P256(), detRand(2))
		if err != nil {
			t.Fatal(err)
		}
	}
	k, err := credentials.NewKey(signer, did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// prepared loads a sample, prepares it for k's DID and gives it a status
// list entry.
func prepared(t testing.TB, name string, k *credentials.Key) *credentials.Credential {
	t.Helper()
	c := loadSample(t, name)
	if err := credentials.Prepare(c, k.DID, detRand(3)); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries("https://x/status", 3, 94567)
	return c
}

// issuers are the keys the card tests sign with.
func issuers(t testing.TB) []*credentials.Key {
	return []*credentials.Key{
		testKey(t, credentials.EdDSA, "did:web:dadaab.example.org"),
		testKey(t, credentials.EdDSA, ""),
		testKey(t, credentials.ES256, "did:web:dadaab.example.org"),
		testKey(t, credentials.ES256, ""),
	}
}

func keyName(k *credentials.Key) string {
	if strings.HasPrefix(k.DID, "did:key:") {
		return string(k.Alg) + "/did:key"
	}
	return string(k.Alg) + "/did:web"
}

var samples = []string{"registration.json", "eligibility.json", "referral.json"}

// cardView is what a card of c, issued at iat, carries, written out by
// hand from docs/qr-card.md rather than derived from the schema.
func cardView(t *testing.T, c *credentials.Credential, iat time.Time) *credentials.Credential {
	t.Helper()
	v := &credentials.Credential{
		Context:    credentials.DefaultContext(),
		Type:       c.Type,
		Issuer:     c.Issuer,
		ValidFrom:  iat,
		ValidUntil: c.ValidUntil,
		Status:     credentials.StatusEntries("", 3, 94567),
	}
	if c.ValidFrom.After(iat) {
		v.ValidFrom = c.ValidFrom
	}
	if c.Type == credentials.TypeReferral {
		v.ID = c.ID // a referral card carries its id (CWT claim 7)
	}
	switch s := c.Subject.(type) {
	case *credentials.Registration:
		v.Subject = &credentials.Registration{
			RegistrationID: s.RegistrationID,
			FullName:       s.FullName,
			DateOfBirth:    s.DateOfBirth,
			Gender:         s.Gender,
			DedupSeed:      s.DedupSeed,
		}
	case *credentials.Eligibility:
		v.Subject = &credentials.Eligibility{
			RegistrationID: s.RegistrationID,
			Programme:      s.Programme,
			HouseholdSize:  s.HouseholdSize,
			Entitlement:    s.Entitlement,
			DedupSeed:      s.DedupSeed,
		}
	case *credentials.Referral:
		shared := map[string]string{}
		for k, val := range s.SharedFields {
			if k != "nationality" && k != "legalStatus" {
				shared[k] = val
			}
		}
		v.Subject = &credentials.Referral{
			RegistrationID: s.RegistrationID,
			ReferredTo:     s.ReferredTo,
			Service:        s.Service,
			Urgency:        s.Urgency,
			Consent:        s.Consent,
			SharedFields:   shared,
			DedupSeed:      s.DedupSeed,
		}
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCardRoundTrip(t *testing.T) {
	for _, k := range issuers(t) {
		for _, name := range samples {
			for _, tc := range []struct {
				name string
				iat  func(c *credentials.Credential) time.Time
			}{
				{"issued when valid", func(c *credentials.Credential) time.Time { return c.ValidFrom }},
				{"issued before valid", func(c *credentials.Credential) time.Time { return c.ValidFrom.Add(-36 * time.Hour) }},
				{"issued after valid", func(c *credentials.Credential) time.Time { return c.ValidFrom.Add(25 * 24 * time.Hour) }},
			} {
				t.Run(keyName(k)+"/"+name+"/"+tc.name, func(t *testing.T) {
					c := prepared(t, name, k)
					iat := tc.iat(c)
					text, err := credentials.IssueCard(c, k, iat)
					if err != nil {
						t.Fatal(err)
					}
					if f, err := credentials.DetectFormat([]byte(text)); err != nil || f != credentials.FormatQR {
						t.Fatalf("DetectFormat = %s, %v", f, err)
					}
					card, err := credentials.ParseCard([]byte(" " + text + "\n"))
					if err != nil {
						t.Fatal(err)
					}
					if card.Format() != credentials.FormatQR || card.Issuer() != k.DID ||
						card.KeyID() != credentials.CardKeyIDString(k.CardKeyID()) || card.Algorithm() != k.Alg ||
						!card.IssuedAt().Equal(iat) {
						t.Fatalf("card: format %s issuer %s kid %s alg %s iat %v", card.Format(), card.Issuer(), card.KeyID(), card.Algorithm(), card.IssuedAt())
					}
					if err := card.VerifySignature(k.Public); err != nil {
						t.Fatal(err)
					}
					got := card.Credential()
					if !reflect.DeepEqual(got.Context, credentials.DefaultContext()) {
						t.Fatalf("context = %v", got.Context)
					}
					if want := cardView(t, c, iat); mustJSON(t, got) != mustJSON(t, want) {
						t.Fatalf("card credential differs:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
					}
					if err := got.Validate(); err != nil {
						t.Fatalf("the card's credential does not validate: %v", err)
					}
				})
			}
		}
	}
}

func TestCardWrongKey(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	c := prepared(t, "registration.json", k)
	text, err := credentials.IssueCard(c, k, c.ValidFrom)
	if err != nil {
		t.Fatal(err)
	}
	card, err := credentials.ParseCard([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	otherEd, _, _ := ed25519.GenerateKey(detRand(9))
	otherP256, _ := ecdsa.GenerateKey(elliptic.P256(), detRand(10))
	for _, tc := range []struct {
		name string
		pub  crypto.PublicKey
	}{
		{"another Ed25519 key", otherEd},
		{"a P-256 key", &otherP256.PublicKey},
		{"a short Ed25519 key", ed25519.PublicKey(otherEd[:16])},
		{"no key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := card.VerifySignature(tc.pub); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		})
	}
	p := testKey(t, credentials.ES256, "did:web:dadaab.example.org")
	pc := prepared(t, "registration.json", p)
	ptext, err := credentials.IssueCard(pc, p, pc.ValidFrom)
	if err != nil {
		t.Fatal(err)
	}
	pcard, err := credentials.ParseCard([]byte(ptext))
	if err != nil {
		t.Fatal(err)
	}
	if err := pcard.VerifySignature(&otherP256.PublicKey); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("P-256 card with another P-256 key: %v", err)
	}
}

func TestIssueCardRefuses(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	for _, tc := range []struct {
		name string
		edit func(c *credentials.Credential, k **credentials.Key)
		want string
	}{
		{"another issuer", func(c *credentials.Credential, _ **credentials.Key) { c.Issuer = "did:web:other.example.org" }, "the key belongs to"},
		{"a public key", func(_ *credentials.Credential, k **credentials.Key) { *k = (*k).PublicOnly() }, "no private part"},
		{"an invalid credential", func(c *credentials.Credential, _ **credentials.Key) {
			c.Subject.(*credentials.Registration).FullName = ""
		}, "fullName"},
		{"foreign status entries", func(c *credentials.Credential, _ **credentials.Key) {
			c.Status = []credentials.StatusEntry{{Purpose: "revocation", Index: 5, ListCredential: "https://x/lists/abc"}}
		}, "tally's layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prepared(t, "registration.json", k)
			key := k
			tc.edit(c, &key)
			if _, err := credentials.IssueCard(c, key, c.ValidFrom); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one that says %q", err, tc.want)
			}
		})
	}
}

func TestCardRoundTripEdges(t *testing.T) {
	k := testKey(t, credentials.EdDSA, "did:web:dadaab.example.org")
	for _, tc := range []struct {
		name   string
		sample string
		edit   func(c *credentials.Credential)
		check  func(t *testing.T, c *credentials.Credential)
	}{
		{"birth year only", "registration.json", func(c *credentials.Credential) {
			c.Subject.(*credentials.Registration).DateOfBirth = "1991"
		}, func(t *testing.T, c *credentials.Credential) {
			if got := c.Subject.(*credentials.Registration).DateOfBirth; got != "1991" {
				t.Fatalf("date of birth %q", got)
			}
		}},
		{"birth month", "registration.json", func(c *credentials.Credential) {
			c.Subject.(*credentials.Registration).DateOfBirth = "1991-03"
		}, func(t *testing.T, c *credentials.Credential) {
			if got := c.Subject.(*credentials.Registration).DateOfBirth; got != "1991-03" {
				t.Fatalf("date of birth %q", got)
			}
		}},
		{"no status, no expiry", "registration.json", func(c *credentials.Credential) {
			c.Status, c.ValidUntil = nil, time.Time{}
		}, func(t *testing.T, c *credentials.Credential) {
			if c.Status != nil || !c.ValidUntil.IsZero() {
				t.Fatalf("status %v, validUntil %v", c.Status, c.ValidUntil)
			}
		}},
		{"no entitlement", "eligibility.json", func(c *credentials.Credential) {
			c.Subject.(*credentials.Eligibility).Entitlement = nil
		}, func(t *testing.T, c *credentials.Credential) {
			if c.Subject.(*credentials.Eligibility).Entitlement != nil {
				t.Fatal("an entitlement appeared")
			}
		}},
		{"every kind of shared field", "referral.json", func(c *credentials.Credential) {
			r := c.Subject.(*credentials.Referral)
			for name, v := range map[string]string{"gender": "other", "programme": "MPCA-2026", "householdSize": "5", "locationCode": "KE-DADAAB-HSP1", "firstName": "Fatima", "lastName": "Abdi"} {
				r.SharedFields[name] = v
				r.Consent.Fields = append(r.Consent.Fields, name)
			}
		}, func(t *testing.T, c *credentials.Credential) {
			if got := len(c.Subject.(*credentials.Referral).SharedFields); got != 9 {
				t.Fatalf("%d shared fields, want 9", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prepared(t, tc.sample, k)
			tc.edit(c)
			text, err := credentials.IssueCard(c, k, c.ValidFrom)
			if err != nil {
				t.Fatal(err)
			}
			card, err := credentials.ParseCard([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			got := card.Credential()
			want := cardView(t, c, c.ValidFrom)
			want.Status = c.Status
			if c.Status != nil {
				want.Status = credentials.StatusEntries("", 3, 94567)
			}
			if mustJSON(t, got) != mustJSON(t, want) {
				t.Fatalf("card credential differs:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
			}
			tc.check(t, got)
		})
	}
}
