package verifier_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// The IETF Token Status List is a JWT claim ("status", with status_list),
// for any referenced JWT, not only SD-JWT VCs. A VC-JWT of another issuer
// whose status is only there, revoked, must not come back valid with no
// status at all, the claim merely named among the skipped members.
func TestReviewForeignVCJWTTokenStatusIsChecked(t *testing.T) {
	ctx := context.Background()
	for _, inVC := range []bool{false, true} {
		f := newFixture(t)
		f.setStatus(t, credentials.PurposeRevocation, testIndex)
		v := f.verifier(t, verifier.Options{Trust: f.trustFor(t, credentials.TypeAny)})
		status := map[string]any{"status_list": map[string]any{"idx": testIndex, "uri": f.base + "/token/3"}}
		p := trainingV2(f, func(p map[string]any) {
			delete(p, "credentialStatus")
			p["status"] = status
		})
		if inVC {
			// VCDM 1.1: the credential in the vc claim, the status beside it.
			vc := map[string]any{}
			for _, m := range []string{"@context", "type", "credentialSubject"} {
				vc[m] = p[m]
				delete(p, m)
			}
			vc["@context"] = []any{credentials.BaseContextV1}
			delete(p, "issuer")
			delete(p, "validFrom")
			delete(p, "validUntil")
			delete(p, "id")
			p["vc"] = vc
		}
		res, err := v.Verify(ctx, signJWT(t, p, f.key, map[string]any{"typ": "JWT", "kid": f.key.ID}))
		if err == nil {
			t.Errorf("vc claim %v: a revoked credential was accepted (status %+v, warnings %q, skipped %q)", inVC, res.Status, res.Warnings, res.View().Skipped)
			continue
		}
		wantReason(t, err, verifier.Revoked)
	}
}

// A CWT may carry its IETF Token Status List reference in claim 65535
// (status). tally does not read it on a foreign Claim 169 card, but a card
// that says where its status is must not come back as one that has none:
// its status was not checked, and a strict verifier (MaxStatusAge) must
// refuse it.
func TestReviewForeignCardStatusClaimIsNotIgnored(t *testing.T) {
	signer := uriKey(t, "national-id-status", "k1")
	claims := idClaims()
	claims[65535] = map[any]any{"status_list": map[any]any{"idx": 42, "uri": "https://id.example.gov/status/1"}}
	card := idCard(t, signer, "k1", claims)
	v, err := verifier.New(verifier.Options{Trust: idTrust(signer), Now: clockNow, Offline: true, MaxStatusAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), card)
	if err == nil {
		t.Fatalf("a card whose status was not checked passed a strict verifier (status %+v, skipped %q)", res.Status, res.View().Skipped)
	}
	wantReason(t, err, verifier.StatusUnavailable)
}
