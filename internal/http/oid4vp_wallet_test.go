package http_test

// A wallet written from OpenID4VP 1.0 and RFC 9901 (SD-JWT), apart from
// the server's code: it speaks HTTP and JOSE (net/http and jwx), resolves
// the verifier's did:web, checks the Request Object's signature against
// the DID document, evaluates the DCQL query, and makes the SD-JWT
// presentation and its key-binding JWT itself. Only the Multikey decoding
// of the DID document's key is borrowed from package credentials.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/qrtest"
	"github.com/tally-id/tally/issuer"
)

// vpRequest is a Request Object as the wallet reads it.
type vpRequest struct {
	ClientID     string `json:"client_id"`
	ResponseType string `json:"response_type"`
	ResponseMode string `json:"response_mode"`
	ResponseURI  string `json:"response_uri"`
	RedirectURI  string `json:"redirect_uri"`
	Nonce        string `json:"nonce"`
	State        string `json:"state"`
	Aud          string `json:"aud"`
	WalletNonce  string `json:"wallet_nonce"`
	Purpose      string `json:"purpose"`
	DCQL         struct {
		Credentials []struct {
			ID     string `json:"id"`
			Format string `json:"format"`
			Meta   struct {
				VCTValues []string `json:"vct_values"`
			} `json:"meta"`
			Claims []struct {
				Path []any `json:"path"`
			} `json:"claims"`
		} `json:"credentials"`
	} `json:"dcql_query"`
	ClientMetadata struct {
		VPFormats map[string]struct {
			SDJWTAlgs []string `json:"sd-jwt_alg_values"`
			KBJWTAlgs []string `json:"kb-jwt_alg_values"`
		} `json:"vp_formats_supported"`
	} `json:"client_metadata"`
}

// vpWallet holds one SD-JWT VC, issued to w's key.
type vpWallet struct {
	*wallet
	e      *env
	sdjwt  string
	vct    string
	claims map[string]string // disclosure by claim name
}

// newVPWallet gets Fatima's registration credential as an SD-JWT VC by
// OpenID4VCI, as a phone wallet would.
func newVPWallet(t *testing.T, e *env) *vpWallet {
	t.Helper()
	w, m, token := e.redeemed(t, `{"type":"RegistrationCredential","formats":["sd-jwt"]}`)
	cred := w.credential(m, token, "RegistrationCredential_dc+sd-jwt", w.proof(e.ts.URL+"/orgs/demo", w.nonce(m), proofOptions{})).issued(t)
	vw := &vpWallet{wallet: w, e: e, sdjwt: cred, claims: map[string]string{}}
	parts := strings.Split(cred, "~")
	var payload struct {
		VCT string `json:"vct"`
	}
	if err := json.Unmarshal(jwtPart(t, parts[0], 1), &payload); err != nil {
		t.Fatal(err)
	}
	vw.vct = payload.VCT
	for _, d := range parts[1 : len(parts)-1] {
		var arr []any
		raw, err := base64.RawURLEncoding.DecodeString(d)
		if err != nil || json.Unmarshal(raw, &arr) != nil || len(arr) != 3 {
			t.Fatalf("disclosure %q", d)
		}
		vw.claims[arr[1].(string)] = d
	}
	return vw
}

func jwtPart(t *testing.T, jwt string, i int) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vpOffer is a request made by staff: the QR code's URI and the page.
type vpOffer struct {
	id, uri string
}

// askWallet makes a request as demo's verifying staff and reads the QR
// code's link off the page.
func (e *env) askWallet(t *testing.T, preset string) vpOffer {
	t.Helper()
	res := e.do(http.MethodPost, "/verify/oid4vp", formType, form("preset", preset, "purpose", "Check at the food distribution."), e.asStaff("demo", issuer.RoleVerifier))
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/verify/oid4vp/") {
		t.Fatalf("new request: %d %q %s", res.StatusCode, loc, readBody(t, res))
	}
	page := readBody(t, e.do(http.MethodGet, loc, "", "", e.asStaff("demo", issuer.RoleVerifier)))
	// The wallet reads the QR code off the page; the link beside it is the
	// same request.
	img := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
	if img == nil {
		t.Fatalf("no QR code on the page: %s", page)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(img[1]))
	if err != nil {
		t.Fatal(err)
	}
	pic, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	read, err := qrtest.Read(pic)
	if err != nil {
		t.Fatal(err)
	}
	uri := read.GetText()
	if !strings.Contains(page, `href="`+html.EscapeString(uri)+`"`) {
		t.Fatalf("the page's link is not the QR code's request %q", uri)
	}
	return vpOffer{id: strings.TrimPrefix(loc, "/verify/oid4vp/"), uri: uri}
}

// resolveDIDWeb fetches a did:web DID document. The test server stands
// for the DID's host (tally.example).
func (w *vpWallet) resolveDIDWeb(did string) map[string]any {
	w.t.Helper()
	rest, ok := strings.CutPrefix(did, "did:web:")
	if !ok {
		w.t.Fatalf("not a did:web: %q", did)
	}
	segs := strings.Split(rest, ":")
	if segs[0] != "tally.example" {
		w.t.Fatalf("did:web of an unexpected host %q", segs[0])
	}
	res := w.get(w.e.ts.URL + "/" + strings.Join(segs[1:], "/") + "/did.json")
	if res.status != http.StatusOK {
		w.t.Fatalf("DID document: %d", res.status)
	}
	var doc map[string]any
	res.json(w.t, &doc)
	if doc["id"] != did {
		w.t.Fatalf("DID document of %v for %s", doc["id"], did)
	}
	return doc
}

// fetchRequest parses the QR code's URI, fetches the Request Object and
// checks it as "Request URI Response" and the decentralized_identifier prefix say: signed by a key of the DID
// document of the DID in client_id, named by kid; client_id identical in
// the URI and the object.
func (w *vpWallet) fetchRequest(qr string) vpRequest {
	w.t.Helper()
	u, err := url.Parse(qr)
	if err != nil || u.Scheme != "openid4vp" {
		w.t.Fatalf("not an openid4vp URI: %q", qr)
	}
	q := u.Query()
	clientID, requestURI := q.Get("client_id"), q.Get("request_uri")
	if m := q.Get("request_uri_method"); m != "" && m != "get" {
		w.t.Fatalf("request_uri_method %q", m)
	}
	res := w.get(requestURI)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/oauth-authz-req+jwt" {
		w.t.Fatalf("request object: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	return w.checkRequest(clientID, res.body)
}

func (w *vpWallet) checkRequest(clientID string, token []byte) vpRequest {
	w.t.Helper()
	msg, err := jws.Parse(token)
	if err != nil || len(msg.Signatures()) != 1 {
		w.t.Fatalf("request object is not a compact JWS: %v", err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != "oauth-authz-req+jwt" {
		w.t.Fatalf("typ %q", h.Type())
	}
	did, ok := strings.CutPrefix(clientID, "decentralized_identifier:")
	if !ok {
		w.t.Fatalf("client_id %q has not the decentralized_identifier prefix", clientID)
	}
	if !strings.HasPrefix(h.KeyID(), did+"#") {
		w.t.Fatalf("kid %q is not a key of %s", h.KeyID(), did)
	}
	doc := w.resolveDIDWeb(did)
	var pub any
	for _, vm := range doc["verificationMethod"].([]any) {
		m := vm.(map[string]any)
		if m["id"] == h.KeyID() {
			if pub, err = credentials.ParseMultikey(m["publicKeyMultibase"].(string)); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	if pub == nil {
		w.t.Fatalf("the DID document has no key %s", h.KeyID())
	}
	payload, err := jws.Verify(token, jws.WithKey(h.Algorithm(), pub))
	if err != nil {
		w.t.Fatalf("request object signature: %v", err)
	}
	var r vpRequest
	if err := json.Unmarshal(payload, &r); err != nil {
		w.t.Fatal(err)
	}
	if r.ClientID != clientID || r.ResponseType != "vp_token" || r.ResponseMode != "direct_post" || r.ResponseURI == "" || r.RedirectURI != "" ||
		r.Aud != "https://self-issued.me/v2" || len(r.DCQL.Credentials) == 0 {
		w.t.Fatalf("request object %s", payload)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(r.Nonce); err != nil || len(raw) < 16 {
		w.t.Fatalf("nonce %q has less than 128 bits", r.Nonce)
	}
	if f, ok := r.ClientMetadata.VPFormats["dc+sd-jwt"]; !ok || !slices.Contains(f.KBJWTAlgs, "ES256") {
		w.t.Fatalf("client_metadata %+v accepts no ES256 key binding", r.ClientMetadata)
	}
	return r
}

// presentOptions change a presentation, to make bad ones.
type presentOptions struct {
	aud, nonce string
	iat        time.Time
	// drop leaves a requested claim out.
	drop string
	// tamper breaks the issuer's signature.
	tamper bool
	// extra discloses a claim that was not asked for.
	extra string
}

// answer evaluates the DCQL query against the wallet's one credential
// and makes the vp_token: for each credential query it matches, a
// presentation disclosing only the claims asked, with a key-binding JWT
// (RFC 9901 section 4.3) for the client_id and nonce.
func (w *vpWallet) answer(r vpRequest, o presentOptions) string {
	w.t.Helper()
	token := map[string][]string{}
	for _, cq := range r.DCQL.Credentials {
		if cq.Format != "dc+sd-jwt" || !slices.Contains(cq.Meta.VCTValues, w.vct) {
			continue
		}
		parts := strings.Split(w.sdjwt, "~")
		issued := parts[0]
		if o.tamper {
			sig := []byte(issued[strings.LastIndexByte(issued, '.')+1:])
			// Another base64url letter, well inside the signature.
			if sig[3] == 'A' {
				sig[3] = 'B'
			} else {
				sig[3] = 'A'
			}
			issued = issued[:strings.LastIndexByte(issued, '.')+1] + string(sig)
		}
		pres := issued + "~"
		for _, cl := range cq.Claims {
			if len(cl.Path) != 1 {
				w.t.Fatalf("claim path %v", cl.Path)
			}
			name := cl.Path[0].(string)
			d, ok := w.claims[name]
			if !ok {
				w.t.Fatalf("the credential has no claim %s", name)
			}
			if name != o.drop {
				pres += d + "~"
			}
		}
		if o.extra != "" {
			pres += w.claims[o.extra] + "~"
		}
		sum := sha256.Sum256([]byte(pres))
		aud, nonce, iat := r.ClientID, r.Nonce, time.Now()
		if o.aud != "" {
			aud = o.aud
		}
		if o.nonce != "" {
			nonce = o.nonce
		}
		if !o.iat.IsZero() {
			iat = o.iat
		}
		kb, _ := json.Marshal(map[string]any{"iat": iat.Unix(), "aud": aud, "nonce": nonce, "sd_hash": base64.RawURLEncoding.EncodeToString(sum[:])})
		hdr := jws.NewHeaders()
		hdr.Set(jws.TypeKey, "kb+jwt")
		signed, err := jws.Sign(kb, jws.WithKey(jwa.ES256, w.key, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			w.t.Fatal(err)
		}
		token[cq.ID] = []string{pres + string(signed)}
	}
	b, _ := json.Marshal(token)
	return string(b)
}

// respond posts an Authorization Response (direct_post).
func (w *vpWallet) respond(r vpRequest, vpToken, state string) response {
	return w.post(r.ResponseURI, "application/x-www-form-urlencoded", url.Values{"vp_token": {vpToken}, "state": {state}}.Encode(), "")
}
