package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// offerMade is the API's answer to a new offer.
type offerMade struct {
	ID                 string `json:"id"`
	CredentialOffer    string `json:"credentialOffer"`
	CredentialOfferURI string `json:"credentialOfferUri"`
	TxCode             string `json:"txCode"`
}

// makeOffer makes an offer of Fatima's registration credential over the
// API, as an integration would.
func (e *env) makeOffer(t *testing.T, body string) offerMade {
	t.Helper()
	res := e.do(http.MethodPost, "/api/v1/orgs/demo/registrations/"+e.regID+"/offers", "application/json", body, e.asToken("demo", issuer.RoleRegistrar))
	text := readBody(t, res)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("offer: %d %s", res.StatusCode, text)
	}
	var o offerMade
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, o.CredentialOfferURI)
	if o.TxCode != "" {
		e.secrets = append(e.secrets, o.TxCode)
	}
	return o
}

// TestWalletIssuance runs the pre-authorized code flow end to end with a
// wallet written from the spec: QR → offer → metadata → token with
// tx_code → nonce → key proof → credential, in both formats; then checks
// both credentials with the verifier library, and presents the SD-JWT VC
// with key binding.
func TestWalletIssuance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	made := e.makeOffer(t, `{"type":"RegistrationCredential","formats":["sd-jwt","jwt"]}`)
	if len(made.TxCode) != issuer.TxCodeLength {
		t.Fatalf("tx code %q", made.TxCode)
	}
	w := newWallet(t, e.ts.Client())
	offer := w.resolve(made.CredentialOffer)
	issuerID := e.ts.URL + "/orgs/demo"
	if offer.CredentialIssuer != issuerID || len(offer.CredentialConfigurationIDs) != 2 {
		t.Fatalf("offer %+v", offer)
	}
	grant, ok := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
	if !ok || grant.TxCode == nil || grant.TxCode.Length != 6 || grant.TxCode.InputMode != "numeric" {
		t.Fatalf("grant %+v", grant)
	}
	m := w.metadata(offer.CredentialIssuer)
	for _, id := range offer.CredentialConfigurationIDs {
		if _, ok := m.Configurations[id]; !ok {
			t.Fatalf("offered configuration %s is not in the metadata", id)
		}
	}
	res := w.token(m, grant.PreAuthorizedCode, &made.TxCode)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	res.json(t, &tok)
	if res.status != http.StatusOK || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	e.secrets = append(e.secrets, tok.AccessToken, grant.PreAuthorizedCode)

	v := e.verifierOf(t)
	got := map[string]string{}
	for _, id := range offer.CredentialConfigurationIDs {
		cred := w.credential(m, tok.AccessToken, id, w.proof(issuerID, w.nonce(m), proofOptions{kid: id == "RegistrationCredential_jwt_vc_json"})).issued(t)
		got[id] = cred
	}

	// The VC-JWT: valid, and its subject is the wallet's did:key.
	jwtRes, err := v.Verify(ctx, []byte(got["RegistrationCredential_jwt_vc_json"]))
	if err != nil {
		t.Fatalf("VC-JWT: %v", err)
	}
	did, _ := credentials.DIDKey(w.key.Public())
	if sub := jwtRes.Credential.Subject.(*credentials.Registration); sub.ID != did || sub.RegistrationID != "KE-DAD-2026-000123" {
		t.Fatalf("VC-JWT subject id %q, want %q", sub.ID, did)
	}
	// jwt_vc_json is the VCDM 1.1 JWT (OpenID4VCI 1.0 Appendix A.1.1), as
	// wallets read it: the credential in the vc claim, of the type the
	// metadata's credential_definition names, the holder's DID as sub.
	header, payload := w.jwtVC(got["RegistrationCredential_jwt_vc_json"])
	var def struct {
		CredentialDefinition struct {
			Type []string `json:"type"`
		} `json:"credential_definition"`
	}
	if err := json.Unmarshal(m.Configurations["RegistrationCredential_jwt_vc_json"], &def); err != nil {
		t.Fatal(err)
	}
	vc := payload.VC
	if header["typ"] != "JWT" || payload.Sub != did || payload.Iss != jwtRes.IssuerDID || payload.Jti == "" || payload.Nbf == 0 || payload.Exp == 0 ||
		len(vc.Context) == 0 || vc.Context[0] != "https://www.w3.org/2018/credentials/v1" || vc.Subject["id"] != did ||
		fmt.Sprint(vc.Type) != fmt.Sprint(def.CredentialDefinition.Type) || vc.IssuanceDate == "" || vc.Issuer != payload.Iss {
		t.Fatalf("jwt_vc_json is not a VCDM 1.1 JWT: header %v, payload %+v, credential_definition.type %v", header, payload, def.CredentialDefinition.Type)
	}

	// The SD-JWT VC: bound to the wallet's key, so it verifies only when
	// presented with key binding by that key.
	sd := got["RegistrationCredential_dc+sd-jwt"]
	if _, err := v.Verify(ctx, []byte(sd)); err == nil {
		t.Fatal("a key-bound SD-JWT VC verified without its holder's key binding")
	}
	pres, err := credentials.PresentSDJWT(sd, []string{"registrationId", "fullName"}, w.key, "https://verifier.example", "n-0S6_WzA2Mj", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sdRes, err := v.VerifyPresentation(ctx, []byte(pres), verifier.Presentation{Audience: "https://verifier.example", Nonce: "n-0S6_WzA2Mj"})
	if err != nil {
		t.Fatalf("SD-JWT presentation: %v", err)
	}
	if sub := sdRes.Credential.Subject.(*credentials.Registration); sub.FullName != "Fatima Hassan Abdi" || sub.DateOfBirth != "" {
		t.Fatalf("disclosed %+v", sub)
	}
	parsed, err := credentials.ParseSDJWT([]byte(sd))
	if err != nil || parsed.TokenStatus() == nil {
		t.Fatalf("the SD-JWT VC carries no status.status_list (%v)", err)
	}

	// Each credential has its status entry and record, bound to a wallet.
	recs, err := e.svc.Credentials(ctx, "demo", e.regID)
	if err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, r := range recs {
		if r.Bound {
			bound++
		}
	}
	if bound != 2 {
		t.Fatalf("%d wallet-bound records, want 2", bound)
	}

	// Spent: the code, the token for these configurations.
	if res := w.token(m, grant.PreAuthorizedCode, &made.TxCode); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_grant" {
		t.Fatalf("reused code: %d %s", res.status, res.body)
	}
	res = w.credential(m, tok.AccessToken, "RegistrationCredential_dc+sd-jwt", w.proof(issuerID, w.nonce(m), proofOptions{}))
	if res.status != http.StatusBadRequest || res.oauthError(t) != "credential_request_denied" {
		t.Fatalf("second credential with one token: %d %s", res.status, res.body)
	}
	if res := w.get(made.CredentialOfferURI); res.status != http.StatusNotFound {
		t.Fatalf("a redeemed offer is still served: %d", res.status)
	}
}

// redeemed makes an offer and redeems it: a wallet, its metadata, and an
// access token.
func (e *env) redeemed(t *testing.T, body string) (*wallet, walletMetadata, string) {
	t.Helper()
	made := e.makeOffer(t, body)
	w := newWallet(t, e.ts.Client())
	offer := w.resolve(made.CredentialOffer)
	m := w.metadata(offer.CredentialIssuer)
	var tx *string
	if made.TxCode != "" {
		tx = &made.TxCode
	}
	res := w.token(m, offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode, tx)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.json(t, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	e.secrets = append(e.secrets, tok.AccessToken)
	return w, m, tok.AccessToken
}

// TestTokenRefusals: the token endpoint refuses what it must, per
// section 6.3, and an offer dies after too many wrong transaction codes.
func TestTokenRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Run("wrong tx_code until the offer is dead", func(t *testing.T) {
		made := e.makeOffer(t, `{"type":"RegistrationCredential"}`)
		w := newWallet(t, e.ts.Client())
		offer := w.resolve(made.CredentialOffer)
		m := w.metadata(offer.CredentialIssuer)
		code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode
		if res := w.token(m, code, nil); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" {
			t.Fatalf("no tx_code: %d %s", res.status, res.body)
		}
		wrong := "000000"
		if made.TxCode == wrong {
			wrong = "111111"
		}
		for i := range issuer.MaxTxCodeAttempts {
			if res := w.token(m, code, &wrong); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_grant" {
				t.Fatalf("wrong tx_code %d: %d %s", i, res.status, res.body)
			}
		}
		if res := w.token(m, code, &made.TxCode); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_grant" {
			t.Fatalf("the right tx_code after %d wrong ones: %d %s", issuer.MaxTxCodeAttempts, res.status, res.body)
		}
	})
	t.Run("tx_code for an offer without one", func(t *testing.T) {
		made := e.makeOffer(t, `{"type":"RegistrationCredential","noTxCode":true}`)
		w := newWallet(t, e.ts.Client())
		offer := w.resolve(made.CredentialOffer)
		m := w.metadata(offer.CredentialIssuer)
		code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode
		x := "123456"
		if res := w.token(m, code, &x); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if res := w.token(m, code, nil); res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("expired offer", func(t *testing.T) {
		made := e.makeOffer(t, `{"type":"RegistrationCredential","noTxCode":true}`)
		w := newWallet(t, e.ts.Client())
		offer := w.resolve(made.CredentialOffer)
		m := w.metadata(offer.CredentialIssuer)
		code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode
		sum := sha256.Sum256([]byte(code))
		if _, err := e.db.UpdateOffer(ctx, "demo", sum[:], func(o *issuer.Offer) error {
			o.Expires = time.Now().Add(-time.Second)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if res := w.token(m, code, nil); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_grant" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("bad forms", func(t *testing.T) {
		w := newWallet(t, e.ts.Client())
		url := e.ts.URL + "/orgs/demo/token"
		for _, tc := range []struct{ contentType, body, want string }{
			{"application/json", `{"grant_type":"urn:ietf:params:oauth:grant-type:pre-authorized_code"}`, "invalid_request"},
			{"application/x-www-form-urlencoded", "", "invalid_request"},
			{"application/x-www-form-urlencoded", "grant_type=authorization_code&code=x", "unsupported_grant_type"},
			{"application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code", "invalid_request"},
			{"application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=a&pre-authorized_code=b", "invalid_request"},
			{"application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=forged", "invalid_grant"},
		} {
			if res := w.post(url, tc.contentType, tc.body, ""); res.status != http.StatusBadRequest || res.oauthError(t) != tc.want {
				t.Fatalf("%q: %d %s, want %s", tc.body, res.status, res.body, tc.want)
			}
		}
		if res := w.post(e.ts.URL+"/orgs/nobody/token", "application/x-www-form-urlencoded", "grant_type=x", ""); res.status != http.StatusNotFound {
			t.Fatalf("unknown organisation: %d", res.status)
		}
	})
}

// TestConcurrentRedemption: a pre-authorized code is exchanged once, even
// by many requests at the same time.
func TestConcurrentRedemption(t *testing.T) {
	e := newEnv(t)
	made := e.makeOffer(t, `{"type":"RegistrationCredential"}`)
	w := newWallet(t, e.ts.Client())
	offer := w.resolve(made.CredentialOffer)
	m := w.metadata(offer.CredentialIssuer)
	code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode
	const n = 12
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.token(m, code, &made.TxCode).status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent redemptions succeeded: %v", ok, n, statuses)
	}
}

// TestCredentialRefusals: the credential endpoint refuses bad tokens,
// requests and proofs with the error codes of section 8.3.1, and issues
// nothing.
func TestCredentialRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issuerID := e.ts.URL + "/orgs/demo"
	w, m, token := e.redeemed(t, `{"type":"RegistrationCredential"}`)
	const config = "RegistrationCredential_dc+sd-jwt"
	count := func() int {
		recs, err := e.svc.Credentials(ctx, "demo", e.regID)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	before := count()
	spent := w.nonce(m)
	// Spend a nonce on a good proof for another offer, so it is used.
	w2, m2, token2 := e.redeemed(t, `{"type":"RegistrationCredential"}`)
	w2.credential(m2, token2, config, w2.proof(issuerID, spent, proofOptions{})).issued(t)
	before++

	tests := []struct {
		name   string
		res    func() response
		status int
		code   string
	}{
		{"no token", func() response { return w.credential(m, "", config, w.proof(issuerID, w.nonce(m), proofOptions{})) }, 401, "invalid_token"},
		{"forged token", func() response {
			return w.credential(m, "forged", config, w.proof(issuerID, w.nonce(m), proofOptions{}))
		}, 401, "invalid_token"},
		{"unknown configuration", func() response {
			return w.credential(m, token, "PassportCredential_dc+sd-jwt", w.proof(issuerID, w.nonce(m), proofOptions{}))
		}, 400, "unknown_credential_configuration"},
		{"configuration not offered", func() response {
			return w.credential(m, token, "RegistrationCredential_jwt_vc_json", w.proof(issuerID, w.nonce(m), proofOptions{}))
		}, 400, "credential_request_denied"},
		{"no proofs", func() response {
			return w.post(m.CredentialEndpoint, "application/json", `{"credential_configuration_id":"`+config+`"}`, token)
		}, 400, "invalid_proof"},
		{"draft singular proof", func() response {
			return w.post(m.CredentialEndpoint, "application/json", `{"credential_configuration_id":"`+config+`","proof":{"proof_type":"jwt","jwt":"`+w.proof(issuerID, w.nonce(m), proofOptions{})+`"}}`, token)
		}, 400, "invalid_proof"},
		{"not JSON", func() response {
			return w.post(m.CredentialEndpoint, "application/json", `{"credential_configuration_id":`, token)
		}, 400, "invalid_credential_request"},
		{"two proofs", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{}), w.proof(issuerID, w.nonce(m), proofOptions{}))
		}, 400, "invalid_proof"},
		{"wrong aud", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{aud: e.ts.URL + "/orgs/other"}))
		}, 400, "invalid_proof"},
		{"wrong typ", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{typ: "JWT"}))
		}, 400, "invalid_proof"},
		{"alg none", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{alg: jwa.NoSignature}))
		}, 400, "invalid_proof"},
		{"alg HS256", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{alg: jwa.HS256}))
		}, 400, "invalid_proof"},
		{"old iat", func() response {
			return w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{iat: time.Now().Add(-time.Hour)}))
		}, 400, "invalid_proof"},
		{"no nonce", func() response { return w.credential(m, token, config, w.proof(issuerID, "", proofOptions{})) }, 400, "invalid_proof"},
		{"forged nonce", func() response {
			return w.credential(m, token, config, w.proof(issuerID, "bm90IGEgbm9uY2U", proofOptions{}))
		}, 400, "invalid_nonce"},
		{"reused nonce", func() response { return w.credential(m, token, config, w.proof(issuerID, spent, proofOptions{})) }, 400, "invalid_nonce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res()
			if res.status != tc.status || res.oauthError(t) != tc.code {
				t.Fatalf("%d %s, want %d %s", res.status, res.body, tc.status, tc.code)
			}
			if tc.status == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if count() != before {
				t.Fatal("a refused request issued a credential")
			}
		})
	}
	// After all that, the token still gets its one credential.
	w.credential(m, token, config, w.proof(issuerID, w.nonce(m), proofOptions{})).issued(t)
}

// TestConcurrentCredentialRequests: one access token yields its credential
// once, even to requests at the same time, each with its own good proof.
func TestConcurrentCredentialRequests(t *testing.T) {
	e := newEnv(t)
	w, m, token := e.redeemed(t, `{"type":"RegistrationCredential"}`)
	const n = 8
	proofs := make([]string, n)
	for i := range proofs {
		proofs[i] = w.proof(e.ts.URL+"/orgs/demo", w.nonce(m), proofOptions{})
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.credential(m, token, "RegistrationCredential_dc+sd-jwt", proofs[i]).status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	recs, err := e.svc.Credentials(context.Background(), "demo", e.regID)
	if err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, r := range recs {
		if r.Bound {
			bound++
		}
	}
	if ok != 1 || bound != 1 {
		t.Fatalf("%d of %d concurrent requests got a credential, %d recorded: %v", ok, n, bound, statuses)
	}
}
