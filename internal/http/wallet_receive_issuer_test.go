package http_test

// wallet/receive: a Credential Issuer of another project, written from
// OpenID4VCI 1.0 for the wallet's tests with net/http and jwx only — not
// tally's issuer. Its identifier has a path (/issuers/acme), its
// Authorization Server is another server (also with a path, /auth), it
// issues jwt_vc_json (VCDM 1.1 VC-JWT) signed by a did:jwk, names itself
// and its credential in English and French, and can be told to misbehave.

import (
	"os"
	"path/filepath"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"github.com/tally-id/tally/credentials"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// foreignIssuer is the other project's issuer.
type foreignIssuer struct {
	is, as *httptest.Server
	key    *ecdsa.PrivateKey
	did    string
	// txCode, when set, is the transaction code every offer asks for.
	txCode string
	// mode makes the issuer misbehave: "other-issuer" (metadata of
	// another issuer), "huge" (metadata larger than any wallet reads),
	// "other-key" (binds the credential to another key), "tamper" (a
	// signature that does not verify), "deferred" (a transaction_id).
	mode string

	mu     sync.Mutex
	codes  map[string]bool // pre-authorized codes not yet exchanged
	tokens map[string]bool
	nonces map[string]bool
	offers map[string]string // offers by reference
	issued int
}

func (f *foreignIssuer) issuerID() string { return f.is.URL + "/issuers/acme" }
func (f *foreignIssuer) asID() string     { return f.as.URL + "/auth" }

func newForeignIssuer(mode string) *foreignIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	pub, err := jwk.FromRaw(key.Public())
	if err != nil {
		panic(err)
	}
	raw, _ := json.Marshal(pub)
	f := &foreignIssuer{key: key, did: "did:jwk:" + base64.RawURLEncoding.EncodeToString(raw), mode: mode,
		codes: map[string]bool{}, tokens: map[string]bool{}, nonces: map[string]bool{}, offers: map[string]string{}}
	f.is = httptest.NewServer(http.HandlerFunc(f.serveIssuer))
	f.as = httptest.NewServer(http.HandlerFunc(f.serveAS))
	return f
}

func (f *foreignIssuer) close() { f.is.Close(); f.as.Close() }

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// offerJSON makes a new offer object (section 4.1.1).
func (f *foreignIssuer) offerJSON() string {
	code := randomString()
	f.mu.Lock()
	f.codes[code] = true
	f.mu.Unlock()
	grant := map[string]any{"pre-authorized_code": code}
	if f.txCode != "" {
		grant["tx_code"] = map[string]any{"input_mode": "numeric", "length": len(f.txCode), "description": "Code sent by SMS"}
	}
	b, _ := json.Marshal(map[string]any{
		"credential_issuer":            f.issuerID(),
		"credential_configuration_ids": []string{"food_voucher"},
		"grants":                       map[string]any{"urn:ietf:params:oauth:grant-type:pre-authorized_code": grant},
	})
	return string(b)
}

// offerByValue is openid-credential-offer://?credential_offer=….
func (f *foreignIssuer) offerByValue() string {
	return "openid-credential-offer://?" + url.Values{"credential_offer": {f.offerJSON()}}.Encode()
}

// offerByReference is openid-credential-offer://?credential_offer_uri=….
func (f *foreignIssuer) offerByReference() string {
	id, o := randomString(), f.offerJSON()
	f.mu.Lock()
	f.offers[id] = o
	f.mu.Unlock()
	return "openid-credential-offer://?" + url.Values{"credential_offer_uri": {f.issuerID() + "/offers/" + id}}.Encode()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (f *foreignIssuer) serveIssuer(w http.ResponseWriter, r *http.Request) {
	base := "/issuers/acme"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/openid-credential-issuer"+base:
		f.metadata(w)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/offers/"):
		f.mu.Lock()
		o, ok := f.offers[strings.TrimPrefix(r.URL.Path, base+"/offers/")]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(o))
	case r.Method == http.MethodPost && r.URL.Path == base+"/nonce":
		n := randomString()
		f.mu.Lock()
		f.nonces[n] = true
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"c_nonce": n})
	case r.Method == http.MethodPost && r.URL.Path == base+"/credential":
		f.credential(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *foreignIssuer) metadata(w http.ResponseWriter) {
	id := f.issuerID()
	if f.mode == "other-issuer" {
		id = f.is.URL + "/issuers/someone-else"
	}
	m := map[string]any{
		"credential_issuer":     id,
		"authorization_servers": []string{f.asID()},
		"credential_endpoint":   f.issuerID() + "/credential",
		"nonce_endpoint":        f.issuerID() + "/nonce",
		"display":               []map[string]string{{"name": "Acme Relief", "locale": "en"}, {"name": "Secours Acme", "locale": "fr"}},
		"credential_configurations_supported": map[string]any{
			"food_voucher": map[string]any{
				"format": "jwt_vc_json",
				"cryptographic_binding_methods_supported": []string{"did:jwk"},
				"credential_signing_alg_values_supported": []string{"ES256"},
				"proof_types_supported":                   map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": []string{"ES256"}}},
				"credential_definition":                   map[string]any{"type": []string{"VerifiableCredential", "FoodVoucherCredential"}},
				"credential_metadata": map[string]any{"display": []map[string]string{
					{"name": "Food voucher", "locale": "en"}, {"name": "Bon alimentaire", "locale": "fr"},
				}},
			},
		},
	}
	if f.mode == "huge" {
		m["padding"] = strings.Repeat("x", 2<<20)
	}
	writeJSON(w, http.StatusOK, m)
}

func (f *foreignIssuer) serveAS(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/oauth-authorization-server/auth":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": f.asID(), "token_endpoint": f.asID() + "/token",
			"grant_types_supported":                           []string{"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
			"pre-authorized_grant_anonymous_access_supported": true,
		})
	case r.Method == http.MethodPost && r.URL.Path == "/auth/token":
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:pre-authorized_code" {
			oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "pre-authorized code only")
			return
		}
		code := r.PostForm.Get("pre-authorized_code")
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.codes[code] {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "unknown or used pre-authorized code")
			return
		}
		if f.txCode != "" && r.PostForm.Get("tx_code") != f.txCode {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "wrong transaction code")
			return
		}
		delete(f.codes, code)
		tok := randomString()
		f.tokens[tok] = true
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
	default:
		http.NotFound(w, r)
	}
}

// credential answers a credential request (section 8): the access token,
// the one jwt key proof (appendix F.1) with its nonce, then a VC-JWT
// whose subject is the proof's did:jwk.
func (f *foreignIssuer) credential(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	okTok := f.tokens[tok]
	f.mu.Unlock()
	if !okTok {
		oauthFail(w, http.StatusUnauthorized, "invalid_token", "unknown access token")
		return
	}
	var req struct {
		ID     string `json:"credential_configuration_id"`
		Proofs struct {
			JWT []string `json:"jwt"`
		} `json:"proofs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ID != "food_voucher" || len(req.Proofs.JWT) != 1 {
		oauthFail(w, http.StatusBadRequest, "invalid_credential_request", "one jwt proof for food_voucher")
		return
	}
	msg, err := jws.ParseString(req.Proofs.JWT[0])
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_proof", "not a JWS")
		return
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	kid := h.KeyID()
	holderDID, frag, _ := strings.Cut(kid, "#")
	if h.Type() != "openid4vci-proof+jwt" || h.Algorithm() != jwa.ES256 || !strings.HasPrefix(holderDID, "did:jwk:") || frag != "0" || h.JWK() != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_proof", "typ, alg or kid")
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(holderDID, "did:jwk:"))
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_proof", "did:jwk")
		return
	}
	holderKey, err := jwk.ParseKey(raw)
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_proof", "did:jwk")
		return
	}
	payload, err := jws.Verify([]byte(req.Proofs.JWT[0]), jws.WithKey(jwa.ES256, holderKey))
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_proof", "signature")
		return
	}
	var claims struct {
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Nonce string `json:"nonce"`
	}
	json.Unmarshal(payload, &claims)
	f.mu.Lock()
	nonceOK := f.nonces[claims.Nonce]
	delete(f.nonces, claims.Nonce)
	f.mu.Unlock()
	if claims.Aud != f.issuerID() || !nonceOK || time.Since(time.Unix(claims.Iat, 0)).Abs() > time.Minute {
		oauthFail(w, http.StatusBadRequest, "invalid_nonce", "aud, iat or nonce")
		return
	}
	if f.mode == "deferred" {
		writeJSON(w, http.StatusAccepted, map[string]any{"transaction_id": randomString(), "interval": 60})
		return
	}
	subject := holderDID
	if f.mode == "other-key" {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, _ := jwk.FromRaw(other.Public())
		b, _ := json.Marshal(pub)
		subject = "did:jwk:" + base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	vc, _ := json.Marshal(map[string]any{
		"iss": f.did, "sub": subject, "nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(90 * 24 * time.Hour).Unix(), "jti": "urn:uuid:" + randomString(),
		"vc": map[string]any{
			"@context":          []string{"https://www.w3.org/2018/credentials/v1"},
			"type":              []string{"VerifiableCredential", "FoodVoucherCredential"},
			"credentialSubject": map[string]any{"ration": "family of four", "months": 3},
		},
	})
	hdr := jws.NewHeaders()
	hdr.Set(jws.TypeKey, "JWT")
	hdr.Set(jws.KeyIDKey, f.did+"#0")
	signed, err := jws.Sign(vc, jws.WithKey(jwa.ES256, f.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		oauthFail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	out := string(signed)
	if f.mode == "tamper" {
		parts := strings.Split(out, ".")
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		p = []byte(strings.Replace(string(p), "family of four", "family of nine", 1))
		out = parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
	}
	f.mu.Lock()
	f.issued++
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"credentials": []map[string]string{{"credential": out}}})
}

// sharedForeign is one well-behaved foreign issuer for the route walk.
var (
	sharedForeignOnce sync.Once
	sharedForeignV    *foreignIssuer
)

func sharedForeign() *foreignIssuer {
	sharedForeignOnce.Do(func() { sharedForeignV = newForeignIssuer("") })
	return sharedForeignV
}

// claim169Card is the Claim 169 test vector's QR text (a card of another
// issuer, whose keys a wallet cannot look up).
var claim169Card = sync.OnceValue(func() string {
	data, err := os.ReadFile(filepath.Join("..", "..", "credentials", "testdata", "claim169", "valid", "ed25519-signed.json"))
	if err != nil {
		panic(err)
	}
	var vec struct {
		QR string `json:"qr_data"`
	}
	if err := json.Unmarshal(data, &vec); err != nil {
		panic(err)
	}
	return vec.QR
})

// qrFrame is a camera frame showing a QR code of text.
func qrFrame(text string) string {
	png, err := credentials.CardPNG(text, 400)
	if err != nil {
		panic(err)
	}
	return string(png)
}

func formOf(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// privateOffer is an offer whose issuer is on a private address.
const privateOffer = `openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2F10.1.2.3%2Fissuer%22%2C%22credential_configuration_ids%22%3A%5B%22x%22%5D%2C%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22abc%22%7D%7D%7D`

// receiveCases are wallet/receive's cases of the wallet route walk.
func receiveCases() map[string]walletCase {
	const form, jsonType = "application/x-www-form-urlencoded", "application/json"
	return map[string]walletCase{
		"GET /wallet/receive": {status: http.StatusOK},
		"POST /wallet/receive": {contentType: form, status: http.StatusOK,
			good: func(int) string { return formOf("offer", sharedForeign().offerByValue()) },
			bad: []badInput{
				{name: "no offer", contentType: form, body: "offer=", status: http.StatusBadRequest},
				{name: "not an offer", contentType: form, body: formOf("offer", "https://"), status: http.StatusBadRequest},
				{name: "private address", contentType: form, body: formOf("offer", privateOffer), status: http.StatusBadGateway},
			}},
		"POST /wallet/receive/accept": {contentType: form, status: http.StatusSeeOther,
			good: func(int) string { return formOf("offer", sharedForeign().offerByValue()) },
			bad: []badInput{
				{name: "not an offer", contentType: form, body: formOf("offer", "openid-credential-offer://?credential_offer=%7B%7D"), status: http.StatusBadRequest},
				{name: "used offer", contentType: form, now: func() string {
					f := sharedForeign()
					o := f.offerJSON()
					var offer struct {
						Grants map[string]struct {
							Code string `json:"pre-authorized_code"`
						} `json:"grants"`
					}
					json.Unmarshal([]byte(o), &offer)
					f.mu.Lock()
					for _, g := range offer.Grants {
						delete(f.codes, g.Code)
					}
					f.mu.Unlock()
					return formOf("offer", "openid-credential-offer://?"+url.Values{"credential_offer": {o}}.Encode())
				}, status: http.StatusUnprocessableEntity},
			}},
		"POST /wallet/receive/frame": {contentType: "image/png", status: http.StatusOK,
			good: func(int) string {
				return qrFrame("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Fo%2F1")
			},
			bad: []badInput{
				{name: "empty", contentType: "image/png", body: "", status: http.StatusBadRequest},
				{name: "not an image", contentType: "image/png", body: "hello", status: http.StatusUnprocessableEntity},
			}},
		"GET /wallet/import": {status: http.StatusOK},
		"POST /wallet/import": {contentType: form, status: http.StatusSeeOther,
			good: func(int) string { return formOf("card", claim169Card()) },
			bad: []badInput{
				{name: "nothing", contentType: form, body: "card=", status: http.StatusBadRequest},
				{name: "not a card", contentType: form, body: formOf("card", "NOT-A-CARD"), status: http.StatusUnprocessableEntity},
			}},
		"POST /api/v1/wallet/offers/preview": {contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return jsonOf(map[string]string{"offer": sharedForeign().offerByValue()}) },
			bad: []badInput{
				{name: "no offer", contentType: jsonType, body: `{}`, status: http.StatusBadRequest, fields: []string{"offer"}},
				{name: "not JSON", contentType: "text/plain", body: `offer`, status: http.StatusBadRequest},
				{name: "not an offer", contentType: jsonType, body: `{"offer":"mailto:x@example.org"}`, status: http.StatusBadRequest, fields: []string{"offer"}},
				{name: "private address", contentType: jsonType, body: jsonOf(map[string]string{"offer": privateOffer}), status: http.StatusBadGateway},
			}},
		"POST /api/v1/wallet/offers": {contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return jsonOf(map[string]string{"offer": sharedForeign().offerByReference()}) },
			bad: []badInput{
				{name: "no offer", contentType: jsonType, body: `{"offer":""}`, status: http.StatusBadRequest, fields: []string{"offer"}},
				{name: "unknown member", contentType: jsonType, body: `{"offer":"x","pin":"1"}`, status: http.StatusBadRequest},
				{name: "both forms", contentType: jsonType, body: `{"offer":"openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example"}`, status: http.StatusBadRequest, fields: []string{"offer"}},
			}},
		"POST /api/v1/wallet/cards": {contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return jsonOf(map[string]string{"card": claim169Card()}) },
			bad: []badInput{
				{name: "no card", contentType: jsonType, body: `{"card":""}`, status: http.StatusBadRequest, fields: []string{"card"}},
				{name: "not a card", contentType: jsonType, body: `{"card":"NOT-A-CARD"}`, status: http.StatusUnprocessableEntity, fields: []string{"card"}},
			}},
	}
}
