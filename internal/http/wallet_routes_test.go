package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	tallyhttp "github.com/tally-id/tally/internal/http"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/issuer"
)

// walletHolder is a holder of the test wallet: their wallet number,
// device secret and PIN.
type walletHolder struct {
	id, device, pin string
}

// walletPIN is every test holder's PIN.
const walletPIN = "480915"

// newHolder opens a wallet for a test.
func (e *env) newHolder() walletHolder {
	e.t.Helper()
	o, err := e.holders.Open(context.Background(), walletPIN, "en")
	if err != nil {
		e.t.Fatal(err)
	}
	return walletHolder{id: o.ID, device: o.DeviceSecret, pin: walletPIN}
}

// asHolder signs a holder in anew (a route may end the session it gets).
func (e *env) asHolder(h walletHolder) who {
	e.t.Helper()
	tok, err := e.holders.SignIn(context.Background(), h.id, h.device, h.pin)
	if err != nil {
		e.t.Fatal(err)
	}
	return who{wallet: tok}
}

// walletMarker and the holder's wallet number are in every credential
// the walk gives a holder: no answer to another holder may hold them.
const walletMarker = "FATIMA-WALLET-MARKER"

// addWalletCredential gives a holder a credential, and returns its id.
func (e *env) addWalletCredential(h walletHolder) string {
	e.t.Helper()
	tok := e.asHolder(h).wallet
	w, err := e.holders.Wallet(tok)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := w.AddCredential(context.Background(), holder.Credential{Format: "jwt_vc_json", Raw: "eyJ." + walletMarker + h.id + ".sig", Issuer: "did:web:tally.example:orgs:demo", Name: "Registration " + walletMarker + h.id, Source: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

// walletState fingerprints everything a holder's wallet keeps.
func (e *env) walletState(h walletHolder) string {
	e.t.Helper()
	ctx := context.Background()
	sum := sha256.New()
	a, err := e.holderStore.Account(ctx, h.id)
	if err != nil {
		return "gone"
	}
	fmt.Fprintf(sum, "%x%d", a.PINSealed, a.Failures)
	for _, k := range []holder.Kind{holder.KindCredential, holder.KindShare, holder.KindProfile} {
		items, err := e.holderStore.Items(ctx, h.id, k)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range items {
			fmt.Fprintf(sum, "%s/%s/%x;", k, it.ID, it.Sealed)
		}
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// walletCase says how to call a Holder route well, and badly.
type walletCase struct {
	contentType string
	// good is a body that succeeds; status its answer.
	good   func(n int) string
	status int
	// param gives the value of each path parameter for holder a: a fresh
	// one each call when the route consumes it.
	param func(e *env, a walletHolder, name string) string
	bad   []badInput
	// --- wallet/account: fresh says the good call changes the PIN or
	// deletes the wallet, so it uses a holder of its own; goodFor, when
	// set, makes the good body for a holder (it needs their device
	// secret); phone sends the holder's device-secret cookie, as their
	// phone's browser does.
	fresh   bool
	goodFor func(e *env, h walletHolder) string
	phone   bool
	// setup, when set, prepares holder a's wallet before the walk of
	// the route (wallet/present).
	setup func(e *env, a walletHolder)
}

// walletParam gives a fresh credential of a's for :id.
func walletParam(e *env, a walletHolder, name string) string {
	switch name {
	case "id":
		return e.addWalletCredential(a)
	}
	e.t.Fatalf("no value for path parameter :%s", name)
	return ""
}

// walletCases must name every Holder route: a new one without a case
// fails TestWalletRouteTable. Parts of issue 8 add theirs here.
func walletCases() map[string]walletCase {
	const jsonType = "application/json"
	return map[string]walletCase{
		"DELETE /api/v1/wallet/session":         {status: http.StatusNoContent},
		"GET /api/v1/wallet/credentials":        {status: http.StatusOK},
		"GET /api/v1/wallet/credentials/:id":    {status: http.StatusOK, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"DELETE /api/v1/wallet/credentials/:id": {status: http.StatusNoContent, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		// --- cases of the wallet's later parts go here
		// --- wallet/account (wallet_account_test.go)
		"GET /wallet/settings":          {status: http.StatusOK},
		"POST /wallet/settings/lang":    {contentType: formType, good: func(int) string { return "lang=fr" }, status: http.StatusSeeOther, bad: []badInput{{name: "unknown language", contentType: formType, body: "lang=xx", status: http.StatusBadRequest}}},
		"POST /wallet/settings/pin":     {contentType: formType, good: func(int) string { return "pin=480915&new_pin=730264&new_pin_again=730264" }, status: http.StatusSeeOther, fresh: true, phone: true, bad: pagePINBad},
		"POST /wallet/settings/backup":  {contentType: formType, good: backupForm, status: http.StatusOK, bad: pageBackupBad},
		"POST /wallet/settings/restore": {contentType: restoreType, goodFor: restoreFormFor, status: http.StatusOK, bad: pageRestoreBad},
		"POST /wallet/settings/export":  {contentType: formType, good: func(int) string { return "pin=480915" }, status: http.StatusOK, phone: true, bad: []badInput{{name: "no PIN", contentType: formType, body: "pin=", status: http.StatusBadRequest}}},
		"GET /wallet/settings/delete":   {status: http.StatusOK},
		"POST /wallet/settings/delete":  {contentType: formType, good: func(int) string { return "confirm=yes&pin=480915" }, status: http.StatusSeeOther, fresh: true, phone: true, bad: pageDeleteBad},
		"GET /wallet/shares":            {status: http.StatusOK},
		"PUT /api/v1/wallet/pin":        {contentType: jsonType, goodFor: pinJSON, status: http.StatusNoContent, fresh: true, bad: apiPINBad},
		"GET /api/v1/wallet/shares":     {status: http.StatusOK},
		"POST /api/v1/wallet/backup":    {contentType: jsonType, good: func(int) string { return `{"passphrase":"river lantern cobalt pepper"}` }, status: http.StatusOK, bad: apiBackupBad},
		"POST /api/v1/wallet/restore":   {contentType: jsonType, goodFor: restoreJSONFor, status: http.StatusOK, bad: apiRestoreBad},
		"GET /api/v1/wallet/export":     {status: http.StatusOK},
		"DELETE /api/v1/wallet":         {contentType: jsonType, goodFor: deleteJSON, status: http.StatusNoContent, fresh: true, bad: apiDeleteBad},
		"PUT /api/v1/wallet/settings":   {contentType: jsonType, good: func(int) string { return `{"lang":"ar"}` }, status: http.StatusOK, bad: []badInput{{name: "unknown language", contentType: jsonType, body: `{"lang":"xx"}`, status: http.StatusBadRequest, fields: []string{"lang"}}, {name: "not JSON", contentType: jsonType, body: `lang=fr`, status: http.StatusBadRequest, fields: []string{"body"}}}},
		// --- end wallet/account
		// --- wallet/present ---
		"POST /api/v1/wallet/presentations/preview": {contentType: jsonType, status: http.StatusOK, goodFor: presentPreviewBody, bad: []badInput{
			{name: "no request", contentType: jsonType, body: `{"request":""}`, status: http.StatusBadRequest},
			{name: "not a request", contentType: jsonType, body: `{"request":"hello"}`, status: http.StatusBadRequest},
			{name: "unsupported verifier", contentType: jsonType, body: `{"request":"openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv.example%2Fr"}`, status: http.StatusBadRequest},
			{name: "unknown member", contentType: jsonType, body: `{"request":"openid4vp://?x","pin":"1"}`, status: http.StatusBadRequest},
			{name: "not JSON", contentType: "text/plain", body: `openid4vp://?x`, status: http.StatusBadRequest},
		}},
		"POST /api/v1/wallet/presentations": {contentType: jsonType, status: http.StatusOK, goodFor: presentDeclineBody, bad: []badInput{
			{name: "no request_id", contentType: jsonType, body: `{"credentials":{"registration":"AAAAAAAAAAAAAAAA"}}`, status: http.StatusBadRequest},
			{name: "unknown request_id", contentType: jsonType, body: `{"request_id":"nope","credentials":{"registration":"AAAAAAAAAAAAAAAA"}}`, status: http.StatusBadRequest},
			{name: "decline with credentials", contentType: jsonType, body: `{"request_id":"nope","decline":true,"credentials":{"a":"b"}}`, status: http.StatusBadRequest},
		}},
		"POST /api/v1/wallet/presentations/offline": {contentType: jsonType, status: http.StatusOK, goodFor: offlineBody, setup: func(e *env, a walletHolder) { e.giveSDJWT(a) }, bad: []badInput{
			{name: "unknown credential", contentType: jsonType, body: `{"credential":"AAAAAAAAAAAAAAAA","claims":["fullName"]}`, status: http.StatusNotFound},
			{name: "no credential", contentType: jsonType, body: `{"claims":["fullName"]}`, status: http.StatusBadRequest},
		}},
		"GET /wallet/present": {status: http.StatusOK},
		"POST /wallet/present/frame": {contentType: "image/png", status: http.StatusOK, goodFor: presentFramePNG, bad: []badInput{
			{name: "garbage", contentType: "image/jpeg", body: "\xff\xd8\xff garbage", status: http.StatusUnprocessableEntity},
			{name: "empty", contentType: "image/jpeg", body: "", status: http.StatusBadRequest},
			{name: "oversized", contentType: "image/jpeg", body: strings.Repeat("x", 3<<20), status: http.StatusRequestEntityTooLarge},
		}},
		"POST /wallet/present": {contentType: formType, status: http.StatusOK, goodFor: presentFormBody, bad: []badInput{
			{name: "nothing", contentType: formType, body: "request=", status: http.StatusBadRequest},
			{name: "not a request", contentType: formType, body: "request=hello", status: http.StatusBadRequest},
			{name: "unsupported verifier", contentType: formType, body: "request=" + url.QueryEscape("openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv.example%2Fr"), status: http.StatusBadRequest},
		}},
		"POST /wallet/present/:rid": {contentType: formType, status: http.StatusOK, good: func(int) string { return "action=decline" }, param: presentParam,
			bad: []badInput{{name: "unknown id", contentType: formType, body: "action=share", status: http.StatusNotFound}}},
		"GET /wallet/present/offline/:id": {status: http.StatusOK, param: presentParam, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"POST /wallet/present/offline/:id": {contentType: formType, status: http.StatusSeeOther, good: func(int) string { return "claims=fullName" }, param: presentParam,
			bad: []badInput{
				{name: "unknown id", contentType: formType, body: "claims=fullName", status: http.StatusNotFound},
				{name: "no claims", contentType: formType, body: "", status: http.StatusBadRequest},
				{name: "unknown claim", contentType: formType, body: "claims=passport", status: http.StatusBadRequest},
			}},
		// --- end wallet/present
		// --- wallet/pwa
		"GET /wallet/credentials/:id":               {status: http.StatusOK, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"POST /wallet/credentials/:id/status":       {status: http.StatusSeeOther, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"GET /wallet/credentials/:id/delete":        {status: http.StatusOK, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"GET /api/v1/wallet/credentials/:id/status": {status: http.StatusOK, bad: []badInput{{name: "unknown id", status: http.StatusNotFound}}},
		"POST /wallet/credentials/:id/delete": {contentType: formType, good: func(int) string { return "confirm=yes" }, status: http.StatusSeeOther, bad: []badInput{
			{name: "unknown id", contentType: formType, body: "confirm=yes", status: http.StatusNotFound},
			{name: "not confirmed", contentType: formType, body: "", status: http.StatusBadRequest},
			{name: "confirm is not yes", contentType: formType, body: "confirm=no", status: http.StatusBadRequest},
		}},
		// --- end wallet/pwa
		// --- wallet/receive (the cases are in wallet_receive_issuer_test.go)
		"GET /wallet/receive":                receiveCases()["GET /wallet/receive"],
		"POST /wallet/receive":               receiveCases()["POST /wallet/receive"],
		"POST /wallet/receive/accept":        receiveCases()["POST /wallet/receive/accept"],
		"POST /wallet/receive/frame":         receiveCases()["POST /wallet/receive/frame"],
		"GET /wallet/import":                 receiveCases()["GET /wallet/import"],
		"POST /wallet/import":                receiveCases()["POST /wallet/import"],
		"POST /api/v1/wallet/offers/preview": receiveCases()["POST /api/v1/wallet/offers/preview"],
		"POST /api/v1/wallet/offers":         receiveCases()["POST /api/v1/wallet/offers"],
		"POST /api/v1/wallet/cards":          receiveCases()["POST /api/v1/wallet/cards"],

		"": {contentType: jsonType},
	}
}

var pathParam = regexp.MustCompile(`:[a-z]+`)

// TestWalletRouteTable walks every Holder route: without a session, with
// a staff member's session or token, and with another holder's session
// (which must neither see nor change the first holder's wallet), then
// well and with bad input.
func TestWalletRouteTable(t *testing.T) {
	e := newEnv(t)
	cases := walletCases()
	delete(cases, "")
	a, b := e.newHolder(), e.newHolder()
	e.addWalletCredential(b)
	seen := map[string]bool{}
	n := 0
	for _, r := range e.srv.Routes() {
		if !r.Holder {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		wc, ok := cases[key]
		if !ok {
			t.Errorf("Holder route %s has no case in walletCases", key)
			continue
		}
		if len(r.Roles) != 0 || r.Public {
			t.Errorf("Holder route %s also admits staff or everyone", key)
		}
		param := wc.param
		if param == nil {
			param = walletParam
		}
		path := func(h walletHolder) string {
			return pathParam.ReplaceAllStringFunc(r.Path, func(p string) string { return param(e, h, p[1:]) })
		}
		body := func(h walletHolder) string {
			if wc.goodFor != nil {
				return wc.goodFor(e, h)
			}
			if wc.good == nil {
				return ""
			}
			n++
			return wc.good(n)
		}
		// phone is the device-secret cookie of h's phone, with the
		// wallet session of as (wallet/account).
		phone := func(as who, h walletHolder) []string {
			if !wc.phone {
				return nil
			}
			return []string{"Cookie", "tally_wallet=" + as.wallet + "; tally_wd_" + h.id + "=" + h.device}
		}
		if wc.setup != nil {
			wc.setup(e, a)
		}
		t.Run(key, func(t *testing.T) {
			t.Run("no holder", func(t *testing.T) {
				p := path(a)
				for _, as := range []who{{}, {wallet: "tw_forged"}, {token: "tw_forged"}, e.asStaff("demo", issuer.RoleRegistrar), e.asToken("demo", issuer.RoleAdmin), e.asStaff("demo", issuer.RoleVerifier)} {
					before := e.walletState(a)
					res := e.do(r.Method, p, wc.contentType, body(a), as)
					switch {
					case r.Kind == tallyhttp.Page && r.Method == http.MethodGet:
						if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/wallet/signin?next=") {
							t.Fatalf("%+v: %d to %q, want 303 to the wallet's sign-in", as, res.StatusCode, res.Header.Get("Location"))
						}
					default:
						if res.StatusCode != http.StatusUnauthorized {
							t.Fatalf("%+v: %d, want 401", as, res.StatusCode)
						}
					}
					if e.walletState(a) != before {
						t.Fatal("a request without the holder's session changed the wallet")
					}
				}
			})
			t.Run("another holder", func(t *testing.T) {
				p := path(a)
				before := e.walletState(a)
				asB := e.asHolder(b)
				res := e.do(r.Method, p, wc.contentType, body(a), asB, phone(asB, a)...)
				page := readBody(t, res)
				if strings.Contains(page, walletMarker+a.id) || strings.Contains(page, a.id) {
					t.Fatalf("another holder reads the wallet: %.300s", page)
				}
				if strings.Contains(r.Path, ":") && res.StatusCode != http.StatusNotFound {
					t.Fatalf("another holder's id: %d, want 404", res.StatusCode)
				}
				if e.walletState(a) != before {
					t.Fatal("another holder's request changed the wallet")
				}
			})
			t.Run("the holder", func(t *testing.T) {
				h := a
				if wc.fresh {
					h = e.newHolder()
				}
				as := e.asHolder(h)
				res := e.do(r.Method, path(h), wc.contentType, body(h), as, phone(as, h)...)
				if res.StatusCode != wc.status {
					t.Fatalf("%d, want %d: %s", res.StatusCode, wc.status, readBody(t, res))
				}
			})
			for _, bad := range wc.bad {
				t.Run("bad input: "+bad.name, func(t *testing.T) {
					p := path(a)
					if bad.name == "unknown id" {
						p = pathParam.ReplaceAllString(r.Path, "AAAAAAAAAAAAAAAA")
					}
					before := e.walletState(a)
					body := bad.body
					if bad.now != nil {
						body = bad.now()
					}
					as := e.asHolder(a)
					res := e.do(r.Method, p, bad.contentType, body, as, phone(as, a)...)
					if res.StatusCode != bad.status {
						t.Fatalf("%d, want %d: %s", res.StatusCode, bad.status, readBody(t, res))
					}
					if e.walletState(a) != before {
						t.Fatal("bad input changed the wallet")
					}
				})
			}
		})
	}
	for key := range cases {
		if !seen[key] {
			t.Errorf("walletCases names %s, which is not a Holder route", key)
		}
	}
}

// TestWalletOpenLimit: one client address opens a bounded number of
// wallets in a window (each costs two argon2id runs and a record); a
// refused one costs nothing and says when to try again.
func TestWalletOpenLimit(t *testing.T) {
	e := newEnv(t)
	opened := 0
	for i := 0; i < 70; i++ {
		res := e.do(http.MethodPost, "/api/v1/wallet/holders", "application/json", `{"pin":"480915"}`, who{})
		switch res.StatusCode {
		case http.StatusCreated:
			opened++
		case http.StatusTooManyRequests:
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("open %d: %d", i, res.StatusCode)
		}
	}
	if opened != 60 {
		t.Fatalf("%d wallets opened from one address, want 60", opened)
	}
	// A bad PIN is refused before it counts.
	if res := e.do(http.MethodPost, "/api/v1/wallet/holders", "application/json", `{"pin":"1"}`, who{}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad PIN after the limit: %d", res.StatusCode)
	}
	res := e.do(http.MethodPost, "/wallet/open", formType, "pin=480915&pin_again=480915", who{})
	if page := readBody(t, res); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("the page: %d", res.StatusCode)
	}
}
