package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/jsonedit"
	"github.com/tally-id/tally/verifier"
)

// shelterNS is the vocabulary of a foreign issuer's Data Integrity
// credentials, carried in an inline context.
const shelterNS = "https://shelter.example/ns#"

// signForeignDI signs a foreign Data Integrity credential with the
// fixture's issuer key.
func signForeignDI(t *testing.T, f *fixture, doc map[string]any) []byte {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testDI.Sign(context.Background(), body, f.key, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteDI decodes a signed credential, lets edit change it, and encodes
// it again, its proof untouched.
func rewriteDI(t *testing.T, raw []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	return jsonedit.Edit(t, raw, edit)
}

// An issuer trusted for ShelterCredential also signs VolunteerBadge
// credentials. The @context is not signed, only the statements it yields:
// anyone can rename the badge's type IRI to the term ShelterCredential in
// an inline context, and the signature still holds. The trust list's type
// restriction must not be decided on a name the attacker chose.
func TestReviewDataIntegrityTypeRelabelledByContext(t *testing.T) {
	f := newFixture(t)
	trust := f.trustFor(t, "ShelterCredential")
	v := f.verifier(t, verifier.Options{Trust: trust, Offline: true})
	badge := signForeignDI(t, f, map[string]any{
		"@context": []any{credentials.BaseContext, map[string]any{
			"VolunteerBadge": shelterNS + "VolunteerBadge",
			"volunteer":      shelterNS + "volunteer",
		}},
		"type":              []any{"VerifiableCredential", "VolunteerBadge"},
		"issuer":            f.key.DID,
		"credentialSubject": map[string]any{"volunteer": "Block C kitchen"},
	})
	// Honestly presented, the badge is not a type the issuer is trusted for.
	_, err := v.Verify(context.Background(), badge)
	var verr *verifier.Error
	if !errors.As(err, &verr) || verr.Reason != verifier.TypeNotAllowed {
		t.Fatalf("the badge as signed: err = %v, want TypeNotAllowed", err)
	}
	// The attacker's rewrite: the same statements, the badge's type IRI
	// named ShelterCredential.
	forged := rewriteDI(t, badge, func(m map[string]any) {
		m["@context"] = []any{credentials.BaseContext, map[string]any{
			"ShelterCredential": shelterNS + "VolunteerBadge",
			"volunteer":         shelterNS + "volunteer",
		}}
		m["type"] = []any{"VerifiableCredential", "ShelterCredential"}
	})
	res, err := v.Verify(context.Background(), forged)
	if err == nil {
		t.Fatalf("a VolunteerBadge renamed by its @context was accepted as %v", res.View().Types)
	}
	if !errors.As(err, &verr) || verr.Reason != verifier.TypeNotAllowed {
		t.Fatalf("forged: err = %v, want TypeNotAllowed", err)
	}
}

// The claims a verifier shows are named from the @context, which is not
// signed: swapping two terms of an inline context, and the two members
// with them, keeps the statements and the signature, and must not swap
// what the view says.
func TestReviewDataIntegrityClaimsRenamedByContext(t *testing.T) {
	f := newFixture(t)
	trust := f.trustFor(t, credentials.TypeAny)
	v := f.verifier(t, verifier.Options{Trust: trust, Offline: true})
	ctx := func(approved, requested string) map[string]any {
		return map[string]any{
			"ShelterCredential": shelterNS + "ShelterCredential",
			approved:            map[string]any{"@id": shelterNS + "approvedBeds", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
			requested:           map[string]any{"@id": shelterNS + "requestedBeds", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
		}
	}
	signed := signForeignDI(t, f, map[string]any{
		"@context":          []any{credentials.BaseContext, ctx("approvedBeds", "requestedBeds")},
		"type":              []any{"VerifiableCredential", "ShelterCredential"},
		"issuer":            f.key.DID,
		"credentialSubject": map[string]any{"approvedBeds": 1, "requestedBeds": 9},
	})
	forged := rewriteDI(t, signed, func(m map[string]any) {
		m["@context"] = []any{credentials.BaseContext, ctx("requestedBeds", "approvedBeds")}
		m["credentialSubject"] = map[string]any{"approvedBeds": 9, "requestedBeds": 1}
	})
	a, err := v.Verify(context.Background(), signed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Verify(context.Background(), forged)
	if err != nil {
		// Refusing the rewrite is fine too.
		return
	}
	if string(a.View().Claims) != string(b.View().Claims) {
		t.Fatalf("the same signed statements are shown as %s and, after a rewrite of the unsigned @context, as %s", a.View().Claims, b.View().Claims)
	}
}

// A trust list that lets an issuer issue RegistrationCredential means
// tally's registration credential: its schema, its dedup seed, decided on
// by the typed path. A credential of another vocabulary that merely calls
// its type RegistrationCredential (the W3C examples vocabulary's, here)
// must not pass the generic path under that entry.
func TestReviewGenericPathDoesNotTakeTallyTypeNames(t *testing.T) {
	f := newFixture(t)
	trust := f.trustFor(t, credentials.TypeRegistration)
	v := f.verifier(t, verifier.Options{Trust: trust, Offline: true})
	raw := signForeignDI(t, f, map[string]any{
		"@context":          []any{credentials.BaseContext, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "RegistrationCredential"},
		"issuer":            f.key.DID,
		"credentialSubject": map[string]any{"name": "anyone"},
	})
	var verr *verifier.Error
	res, err := v.Verify(context.Background(), raw)
	switch {
	case err == nil:
		t.Errorf("a credential that is not tally's was accepted as %v (Credential %v)", res.View().Types, res.Credential)
	case !errors.As(err, &verr) || verr.Reason != verifier.TypeNotAllowed:
		t.Errorf("err = %v, want TypeNotAllowed", err)
	}
	// So with an SD-JWT VC whose vct is the bare name, not tally's vct.
	sd := string(signJWT(t, map[string]any{
		"iss": f.key.DID, "vct": "RegistrationCredential", "iat": testNow.Unix(), "given_name": "anyone",
	}, f.key, map[string]any{"typ": "dc+sd-jwt", "kid": f.key.ID})) + "~"
	res, err = v.Verify(context.Background(), []byte(sd))
	switch {
	case err == nil:
		t.Errorf("an SD-JWT VC that is not tally's was accepted as %v (Credential %v)", res.View().Types, res.Credential)
	case !errors.As(err, &verr) || verr.Reason != verifier.TypeNotAllowed:
		t.Errorf("SD-JWT: err = %v, want TypeNotAllowed", err)
	}
}
