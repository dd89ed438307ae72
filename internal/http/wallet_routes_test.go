package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
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
		body := func() string {
			if wc.good == nil {
				return ""
			}
			n++
			return wc.good(n)
		}
		t.Run(key, func(t *testing.T) {
			t.Run("no holder", func(t *testing.T) {
				p := path(a)
				for _, as := range []who{{}, {wallet: "tw_forged"}, {token: "tw_forged"}, e.asStaff("demo", issuer.RoleRegistrar), e.asToken("demo", issuer.RoleAdmin), e.asStaff("demo", issuer.RoleVerifier)} {
					before := e.walletState(a)
					res := e.do(r.Method, p, wc.contentType, body(), as)
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
				res := e.do(r.Method, p, wc.contentType, body(), e.asHolder(b))
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
				res := e.do(r.Method, path(a), wc.contentType, body(), e.asHolder(a))
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
					res := e.do(r.Method, p, bad.contentType, body, e.asHolder(a))
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
