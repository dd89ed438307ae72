package http_test

// wallet/receive: the wallet receives credentials from tally's own issuer
// and from an issuer of another project, and refuses what it must.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
)

// walletOfHolder opens a holder's wallet directly, to look at what it keeps.
func (e *env) walletOfHolder(h walletHolder) *holder.Wallet {
	e.t.Helper()
	w, err := e.holders.Wallet(e.asHolder(h).wallet)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// TestWalletReceiveFromTally receives Fatima's registration offered by
// tally's own issuer (with a transaction code) through the wallet API:
// both formats are kept, the SD-JWT VC verifies with the organisation's
// key and is bound to the holder's key.
func TestWalletReceiveFromTally(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.newHolder()
	made := e.makeOffer(t, `{"type":"RegistrationCredential","formats":["sd-jwt","jwt"]}`)

	// The preview says who offers what, and that a code is needed.
	res := e.do(http.MethodPost, "/api/v1/wallet/offers/preview", "application/json", jsonOf(map[string]string{"offer": made.CredentialOffer}), e.asHolder(h))
	body := readBody(t, res)
	var preview struct {
		Issuer      string `json:"credential_issuer"`
		IssuerName  string `json:"issuer_name"`
		Credentials []struct {
			ID, Name, Format string
		} `json:"credentials"`
		TxCode *struct {
			InputMode string `json:"input_mode"`
			Length    int    `json:"length"`
		} `json:"tx_code"`
	}
	if err := json.Unmarshal([]byte(body), &preview); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d %s", res.StatusCode, body)
	}
	if preview.Issuer != e.ts.URL+"/orgs/demo" || preview.IssuerName != "Organisation demo" || len(preview.Credentials) != 2 || preview.TxCode == nil || preview.TxCode.Length != 6 || preview.TxCode.InputMode != "numeric" {
		t.Fatalf("preview %s", body)
	}

	// A wrong transaction code: the issuer's refusal, plainly; nothing kept.
	before := e.walletState(h)
	res = e.do(http.MethodPost, "/api/v1/wallet/offers", "application/json", jsonOf(map[string]string{"offer": made.CredentialOffer, "tx_code": "000000"}), e.asHolder(h))
	body = readBody(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"field":"tx_code"`) || !strings.Contains(body, "invalid_grant") || !strings.Contains(body, "The code is wrong") {
		t.Fatalf("wrong tx_code: %d %s", res.StatusCode, body)
	}
	if e.walletState(h) != before {
		t.Fatal("a refused offer changed the wallet")
	}

	res = e.do(http.MethodPost, "/api/v1/wallet/offers", "application/json", jsonOf(map[string]string{"offer": made.CredentialOffer, "tx_code": made.TxCode}), e.asHolder(h))
	body = readBody(t, res)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("receive: %d %s", res.StatusCode, body)
	}
	var got struct {
		Credentials []map[string]any `json:"credentials"`
	}
	json.Unmarshal([]byte(body), &got)
	if len(got.Credentials) != 2 || strings.Contains(body, `"raw"`) {
		t.Fatalf("receive answered %s", body)
	}
	for _, c := range got.Credentials {
		if c["verified"] != true || c["source"] != "oid4vci" || c["issuer_name"] != "Organisation demo" {
			t.Fatalf("received %v", c)
		}
	}
	for _, s := range []string{"Fatima", "KE-DAD-2026-000123"} {
		if strings.Contains(e.logs.String(), s) {
			t.Fatalf("the log holds %q", s)
		}
	}

	w := e.walletOfHolder(h)
	key, err := w.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := w.Credentials(ctx)
	if err != nil || len(kept) != 2 {
		t.Fatalf("kept %d, %v", len(kept), err)
	}
	formats := map[string]holder.Credential{}
	for _, c := range kept {
		formats[c.Format] = c
	}
	sd, ok := formats["dc+sd-jwt"]
	if !ok || sd.Configuration != "RegistrationCredential_dc+sd-jwt" || sd.HolderKey != key.ID || sd.Name != "Registration" || sd.Type != credentials.VCT(credentials.TypeRegistration) {
		t.Fatalf("SD-JWT VC kept as %+v", sd)
	}
	parsed, err := credentials.ParseSDJWT([]byte(sd.Raw))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := e.svc.DIDDocument(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	verified := false
	for _, k := range doc.PublicKeys() {
		verified = verified || parsed.VerifySignature(k.Public) == nil
	}
	if !verified || !bytes.Equal(credentials.Thumbprint(parsed.Holder()), key.Thumbprint()) {
		t.Fatal("the kept SD-JWT VC does not verify, or is not bound to the holder's key")
	}
	if j, ok := formats["jwt_vc_json"]; !ok || j.HolderKey != key.ID {
		t.Fatalf("VC-JWT kept as %+v", j)
	}

	// The offer is spent: accepting it again is refused, plainly.
	res = e.do(http.MethodPost, "/api/v1/wallet/offers", "application/json", jsonOf(map[string]string{"offer": made.CredentialOffer, "tx_code": made.TxCode}), e.asHolder(h))
	if body = readBody(t, res); res.StatusCode < 400 {
		t.Fatalf("a spent offer: %d %s", res.StatusCode, body)
	}
}

// TestWalletReceiveForeignPages receives from another project's issuer
// through the web wallet, in French: a photo of the offer's QR code, the
// offer by reference as a link opens it, the confirmation, Accept, then
// the list.
func TestWalletReceiveForeignPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := newForeignIssuer("")
	defer f.close()
	f.txCode = "4821"
	o, err := e.holders.Open(ctx, walletPIN, "fr")
	if err != nil {
		t.Fatal(err)
	}
	h := walletHolder{id: o.ID, device: o.DeviceSecret, pin: walletPIN}
	link := f.offerByReference()

	// A photo of the offer's QR code, without JavaScript.
	ct, upload := deskUpload(t, []byte(qrFrame(link)))
	res := e.do(http.MethodPost, "/wallet/receive?lang=fr", ct, upload, e.asHolder(h))
	if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, "Secours Acme") || !strings.Contains(page, `value="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Fatalf("photo of the offer: %d %s", res.StatusCode, page)
	}
	// A photo with no QR code: said plainly.
	ct, upload = deskUpload(t, blankPNG(t))
	res = e.do(http.MethodPost, "/wallet/receive?lang=fr", ct, upload, e.asHolder(h))
	if page := readBody(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Aucun code QR") {
		t.Fatalf("blank photo: %d %s", res.StatusCode, page)
	}

	// The link an openid-credential-offer:// handler opens.
	res = e.do(http.MethodGet, "/wallet/receive?lang=fr&offer="+url.QueryEscape(link), "", "", e.asHolder(h))
	page := readBody(t, res)
	for _, want := range []string{"Secours Acme", "Bon alimentaire", `name="tx_code"`, `maxlength="4"`, `inputmode="numeric"`, "Code sent by SMS"} {
		if !strings.Contains(page, want) {
			t.Fatalf("confirmation: %d, no %q: %s", res.StatusCode, want, page)
		}
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirmation: %d", res.StatusCode)
	}
	// No code: asked again, nothing kept.
	res = e.do(http.MethodPost, "/wallet/receive/accept?lang=fr", "application/x-www-form-urlencoded", formOf("offer", link), e.asHolder(h))
	if page = readBody(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `name="tx_code"`) {
		t.Fatalf("no code: %d %s", res.StatusCode, page)
	}
	res = e.do(http.MethodPost, "/wallet/receive/accept?lang=fr", "application/x-www-form-urlencoded", formOf("offer", link, "tx_code", "4821"), e.asHolder(h))
	if page = readBody(t, res); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/wallet/" {
		t.Fatalf("accept: %d %s", res.StatusCode, page)
	}
	res = e.do(http.MethodGet, "/wallet/?lang=fr", "", "", e.asHolder(h))
	if page = readBody(t, res); !strings.Contains(page, "Bon alimentaire") || !strings.Contains(page, "Secours Acme") {
		t.Fatalf("the list: %s", page)
	}
	w := e.walletOfHolder(h)
	key, _ := w.Key(ctx)
	kept, _ := w.Credentials(ctx)
	if len(kept) != 1 {
		t.Fatalf("kept %d", len(kept))
	}
	c := kept[0]
	if c.Format != "jwt_vc_json" || c.Issuer != f.did || c.Configuration != "food_voucher" || c.HolderKey != key.ID || c.Source != "oid4vci" || c.Type != "FoodVoucherCredential" {
		t.Fatalf("kept %+v", c)
	}
}

// TestWalletReceiveRefusals: what a wallet must not keep, each refused
// with the step in plain words, and nothing kept.
func TestWalletReceiveRefusals(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	for _, tc := range []struct {
		mode, offer string
		status      int
		code, words string
	}{
		{mode: "other-issuer", status: 422, code: "receive_metadata", words: "metadata is of another issuer"},
		{mode: "huge", status: 422, code: "receive_metadata", words: "too large"},
		{mode: "other-key", status: 422, code: "receive_check", words: "bound to another key"},
		{mode: "tamper", status: 422, code: "receive_check", words: "signature on the credential does not verify"},
		{mode: "deferred", status: 422, code: "receive_credential", words: "send the credential later"},
		{mode: "private", offer: privateOffer, status: 502, code: "receive_metadata", words: "not allowed"},
		{mode: "by-value-and-reference", offer: "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example", status: 400, code: "receive_offer", words: "both"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			offer := tc.offer
			if offer == "" {
				f := newForeignIssuer(tc.mode)
				defer f.close()
				offer = f.offerByValue()
			}
			before := e.walletState(h)
			res := e.do(http.MethodPost, "/api/v1/wallet/offers", "application/json", jsonOf(map[string]string{"offer": offer}), e.asHolder(h))
			body := readBody(t, res)
			if res.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) || !strings.Contains(body, tc.words) {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			if e.walletState(h) != before {
				t.Fatal("a refused offer changed the wallet")
			}
		})
	}
}

// TestWalletImportCard keeps Fatima's printed card from a photo of it
// (checked against her organisation's key), and refuses a changed one.
func TestWalletImportCard(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.newHolder()
	res := e.do(http.MethodGet, "/issuer/credentials/"+e.credID+"/card.png", "", "", e.asStaff("demo", "registrar"))
	photo := []byte(readBody(t, res))
	ct, body := deskUpload(t, photo)
	res = e.do(http.MethodPost, "/api/v1/wallet/cards", ct, body, e.asHolder(h))
	text := readBody(t, res)
	if res.StatusCode != http.StatusCreated || !strings.Contains(text, `"verified":true`) || !strings.Contains(text, `"source":"card-photo"`) || strings.Contains(text, `"raw"`) {
		t.Fatalf("card photo: %d %s", res.StatusCode, text)
	}
	kept, _ := e.walletOfHolder(h).Credentials(ctx)
	if len(kept) != 1 || kept[0].Format != "qr" || kept[0].IssuerName != "Organisation demo" {
		t.Fatalf("kept %+v", kept)
	}
	// The card's text, one character changed: refused, nothing kept.
	card := []rune(kept[0].Raw)
	i := len(card) / 2
	if card[i] == 'A' {
		card[i] = 'B'
	} else {
		card[i] = 'A'
	}
	before := e.walletState(h)
	res = e.do(http.MethodPost, "/wallet/import", "application/x-www-form-urlencoded", formOf("card", string(card)), e.asHolder(h))
	if page := readBody(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Nothing was kept") {
		t.Fatalf("changed card: %d %s", res.StatusCode, page)
	}
	if e.walletState(h) != before {
		t.Fatal("a changed card was kept")
	}
}
