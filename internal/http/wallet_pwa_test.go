package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/issuer"
)

// pwaHeld gives a holder Fatima's registration twice, as the issuer makes
// them: an SD-JWT VC bound to the wallet's key, and a QR card. It returns
// their ids in the wallet and their records at the issuer.
func (e *env) pwaHeld(h walletHolder) (sdID, cardID, sdRec, cardRec string) {
	e.t.Helper()
	ctx := context.Background()
	w, err := e.holders.Wallet(e.asHolder(h).wallet)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := w.Key(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	sd, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatSDJWT, Holder: key.Public})
	if err != nil {
		e.t.Fatal(err)
	}
	card, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := w.AddCredential(ctx, holder.Credential{Format: "dc+sd-jwt", Raw: sd.Credential, Issuer: "did:web:tally.example:orgs:demo", IssuerName: "Organisation demo", Type: "RegistrationCredential", Source: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := w.AddCredential(ctx, holder.Credential{Format: "qr", Raw: card.Credential, Issuer: "did:web:tally.example:orgs:demo", Type: "RegistrationCredential", Source: "card-photo"})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID, b.ID, sd.Record.ID, card.Record.ID
}

type pwaStatus struct {
	Credential string `json:"credential"`
	Status     struct {
		State     string `json:"state"`
		Revocable bool   `json:"revocable"`
		Problem   string `json:"problem"`
	} `json:"status"`
}

func (e *env) pwaStatus(h walletHolder, id, query string) (int, pwaStatus) {
	e.t.Helper()
	res := e.do(http.MethodGet, "/api/v1/wallet/credentials/"+id+"/status"+query, "", "", e.asHolder(h))
	var st pwaStatus
	body := readBody(e.t, res)
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			e.t.Fatal(err)
		}
	}
	return res.StatusCode, st
}

// TestWalletCredentialPages: the home list and a credential's page say,
// in the holder's language, what the credential says, who gave it, when
// it ends and its status; the card's QR is on its page.
func TestWalletCredentialPages(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	sdID, cardID, _, _ := e.pwaHeld(h)

	home := readBody(t, e.do(http.MethodGet, "/wallet/", "", "", e.asHolder(h)))
	for _, want := range []string{`href="/wallet/credentials/` + sdID + `"`, `href="/wallet/credentials/` + cardID + `"`, "From Organisation demo", "Not checked yet", "data-offline hidden"} {
		if !strings.Contains(home, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	for _, c := range []struct{ id, want string }{{sdID, `href="/wallet/present/offline/` + sdID + `"`}, {cardID, `src="data:image/png;base64,`}} {
		res := e.do(http.MethodGet, "/wallet/credentials/"+c.id, "", "", e.asHolder(h))
		page := readBody(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d: %s", res.StatusCode, page)
		}
		for _, want := range []string{"Full name", "Fatima", "14 March 1991", "Date of birth", "Female", "It shows that you are registered", "Valid", "You can show it.", "Last checked on", c.want, "/wallet/credentials/" + c.id + "/delete"} {
			if !strings.Contains(page, want) {
				t.Errorf("credential page %s lacks %q", c.id, want)
			}
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "manifest-src 'self'") || !strings.Contains(csp, "worker-src 'self'") || !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("CSP %q", csp)
		}
	}
	// The page checked the status: the home list now shows it.
	home = readBody(t, e.do(http.MethodGet, "/wallet/", "", "", e.asHolder(h)))
	if strings.Count(home, "badge-valid") != 2 {
		t.Errorf("home page after the checks: %d valid badges, want 2", strings.Count(home, "badge-valid"))
	}
	// Arabic: right to left, months and labels in Arabic.
	ar := readBody(t, e.do(http.MethodGet, "/wallet/credentials/"+sdID+"?lang=ar", "", "", e.asHolder(h)))
	for _, want := range []string{`dir="rtl"`, "مارس", "صالحة", "ماذا تقول"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Arabic page lacks %q", want)
		}
	}
}

// TestWalletStatus: the status follows the issuer's status list, and
// offline=1 answers from the last check without the network.
func TestWalletStatus(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	sdID, cardID, sdRec, cardRec := e.pwaHeld(h)
	if code, _ := e.pwaStatus(h, sdID, "?offline=1"); code != http.StatusNotFound {
		t.Fatalf("offline before any check: %d, want 404", code)
	}
	for _, id := range []string{sdID, cardID} {
		code, st := e.pwaStatus(h, id, "")
		if code != http.StatusOK || st.Status.State != holder.StateValid || !st.Status.Revocable {
			t.Fatalf("%s: %d %+v, want valid", id, code, st)
		}
	}
	ctx := context.Background()
	if _, err := e.svc.Revoke(ctx, issuer.SystemPrincipal("test"), "demo", sdRec); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Suspend(ctx, issuer.SystemPrincipal("test"), "demo", cardRec); err != nil {
		t.Fatal(err)
	}
	// Offline: what the last check said.
	if _, st := e.pwaStatus(h, sdID, "?offline=1"); st.Status.State != holder.StateValid {
		t.Fatalf("offline: %+v, want the last check (valid)", st)
	}
	if _, st := e.pwaStatus(h, sdID, ""); st.Status.State != holder.StateRevoked {
		t.Fatalf("after revocation: %+v, want revoked", st)
	}
	if _, st := e.pwaStatus(h, cardID, ""); st.Status.State != holder.StateSuspended {
		t.Fatalf("after suspension: %+v, want suspended", st)
	}
	if _, st := e.pwaStatus(h, sdID, "?offline=1"); st.Status.State != holder.StateRevoked {
		t.Fatalf("offline after the check: %+v, want revoked", st)
	}
	page := readBody(t, e.do(http.MethodGet, "/wallet/credentials/"+sdID, "", "", e.asHolder(h)))
	if !strings.Contains(page, "Cancelled") || !strings.Contains(page, "Ask the organisation that gave it to you.") {
		t.Errorf("the revoked credential's page does not say so")
	}
	// Bad input: a clear error naming the parameter, nothing kept.
	res := e.do(http.MethodGet, "/api/v1/wallet/credentials/"+sdID+"/status?offline=maybe", "", "", e.asHolder(h))
	if code, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || len(fields) != 1 || fields[0] != "offline" {
		t.Fatalf("offline=maybe: %d %s %v", res.StatusCode, code, fields)
	}
	// Deleting a credential deletes its last check too.
	if res := e.do(http.MethodPost, "/wallet/credentials/"+sdID+"/delete", formType, "confirm=yes", e.asHolder(h)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	items, err := e.holderStore.Items(ctx, h.id, holder.KindStatus)
	if err != nil || len(items) != 1 {
		t.Fatalf("status items after deleting one of two credentials: %d, %v", len(items), err)
	}
}

// TestWalletApp: the manifest, the service worker and the icons an
// installable app needs.
func TestWalletApp(t *testing.T) {
	e := newEnv(t)
	res := e.do(http.MethodGet, "/wallet/manifest.webmanifest", "", "", who{})
	var m struct {
		Name, StartURL, Scope, Display, ThemeColor string
		Icons                                      []struct{ Src, Sizes, Type string }
	}
	body := readBody(t, res)
	if err := json.Unmarshal([]byte(strings.NewReplacer("start_url", "StartURL", "theme_color", "ThemeColor").Replace(body)), &m); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/manifest+json") {
		t.Fatalf("manifest: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if m.StartURL != "/wallet/" || m.Scope != "/wallet/" || m.Display != "standalone" || m.ThemeColor == "" || m.Name != "My wallet" {
		t.Fatalf("manifest %+v", m)
	}
	sizes := map[string]bool{}
	for _, ic := range m.Icons {
		r := e.do(http.MethodGet, ic.Src, "", "", who{})
		img, err := png.Decode(bytes.NewReader([]byte(readBody(t, r))))
		if err != nil {
			t.Fatalf("%s: %v", ic.Src, err)
		}
		if got := img.Bounds().Dx(); ic.Sizes != itoaTest(got)+"x"+itoaTest(img.Bounds().Dy()) {
			t.Errorf("%s is %dpx, manifest says %s", ic.Src, got, ic.Sizes)
		}
		sizes[ic.Sizes] = true
	}
	if !sizes["192x192"] || !sizes["512x512"] {
		t.Errorf("icons %v", sizes)
	}
	sw := e.do(http.MethodGet, "/wallet/sw.js", "", "", who{})
	js := readBody(t, sw)
	if sw.StatusCode != http.StatusOK || !strings.HasPrefix(sw.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js, "addEventListener(\"fetch\"") {
		t.Fatalf("sw.js: %d %s", sw.StatusCode, sw.Header.Get("Content-Type"))
	}
	// Signed out, the page tells the script to clear the kept pages.
	welcome := readBody(t, e.do(http.MethodGet, "/wallet/", "", "", who{}))
	if !strings.Contains(welcome, "data-wallet-locked") || !strings.Contains(welcome, `src="/static/wallet.js"`) {
		t.Errorf("the signed-out page does not lock the offline copies")
	}
	off := e.do(http.MethodGet, "/wallet/offline", "", "", who{})
	if page := readBody(t, off); off.StatusCode != http.StatusOK || !strings.Contains(page, "You are offline") || strings.Contains(page, "data-wallet-locked") {
		t.Errorf("offline page: %d, or it locks the wallet", off.StatusCode)
	}
}

func itoaTest(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestWalletUnverifiedSaid: a credential whose issuer's signature could
// not be checked when it came says so on its page; one that was checked
// does not.
func TestWalletUnverifiedSaid(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	as := e.asHolder(h)
	w, err := e.holders.Wallet(as.wallet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, unverified := range []bool{true, false} {
		c, err := w.AddCredential(ctx, holder.Credential{Format: "jwt_vc_json", Raw: "eyJ.e30.sig", Issuer: "did:web:far.example", Source: "oid4vci", Unverified: unverified})
		if err != nil {
			t.Fatal(err)
		}
		res := e.do(http.MethodGet, "/wallet/credentials/"+c.ID, "", "", as)
		page := readBody(t, res)
		if said := strings.Contains(page, "could not check who signed"); res.StatusCode != http.StatusOK || said != unverified {
			t.Fatalf("unverified %v: %d, said %v", unverified, res.StatusCode, said)
		}
	}
}
