package http_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-id/tally/internal/qrtest"
	"github.com/tally-id/tally/issuer"
)

// TestOfferPage: a registrar sends a credential to a phone from the
// registration's page: the page shows a QR code a phone reads as an
// openid-credential-offer:// URI, and the transaction code, once. The
// wallet redeems it; the credential's page then shows its record, not a
// copy.
func TestOfferPage(t *testing.T) {
	e := newEnv(t)
	registrar := e.asStaff("demo", issuer.RoleRegistrar)
	page := readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+e.regID, "", "", registrar))
	if !strings.Contains(page, `action="/issuer/registrations/`+e.regID+`/offers"`) || !strings.Contains(page, "Send to a phone wallet") {
		t.Fatal("the registration's page offers no way to send to a wallet")
	}
	res := e.do(http.MethodPost, "/issuer/registrations/"+e.regID+"/offers", formType, form("type", "RegistrationCredential", "format", "sd-jwt"), registrar)
	page = readBody(t, res)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %.300s", res.StatusCode, page)
	}
	img := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
	code := regexp.MustCompile(`<bdi dir="ltr">(\d{6})</bdi>`).FindStringSubmatch(page)
	if img == nil || code == nil {
		t.Fatalf("the page shows no QR code or no transaction code: %.600s", page)
	}
	e.secrets = append(e.secrets, code[1])
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
	if !strings.HasPrefix(read.GetText(), "openid-credential-offer://?credential_offer_uri=") {
		t.Fatalf("the QR code reads %q", read.GetText())
	}
	if !strings.Contains(page, `href="`+html.EscapeString(read.GetText())+`"`) {
		t.Fatal("the page's link is not the QR code's offer")
	}
	w := newWallet(t, e.ts.Client())
	offer := w.resolve(read.GetText())
	m := w.metadata(offer.CredentialIssuer)
	res2 := w.token(m, offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode, &code[1])
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res2.json(t, &tok)
	e.secrets = append(e.secrets, tok.AccessToken)
	w.credential(m, tok.AccessToken, offer.CredentialConfigurationIDs[0], w.proof(offer.CredentialIssuer, w.nonce(m), proofOptions{})).issued(t)

	recs, err := e.svc.Credentials(t.Context(), "demo", e.regID)
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if !last.Bound || last.Format != "sd-jwt" {
		t.Fatalf("record %+v", last)
	}
	if page := readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+e.regID, "", "", registrar)); !strings.Contains(page, "sent to a wallet") {
		t.Fatal("the registration's page does not say the credential went to a wallet")
	}
	res = e.do(http.MethodGet, "/issuer/credentials/"+last.ID, "", "", registrar)
	page = readBody(t, res)
	if res.StatusCode != http.StatusOK || strings.Contains(page, "data:image/png") || strings.Contains(page, "<textarea") {
		t.Fatalf("a wallet credential's page: %d %.300s", res.StatusCode, page)
	}

	// In Arabic, right to left.
	res = e.do(http.MethodPost, "/issuer/registrations/"+e.regID+"/offers?lang=ar", formType, form("type", "RegistrationCredential"), registrar)
	page = readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "إرسال إلى محفظة الهاتف") {
		t.Fatalf("%d %.300s", res.StatusCode, page)
	}
	if c := regexp.MustCompile(`<bdi dir="ltr">(\d{6})</bdi>`).FindStringSubmatch(page); c != nil {
		e.secrets = append(e.secrets, c[1])
	}
}

// TestOIDMetadataRoutes: the public metadata and offer routes answer for
// organisations that exist, and 404 in JSON otherwise.
func TestOIDMetadataRoutes(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{
		"/.well-known/openid-credential-issuer/orgs/demo",
		"/.well-known/oauth-authorization-server/orgs/demo",
	} {
		res := e.do(http.MethodGet, path, "", "", who{})
		if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `"`+e.ts.URL+`/orgs/demo"`) ||
			strings.Contains(path, "openid-credential-issuer") && !strings.Contains(body, `"credential_signing_alg_values_supported":["EdDSA"]`) {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	for _, path := range []string{
		"/.well-known/openid-credential-issuer/orgs/nobody",
		"/.well-known/oauth-authorization-server/orgs/nobody",
		"/orgs/demo/offers/forged",
		"/orgs/demo/offers/" + strings.Repeat("x", 200),
		"/orgs/nobody/offers/x",
	} {
		res := e.do(http.MethodGet, path, "", "", who{})
		if code, _ := apiErr(t, res); res.StatusCode != http.StatusNotFound || code != "not_found" {
			t.Fatalf("%s: %d %s", path, res.StatusCode, code)
		}
	}
	for _, path := range []string{"/orgs/nobody/nonce", "/orgs/nobody/credential"} {
		if res := e.do(http.MethodPost, path, "", "", who{}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	// A wallet in a browser posts from another origin: the protocol
	// endpoints take it (they use no cookie).
	res := e.do(http.MethodPost, "/orgs/demo/nonce", "", "", who{}, "Origin", "https://wallet.example", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("cross-origin nonce: %d", res.StatusCode)
	}
}
