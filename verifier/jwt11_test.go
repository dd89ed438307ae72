package verifier_test

import (
	"context"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// A tally credential as a VCDM 1.1 JWT (what a wallet receives for
// OpenID4VCI's jwt_vc_json) is one of tally's own: the verifier reads its
// typed credential, derives the same dedup token as from the VC-JWT of the
// same credential, and checks its status from the entries in the vc claim.
func TestVerifyTallyJWT11(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.verifier(t, verifier.Options{})
	domain, _ := verifier.NewDedupKey("dadaab", nil)
	holder := testKey(t, "holder", "").DID

	c := sample(t, "registration", f.key, f.base)
	c.Subject.(*credentials.Registration).ID = holder
	v11, err := credentials.IssueJWT11(c, f.key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(ctx, []byte(v11))
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != credentials.FormatJWT || res.Credential == nil || res.Credential.Type != credentials.TypeRegistration {
		t.Fatalf("result %+v", res)
	}
	if sub := res.Credential.Subject.(*credentials.Registration); sub.ID != holder || sub.DedupSeed != nil {
		t.Fatalf("subject id %q, seed kept %v", sub.ID, sub.DedupSeed != nil)
	}
	if !res.Status.HasStatus || !res.Status.Checked {
		t.Fatalf("status %+v", res.Status)
	}
	tok11, err := res.DedupToken(domain)
	if err != nil {
		t.Fatal(err)
	}
	res20, err := v.Verify(ctx, issue(t, credentials.FormatJWT, c, f.key))
	if err != nil {
		t.Fatal(err)
	}
	if tok20, _ := res20.DedupToken(domain); tok20 != tok11 {
		t.Fatalf("dedup token %s from the VCDM 1.1 JWT, %s from the VC-JWT", tok11, tok20)
	}

	// Its status entries are read: revoked, it fails.
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	_, err = f.verifier(t, verifier.Options{}).Verify(ctx, []byte(v11))
	wantReason(t, err, verifier.Revoked)
	f.clearStatus(t, credentials.PurposeRevocation, testIndex)

	// An issuer the trust list allows only eligibility credentials may not
	// issue it in this shape either.
	only := f.trustFor(t, credentials.TypeEligibility)
	_, err = f.verifier(t, verifier.Options{Trust: only}).Verify(ctx, []byte(v11))
	wantReason(t, err, verifier.TypeNotAllowed)

	// Signed by another key under the issuer's kid: refused.
	forger := testKey(t, "forger", f.key.DID)
	forger.ID = f.key.ID
	forged, err := credentials.IssueJWT11(c, forger)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(ctx, []byte(forged))
	wantReason(t, err, verifier.BadSignature)
}
