package http_test

// A wallet written from OpenID4VCI 1.0, apart from the server's code: it
// speaks only HTTP and JOSE (net/http and jwx), as an independent wallet
// would.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

type wallet struct {
	t      *testing.T
	client *http.Client
	key    *ecdsa.PrivateKey
}

func newWallet(t *testing.T, client *http.Client) *wallet {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &wallet{t: t, client: client, key: key}
}

// walletOffer is the Credential Offer as the wallet reads it.
type walletOffer struct {
	CredentialIssuer           string   `json:"credential_issuer"`
	CredentialConfigurationIDs []string `json:"credential_configuration_ids"`
	Grants                     map[string]struct {
		PreAuthorizedCode string `json:"pre-authorized_code"`
		TxCode            *struct {
			InputMode string `json:"input_mode"`
			Length    int    `json:"length"`
		} `json:"tx_code"`
	} `json:"grants"`
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

// oauthError is the error member of an error answer.
func (r response) oauthError(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	r.json(t, &e)
	return e.Error
}

func (w *wallet) send(req *http.Request) response {
	w.t.Helper()
	res, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

func (w *wallet) get(u string) response {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.send(req)
}

func (w *wallet) post(u, contentType, body, token string) response {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return w.send(req)
}

// resolve reads a QR code's openid-credential-offer:// URI and fetches the
// offer it references (section 4.1.3).
func (w *wallet) resolve(qr string) walletOffer {
	w.t.Helper()
	u, err := url.Parse(qr)
	if err != nil || u.Scheme != "openid-credential-offer" {
		w.t.Fatalf("not a credential offer URI: %q", qr)
	}
	ref := u.Query().Get("credential_offer_uri")
	res := w.get(ref)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		w.t.Fatalf("offer: %d %s", res.status, res.body)
	}
	var o walletOffer
	res.json(w.t, &o)
	return o
}

// wellKnown inserts a well-known suffix between an identifier's host and
// path (OpenID4VCI 1.0 section 12.2.2, RFC 8414 section 3.1).
func wellKnown(id, suffix string) string {
	u, err := url.Parse(id)
	if err != nil {
		panic(err)
	}
	return u.Scheme + "://" + u.Host + suffix + u.Path
}

// walletMetadata is what the wallet needs of the issuer's metadata.
type walletMetadata struct {
	CredentialIssuer   string                     `json:"credential_issuer"`
	CredentialEndpoint string                     `json:"credential_endpoint"`
	NonceEndpoint      string                     `json:"nonce_endpoint"`
	Configurations     map[string]json.RawMessage `json:"credential_configurations_supported"`
	tokenEndpoint      string
}

func (w *wallet) metadata(issuer string) walletMetadata {
	w.t.Helper()
	var m walletMetadata
	res := w.get(wellKnown(issuer, "/.well-known/openid-credential-issuer"))
	if res.status != http.StatusOK {
		w.t.Fatalf("issuer metadata: %d %s", res.status, res.body)
	}
	res.json(w.t, &m)
	if m.CredentialIssuer != issuer {
		w.t.Fatalf("metadata of %q for issuer %q", m.CredentialIssuer, issuer)
	}
	var as struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		Anonymous     bool   `json:"pre-authorized_grant_anonymous_access_supported"`
	}
	res = w.get(wellKnown(issuer, "/.well-known/oauth-authorization-server"))
	if res.status != http.StatusOK {
		w.t.Fatalf("AS metadata: %d %s", res.status, res.body)
	}
	res.json(w.t, &as)
	if as.Issuer != issuer || !as.Anonymous {
		w.t.Fatalf("AS metadata %+v", as)
	}
	m.tokenEndpoint = as.TokenEndpoint
	return m
}

// token exchanges the pre-authorized code; txCode nil sends none.
func (w *wallet) token(m walletMetadata, code string, txCode *string) response {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
	if txCode != nil {
		form.Set("tx_code", *txCode)
	}
	return w.post(m.tokenEndpoint, "application/x-www-form-urlencoded", form.Encode(), "")
}

func (w *wallet) nonce(m walletMetadata) string {
	w.t.Helper()
	res := w.post(m.NonceEndpoint, "", "", "")
	if res.status != http.StatusOK || !strings.Contains(res.header.Get("Cache-Control"), "no-store") {
		w.t.Fatalf("nonce: %d %v %s", res.status, res.header, res.body)
	}
	var n struct {
		CNonce string `json:"c_nonce"`
	}
	res.json(w.t, &n)
	return n.CNonce
}

// proofOptions change a key proof, to make bad ones.
type proofOptions struct {
	typ string
	alg jwa.SignatureAlgorithm
	aud string
	iat time.Time
	// kid names the key by did:jwk instead of jwk.
	kid bool
}

// proof makes a jwt key proof (appendix F.1) signed with the wallet's key.
func (w *wallet) proof(aud, nonce string, o proofOptions) string {
	w.t.Helper()
	if o.typ == "" {
		o.typ = "openid4vci-proof+jwt"
	}
	if o.alg == "" {
		o.alg = jwa.ES256
	}
	if o.aud == "" {
		o.aud = aud
	}
	if o.iat.IsZero() {
		o.iat = time.Now()
	}
	claims := map[string]any{"aud": o.aud, "iat": o.iat.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		w.t.Fatal(err)
	}
	pub, err := jwk.FromRaw(w.key.Public())
	if err != nil {
		w.t.Fatal(err)
	}
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, o.typ)
	if o.kid {
		raw, _ := json.Marshal(pub)
		h.Set(jws.KeyIDKey, "did:jwk:"+b64(raw)+"#0")
	} else {
		h.Set(jws.JWKKey, pub)
	}
	var key any = w.key
	if o.alg == jwa.HS256 {
		key = []byte("a shared secret of thirty-two bytes")
	}
	if o.alg == jwa.NoSignature {
		hdr, _ := json.Marshal(map[string]any{"alg": "none", "typ": o.typ, "jwk": pub})
		return b64(hdr) + "." + b64(payload) + "."
	}
	signed, err := jws.Sign(payload, jws.WithKey(o.alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(signed)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// credential asks for one credential of a configuration with proofs.
func (w *wallet) credential(m walletMetadata, token, config string, proofs ...string) response {
	body, err := json.Marshal(map[string]any{"credential_configuration_id": config, "proofs": map[string]any{"jwt": proofs}})
	if err != nil {
		w.t.Fatal(err)
	}
	return w.post(m.CredentialEndpoint, "application/json", string(body), token)
}

// issued reads the one credential of a 1.0 credential response.
func (r response) issued(t *testing.T) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("credential: %d %s", r.status, r.body)
	}
	var out struct {
		Credentials []struct {
			Credential string `json:"credential"`
		} `json:"credentials"`
	}
	r.json(t, &out)
	if len(out.Credentials) != 1 || out.Credentials[0].Credential == "" {
		t.Fatalf("credential response %s", r.body)
	}
	return out.Credentials[0].Credential
}

// jwtVCPayload is what a wallet shows of a jwt_vc_json credential: the
// VCDM 1.1 JWT claims and the credential in the vc claim.
type jwtVCPayload struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Jti string `json:"jti"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
	VC  struct {
		Context      []any          `json:"@context"`
		Type         []string       `json:"type"`
		Issuer       string         `json:"issuer"`
		IssuanceDate string         `json:"issuanceDate"`
		Subject      map[string]any `json:"credentialSubject"`
	} `json:"vc"`
}

// jwtVC decodes a jwt_vc_json credential's header and payload, as a
// wallet does to show it (the signature is the verifier's business).
func (w *wallet) jwtVC(token string) (map[string]any, jwtVCPayload) {
	w.t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		w.t.Fatalf("jwt_vc_json credential is not a compact JWS: %q", token)
	}
	var header map[string]any
	var payload jwtVCPayload
	for i, to := range []any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			w.t.Fatal(err)
		}
		if err := json.Unmarshal(b, to); err != nil {
			w.t.Fatal(err)
		}
	}
	return header, payload
}
