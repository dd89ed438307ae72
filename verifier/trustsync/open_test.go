package trustsync_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// TestOpenModeOnlyForConformance: with TrustDIDKeyIssuers (tally serve
// --vc-api-open), anyone's did:key may sign a registration credential with
// a dedup seed. Only the VC API's conformance verifier may accept it; the
// verifier the desk, OpenID4VP and referrals use must refuse it, or a
// forged card passes at a service point (with a mere warning) and its
// token is recorded in the dedup registry.
func TestOpenModeOnlyForConformance(t *testing.T) {
	s := newSetup(t)
	st, closeDB := openStores(t, s.dir)
	defer closeDB()
	svc, err := trustsync.New(ctx, trustsync.Options{Stores: st, Anchors: []json.RawMessage{s.anchor.jwk}, ConfigList: s.anchor.list,
		ConfigListName: "consortium.jws", Verifier: verifier.Options{Now: s.clk.Now, TrustDIDKeyIssuers: true}})
	if err != nil {
		t.Fatal(err)
	}
	forger := testKey(t, "anyone at all", "")
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c.Status = nil
	credentials.SetSubjectSeed(c.Subject, credentials.Seed("0123456789abcdef"))
	if err := credentials.Prepare(&c, forger.DID, nil); err != nil {
		t.Fatal(err)
	}
	forged, err := credentials.IssueJWT(&c, forger, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Verifier().Verify(ctx, []byte(forged)); reason(err) != verifier.UntrustedIssuer {
		t.Fatalf("the service's verifier accepted a did:key issuer outside the trust list: %v", err)
	}
	res, err := svc.ConformanceVerifier().Verify(ctx, []byte(forged))
	if err != nil || !slices.Contains(res.Warnings, verifier.UntrustedDIDKeyWarning) {
		t.Fatalf("the conformance verifier: %v %+v", err, res)
	}
	// The trust list's issuer is accepted by both.
	for _, v := range []*verifier.Verifier{svc.Verifier(), svc.ConformanceVerifier()} {
		if _, err := v.Verify(ctx, s.iss.credential(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Without the option, the conformance verifier is the service's.
	plain, closePlain := newSetup(t).service(t, false)
	defer closePlain()
	if plain.ConformanceVerifier() != plain.Verifier() {
		t.Fatal("two verifiers without TrustDIDKeyIssuers")
	}
}
