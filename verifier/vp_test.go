package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// FuzzVerifyW3CPresentation: any presentation input is verified or
// refused with a *verifier.Error, without panicking, and a presentation
// whose holder key signed nothing is never proved.
func FuzzVerifyW3CPresentation(f *testing.F) {
	fx := newFixture(f)
	v := fx.verifier(f, verifier.Options{Trust: fx.trustFor(f, credentials.TypeAny)})
	holder := testKey(f, "wallet", "")
	vc := string(signJWT(f, trainingV2(fx, func(p map[string]any) { delete(p, "credentialStatus") }), fx.key, map[string]any{"typ": "vc+jwt", "kid": fx.key.ID}))
	vp := map[string]any{"@context": []any{credentials.BaseContext}, "type": []any{"VerifiablePresentation"}, "holder": holder.DID,
		"verifiableCredential": []any{map[string]any{"@context": []any{credentials.BaseContext}, "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt," + vc}}}
	unsigned, _ := json.Marshal(vp)
	vp["nonce"], vp["aud"] = "c-1", "https://verifier.example"
	jwt := signJWT(f, vp, holder, map[string]any{"typ": "vp+jwt", "kid": holder.ID})
	enveloped, _ := json.Marshal(map[string]any{"type": "EnvelopedVerifiablePresentation", "id": "data:application/vp+jwt," + string(jwt)})
	for _, seed := range [][]byte{unsigned, jwt, enveloped, []byte(vc + "~"), []byte(`{"verifiableCredential":[1,"x"]}`), []byte(`{"proof":{}}`)} {
		f.Add(seed, "c-1", "https://verifier.example")
	}
	// The seeds verify as they should.
	ctx := context.Background()
	if res, err := v.VerifyW3CPresentation(ctx, enveloped, verifier.PresentationRequest{Challenge: "c-1", Domain: "https://verifier.example"}); err != nil || !res.Verified() || !res.Proved || res.Holder != holder.DID {
		f.Fatalf("the enveloped VP-JWT: %v %+v", err, res)
	}
	if _, err := v.VerifyW3CPresentation(ctx, enveloped, verifier.PresentationRequest{Challenge: "c-2"}); err == nil {
		f.Fatal("a VP-JWT for another challenge verified")
	}
	if res, err := v.VerifyW3CPresentation(ctx, unsigned, verifier.PresentationRequest{}); err != nil || !res.Verified() || res.Proved {
		f.Fatalf("the unsigned presentation: %v %+v", err, res)
	}
	f.Fuzz(func(t *testing.T, raw []byte, challenge, domain string) {
		res, err := v.VerifyW3CPresentation(ctx, raw, verifier.PresentationRequest{Challenge: challenge, Domain: domain})
		if err != nil {
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				t.Fatalf("an error that is not a *verifier.Error: %v", err)
			}
			return
		}
		if len(res.Results) != len(res.Errors) {
			t.Fatal("results and errors do not pair")
		}
		if (challenge != "" || domain != "") && !res.Proved {
			t.Fatal("a presentation without proof answered a challenge")
		}
	})
}
