package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/issuer"
)

// vpVerifyBody is a POST /presentations/verify body.
func vpVerifyBody(vp any, options map[string]any) string {
	if options == nil {
		options = map[string]any{"checks": []string{}}
	}
	b, err := json.Marshal(map[string]any{"verifiablePresentation": vp, "options": options})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// unsignedVP is a presentation, without proof, of the credentials given.
func unsignedVP(holder string, creds ...any) map[string]any {
	vp := map[string]any{
		"@context":             []any{"https://www.w3.org/ns/credentials/v2"},
		"type":                 []any{"VerifiablePresentation"},
		"verifiableCredential": creds,
	}
	if holder != "" {
		vp["holder"] = holder
	}
	return vp
}

// signedVP is the presentation signed by the holder with a Data Integrity
// authentication proof for challenge and domain.
func signedVP(t testing.TB, vp map[string]any, holder *credentials.Key, challenge, domain string) json.RawMessage {
	t.Helper()
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(vp)
	if err != nil {
		t.Fatal(err)
	}
	out, err := di.SignPresentation(context.Background(), b, holder, time.Now(), challenge, domain)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// vpJWT is the presentation as an enveloped VP-JWT by the holder, with
// nonce and aud.
func vpJWT(t testing.TB, vp map[string]any, holder *credentials.Key, nonce, aud string) map[string]any {
	t.Helper()
	p := map[string]any{}
	for k, v := range vp {
		p[k] = v
	}
	p["nonce"], p["aud"] = nonce, aud
	payload, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	_ = h.Set("typ", "vp+jwt")
	_ = h.Set("kid", holder.ID)
	tok, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, holder.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiablePresentation", "id": "data:application/vp+jwt," + string(tok)}
}

// vpverifyCases are the route table's cases of POST /presentations/verify.
func vpverifyCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	t := e.t
	di := e.vcIssue(t, vcIssueBody(vcCredential(nil), ""), e.asToken("demo", issuer.RoleRegistrar))
	holder := didKeyIssuer(t, "wallet")
	vp := unsignedVP(holder.DID, di)
	signed := signedVP(t, vp, holder, "c-1", "https://verifier.example")
	ask := map[string]any{"challenge": "c-1", "domain": "https://verifier.example"}
	edited := func(name string, edit func(m map[string]any), status int, fields ...string) badInput {
		m := editJSON(t, signed, edit)
		return badInput{name, jsonType, vpVerifyBody(m, ask), status, fields, nil}
	}
	const vpf = "verifiablePresentation"
	return map[string]routeCase{
		"POST /presentations/verify": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return vpVerifyBody(signed, ask) },
			bad: []badInput{
				{"not JSON", formType, form(vpf, "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"no presentation", jsonType, `{"options":{}}`, http.StatusBadRequest, []string{vpf}, nil},
				{"a credential instead", jsonType, `{"verifiableCredential":{}}`, http.StatusBadRequest, []string{"body"}, nil},
				{"presentation a number", jsonType, `{"verifiablePresentation":4}`, http.StatusBadRequest, []string{vpf}, nil},
				{"unknown check", jsonType, `{"verifiablePresentation":"x","options":{"checks":["astrology"]}}`, http.StatusBadRequest, []string{"options.checks"}, nil},
				{"challenge too long", jsonType, vpVerifyBody(signed, map[string]any{"challenge": strings.Repeat("c", 2000)}), http.StatusBadRequest, []string{"options.challenge"}, nil},
				edited("no @context", func(m map[string]any) { delete(m, "@context") }, http.StatusBadRequest, vpf+".@context"),
				edited("no type", func(m map[string]any) { delete(m, "type") }, http.StatusBadRequest, vpf+".type"),
				edited("type without VerifiablePresentation", func(m map[string]any) { m["type"] = []any{"VerifiableCredential"} }, http.StatusBadRequest, vpf+".type"),
				edited("holder a number", func(m map[string]any) { m["holder"] = 4 }, http.StatusBadRequest, vpf+".holder"),
				edited("verifiableCredential a number", func(m map[string]any) { m["verifiableCredential"] = 4 }, http.StatusBadRequest, vpf+".verifiableCredential"),
				edited("no proof.proofValue", func(m map[string]any) { delete(m["proof"].(map[string]any), "proofValue") }, http.StatusBadRequest, vpf+".proof.proofValue"),
				edited("a credential removed (signed)", func(m map[string]any) { m["verifiableCredential"] = []any{} }, http.StatusBadRequest, vpf),
				{"another challenge", jsonType, vpVerifyBody(signed, map[string]any{"challenge": "c-2", "domain": "https://verifier.example"}), http.StatusUnprocessableEntity, []string{vpf}, nil},
				{"another domain", jsonType, vpVerifyBody(signed, map[string]any{"challenge": "c-1", "domain": "https://elsewhere.example"}), http.StatusUnprocessableEntity, []string{vpf}, nil},
				{"no proof when a challenge is asked", jsonType, vpVerifyBody(vp, ask), http.StatusUnprocessableEntity, []string{vpf}, nil},
				{"a credential from outside the trust list", jsonType, vpVerifyBody(unsignedVP("", outsideJWT(t, didKeyIssuer(t, "outside"), nil)), nil), http.StatusUnprocessableEntity, []string{vpf + ".verifiableCredential[0]"}, nil},
			},
		},
	}
}

// TestVCAPIVerifyPresentation verifies presentations of what the VC API
// issued: without proof, with a holder's Data Integrity proof, as a
// VP-JWT; and refuses replays and presentations for another verifier.
func TestVCAPIVerifyPresentation(t *testing.T) {
	e := newEnv(t)
	di := e.vcIssue(t, vcIssueBody(vcCredential(nil), ""), e.asToken("demo", issuer.RoleRegistrar))
	jwt := e.vcIssue(t, vcIssueBody(vcCredential(nil), `{"format":"jwt"}`), e.asToken("demo", issuer.RoleRegistrar))
	holder := didKeyIssuer(t, "wallet")
	vp := unsignedVP(holder.DID, di, jwt)
	ask := map[string]any{"challenge": "c-77", "domain": "https://verifier.example"}
	post := func(t *testing.T, body string) (int, verifyAnswer) {
		t.Helper()
		return verifyAt(t, e.ts.URL, "/presentations/verify", body, "Authorization", "Bearer "+e.token["demo/supervisor"])
	}
	tests := []struct {
		name     string
		body     string
		want     int
		reason   string
		verified int // credentials verified
	}{
		{"no proof, no challenge asked", vpVerifyBody(vp, nil), http.StatusOK, "", 2},
		{"no proof, a challenge asked", vpVerifyBody(vp, ask), http.StatusUnprocessableEntity, "BAD_PRESENTATION", 0},
		{"Data Integrity proof", vpVerifyBody(signedVP(t, vp, holder, "c-77", "https://verifier.example"), ask), http.StatusOK, "", 2},
		{"Data Integrity proof, replayed for another challenge", vpVerifyBody(signedVP(t, vp, holder, "c-76", "https://verifier.example"), ask), http.StatusUnprocessableEntity, "BAD_PRESENTATION", 0},
		{"Data Integrity proof by another key than the holder's", vpVerifyBody(signedVP(t, vp, didKeyIssuer(t, "thief"), "c-77", "https://verifier.example"), ask), http.StatusBadRequest, "MALFORMED", 0},
		{"VP-JWT", vpVerifyBody(vpJWT(t, vp, holder, "c-77", "https://verifier.example"), ask), http.StatusOK, "", 2},
		{"VP-JWT for another verifier", vpVerifyBody(vpJWT(t, vp, holder, "c-77", "https://elsewhere.example"), ask), http.StatusUnprocessableEntity, "BAD_PRESENTATION", 0},
		{"VP-JWT, replayed for another challenge", vpVerifyBody(vpJWT(t, vp, holder, "c-1", "https://verifier.example"), ask), http.StatusUnprocessableEntity, "BAD_PRESENTATION", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := post(t, tc.body)
			if code != tc.want || out.Verified != (tc.want == http.StatusOK) {
				t.Fatalf("%d %+v", code, out)
			}
			if tc.reason != "" && (len(out.Errors) == 0 || out.Errors[0].Reason != tc.reason) {
				t.Fatalf("reason: %+v, want %s", out.Errors, tc.reason)
			}
			n := 0
			for _, c := range out.Credentials {
				if c.Verified {
					n++
				}
			}
			if n != tc.verified {
				t.Fatalf("%d credentials verified, want %d: %+v", n, tc.verified, out)
			}
		})
	}
}
