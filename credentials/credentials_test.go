package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

func loadSample(t testing.TB, name string) *credentials.Credential {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

func TestSamplesPrepareAndValidate(t *testing.T) {
	key, err := credentials.NewKey(ed25519.NewKeyFromSeed(make([]byte, 32)), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		typ  credentials.Type
	}{
		{"registration.json", credentials.TypeRegistration},
		{"eligibility.json", credentials.TypeEligibility},
		{"referral.json", credentials.TypeReferral},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := loadSample(t, tc.file)
			if c.Type != tc.typ {
				t.Fatalf("type = %s, want %s", c.Type, tc.typ)
			}
			if err := credentials.Prepare(c, key.DID, rand.Reader); err != nil {
				t.Fatal(err)
			}
			if c.Issuer != key.DID || !strings.HasPrefix(c.ID, "urn:uuid:") || len(credentials.SubjectSeed(c.Subject)) != 16 {
				t.Fatalf("prepare left %+v", c)
			}
			// JSON round trip keeps everything.
			data, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var back credentials.Credential
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(&back)
			if string(again) != string(data) {
				t.Fatalf("round trip changed the credential:\n%s\n%s", data, again)
			}
		})
	}
}

func TestValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, json, field string
	}{
		{"no type", `{"credentialSubject":{}}`, "type"},
		{"unknown type", `{"type":"PassportCredential","credentialSubject":{}}`, "type"},
		{"unknown claim", `{"type":"RegistrationCredential","credentialSubject":{"registrationId":"A1","fullName":"X","shoeSize":44}}`, "credentialSubject"},
		{"wrong claim type", `{"type":"RegistrationCredential","credentialSubject":{"registrationId":"A1","fullName":"X","householdSize":"five"}}`, "credentialSubject"},
		{"bad date", `{"type":"RegistrationCredential","validFrom":"yesterday","credentialSubject":{}}`, "validFrom"},
		{"no subject", `{"type":"RegistrationCredential"}`, "credentialSubject"},
		{"bad context", `{"@context":["https://example.org"],"type":"RegistrationCredential","credentialSubject":{}}`, "@context"},
		{"bad status", `{"type":"RegistrationCredential","credentialSubject":{},"credentialStatus":{"type":"StatusList2021Entry"}}`, "credentialStatus.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c credentials.Credential
			err := json.Unmarshal([]byte(tc.json), &c)
			var fe *credentials.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.field)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		edit  func(*credentials.Credential)
		field string
	}{
		{"no issuer", func(c *credentials.Credential) { c.Issuer = "" }, "issuer"},
		{"issuer not a DID", func(c *credentials.Credential) { c.Issuer = "UNHCR" }, "issuer"},
		{"no full name", func(c *credentials.Credential) { c.Subject.(*credentials.Registration).FullName = "" }, "credentialSubject.fullName"},
		{"bad birth date", func(c *credentials.Credential) { c.Subject.(*credentials.Registration).DateOfBirth = "14/03/1991" }, "credentialSubject.dateOfBirth"},
		{"bad gender", func(c *credentials.Credential) { c.Subject.(*credentials.Registration).Gender = "f" }, "credentialSubject.gender"},
		{"bad nationality", func(c *credentials.Credential) { c.Subject.(*credentials.Registration).Nationality = "Somalia" }, "credentialSubject.nationality"},
		{"short seed", func(c *credentials.Credential) { c.Subject.(*credentials.Registration).DedupSeed = []byte{1, 2} }, "credentialSubject.dedupSeed"},
		{"ends before it starts", func(c *credentials.Credential) { c.ValidUntil = c.ValidFrom }, "validUntil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadSample(t, "registration.json")
			c.Issuer = "did:web:example.org"
			tc.edit(c)
			err := c.Validate()
			var ve *credentials.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Field == tc.field {
					return
				}
			}
			t.Fatalf("no problem named %s in %v", tc.field, err)
		})
	}
}

func TestReferralSharedFieldsNeedConsent(t *testing.T) {
	c := loadSample(t, "referral.json")
	c.Issuer = "did:web:example.org"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r := c.Subject.(*credentials.Referral)
	r.Consent.Fields = []string{"fullName"}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "sharedFields.dateOfBirth: is shared without consent") {
		t.Fatalf("err = %v", err)
	}
	r.Consent = nil
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "consent: is missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestSchemaKeepsHighSensitivityOffCards(t *testing.T) {
	for _, name := range []string{"nationality", "legalStatus", "reason"} {
		c, ok := credentials.LookupClaim(name)
		if !ok || c.Sensitivity != credentials.High {
			t.Fatalf("%s: sensitivity %v, want high", name, c.Sensitivity)
		}
		for _, typ := range credentials.Types() {
			if c.OnCard(typ) {
				t.Fatalf("%s is on a %s card", name, typ)
			}
		}
	}
	seen := map[int]string{}
	for _, c := range credentials.Schema() {
		if c.Claim169 != 0 {
			if other, dup := seen[c.Claim169]; dup {
				t.Fatalf("Claim 169 key %d used by %s and %s", c.Claim169, other, c.Name)
			}
			seen[c.Claim169] = c.Name
		}
		if c.CardKey != 0 {
			if other, dup := seen[-c.CardKey]; dup {
				t.Fatalf("card key %d used by %s and %s", c.CardKey, other, c.Name)
			}
			seen[-c.CardKey] = c.Name
		}
	}
}

func TestKeysAndIdentifiers(t *testing.T) {
	for _, alg := range []credentials.Algorithm{credentials.EdDSA, credentials.ES256} {
		t.Run(string(alg), func(t *testing.T) {
			signer, err := credentials.GenerateKey(alg, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			k, err := credentials.NewKey(signer, "")
			if err != nil {
				t.Fatal(err)
			}
			wantPrefix := map[credentials.Algorithm]string{credentials.EdDSA: "did:key:z6Mk", credentials.ES256: "did:key:zDn"}[alg]
			if !strings.HasPrefix(k.DID, wantPrefix) || k.ID != k.DID+"#"+strings.TrimPrefix(k.DID, "did:key:") {
				t.Fatalf("did = %s, id = %s", k.DID, k.ID)
			}
			pub, err := credentials.ParseDIDKey(k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("did:key does not decode to the key")
			}
			if _, ok := pub.(*ecdsa.PublicKey); alg == credentials.ES256 && !ok {
				t.Fatalf("P-256 did:key decoded to %T", pub)
			}

			web, err := credentials.NewKey(signer, "did:web:dadaab.example.org")
			if err != nil {
				t.Fatal(err)
			}
			doc, err := credentials.NewDIDDocument(web)
			if err != nil {
				t.Fatal(err)
			}
			if doc.VerificationMethod[0].ID != web.ID || doc.AssertionMethod[0] != web.ID {
				t.Fatalf("did document: %+v", doc)
			}
			set, err := credentials.JWKSet(web)
			if err != nil || !strings.Contains(string(set), web.ID) || strings.Contains(string(set), `"d"`) {
				t.Fatalf("jwks: %s %v", set, err)
			}
			if len(web.CardKeyID()) != credentials.CardKeyIDSize {
				t.Fatal("card key id size")
			}
		})
	}
}

func TestDIDWeb(t *testing.T) {
	for _, tc := range []struct{ in, did, url string }{
		{"example.org", "did:web:example.org", "https://example.org/.well-known/did.json"},
		{"example.org/agencies/unhcr", "did:web:example.org:agencies:unhcr", "https://example.org/agencies/unhcr/did.json"},
		{"localhost:8443", "did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"},
	} {
		did, err := credentials.DIDWeb(tc.in)
		if err != nil || did != tc.did {
			t.Fatalf("DIDWeb(%q) = %q, %v", tc.in, did, err)
		}
		u, err := credentials.DIDWebURL(did)
		if err != nil || u != tc.url {
			t.Fatalf("DIDWebURL(%q) = %q, %v", did, u, err)
		}
	}
	for _, bad := range []string{"", "did:web:", "did:web:a:..:b", "did:key:z6Mk"} {
		if _, err := credentials.DIDWebURL(bad); err == nil {
			t.Fatalf("DIDWebURL(%q) accepted", bad)
		}
	}
}

func TestKeyFileSealing(t *testing.T) {
	signer, _ := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	k, _ := credentials.NewKey(signer, "did:web:dadaab.example.org")
	pass := []byte("correct horse battery staple")
	data, err := credentials.SealKey(k, pass, rand.Reader, credentials.SealOptions{ScryptN: fastScryptN})
	if err != nil {
		t.Fatal(err)
	}
	priv := signer.(ed25519.PrivateKey)
	if strings.Contains(string(data), string(priv.Seed())) {
		t.Fatal("the private key is in the clear")
	}
	opened, err := credentials.OpenKey(data, pass, cheapOpen)
	if err != nil {
		t.Fatal(err)
	}
	if !opened.Signer.(ed25519.PrivateKey).Equal(priv) || opened.ID != k.ID {
		t.Fatal("opened key differs")
	}
	if _, err := credentials.OpenKey(data, []byte("wrong horse battery staple"), cheapOpen); !errors.Is(err, credentials.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Swapping the public part is detected.
	other, _ := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	ok2, _ := credentials.NewKey(other, "did:web:dadaab.example.org")
	data2, _ := credentials.SealKey(ok2, pass, rand.Reader, credentials.SealOptions{ScryptN: fastScryptN})
	var f1, f2 map[string]json.RawMessage
	_ = json.Unmarshal(data, &f1)
	_ = json.Unmarshal(data2, &f2)
	f1["publicKeyJwk"], f1["kid"] = f2["publicKeyJwk"], f2["kid"]
	swapped, _ := json.Marshal(f1)
	if _, err := credentials.OpenKey(swapped, pass, cheapOpen); err == nil {
		t.Fatal("a key file with a swapped public key opened")
	}
	if _, err := credentials.SealKey(k, []byte("short"), rand.Reader, credentials.SealOptions{}); err == nil {
		t.Fatal("short passphrase accepted")
	}
	pubOnly, err := credentials.ReadPublicKey(data)
	if err != nil || pubOnly.Signer != nil || pubOnly.ID != k.ID {
		t.Fatalf("ReadPublicKey: %v", err)
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want credentials.Format
	}{
		{`{"@context":[]}`, credentials.FormatDataIntegrity},
		{"eyJh.eyJi.c2ln", credentials.FormatJWT},
		{"eyJh.eyJi.c2ln~WyJh~", credentials.FormatSDJWT},
		{"NCFOXN%TS3DH0YOJ58S S", credentials.FormatQR},
	} {
		got, err := credentials.DetectFormat([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Fatalf("DetectFormat(%q) = %s, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"", "   ", "hello world!", "<xml/>"} {
		if _, err := credentials.DetectFormat([]byte(bad)); err == nil {
			t.Fatalf("DetectFormat(%q) accepted", bad)
		}
	}
}

func TestSchemaCannotBeChangedFromOutside(t *testing.T) {
	table := credentials.Schema()
	for i := range table {
		if table[i].Name == "nationality" {
			table[i].Sensitivity = credentials.Low
			table[i].Card = append(table[i].Card[:0], credentials.TypeRegistration)
		}
	}
	c, _ := credentials.LookupClaim("nationality")
	c.Card = append(c.Card, credentials.TypeRegistration)
	c.Sensitivity = credentials.Low
	again, _ := credentials.LookupClaim("nationality")
	if again.Sensitivity != credentials.High || again.OnCard(credentials.TypeRegistration) {
		t.Fatal("a copy of the schema changed the schema")
	}
	types := credentials.Types()
	types[0] = "Passport"
	if credentials.Types()[0] != credentials.TypeRegistration {
		t.Fatal("Types() hands out the package's own slice")
	}
}
