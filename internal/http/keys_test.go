package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// spares are what the keys part's routes act on in TestRouteTable, made
// once per env: a key that signed nothing (so that declaring it
// compromised revokes nothing other routes use) and a staff member no
// other route uses (so that disabling them ends no session in use).
var spares sync.Map // *env → *spare

type spare struct {
	once    sync.Once
	key     string
	staffID string
}

func (e *env) spare() *spare {
	v, _ := spares.LoadOrStore(e, &spare{})
	sp := v.(*spare)
	sp.once.Do(func() {
		ctx := context.Background()
		k, err := e.svc.RotateKey(ctx, issuer.SystemPrincipal("test"), "demo", issuer.RotateInput{})
		if err != nil {
			e.t.Fatal(err)
		}
		st, pw, err := e.svc.CreateStaff(ctx, issuer.SystemPrincipal("test"), "demo", issuer.NewStaff{Name: "Spare Person", Username: "demo-spare", Role: issuer.RoleRegistrar})
		if err != nil {
			e.t.Fatal(err)
		}
		e.secrets = append(e.secrets, pw)
		sp.key, sp.staffID = k.Fragment, st.ID
	})
	return sp
}

// keysPath fills the keys part's path parameters.
func (e *env) keysPath(path string) string {
	if strings.Contains(path, ":key") || strings.Contains(path, ":staff") {
		sp := e.spare()
		path = strings.NewReplacer(":key", sp.key, ":staff", sp.staffID).Replace(path)
	}
	return path
}

// keysCases are the cases of the keys part's routes: organisation
// settings, signing keys, staff accounts.
func keysCases() map[string]routeCase {
	const jsonType = "application/json"
	return map[string]routeCase{
		"GET /account/password": {status: http.StatusOK},
		// The body every role sends has a current password that is not
		// theirs (an API token has none): the change is refused, and
		// TestFirstSignInChangesPassword changes one for real.
		"POST /account/password": {
			contentType: formType, status: http.StatusBadRequest,
			good: func(n int) string {
				return form("current", "not the password", "new", fmt.Sprintf("copper kettle violin %d", n))
			},
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"current", "new"}, nil},
				{"too short", formType, form("current", "x", "new", "short words"), http.StatusBadRequest, []string{"new"}, nil},
				{"common", formType, form("current", "x", "new", "password1234"), http.StatusBadRequest, []string{"new"}, nil},
				{"the user name", formType, form("current", "x", "new", "my admin-demo pass"), http.StatusBadRequest, []string{"new"}, nil},
				{"a wrong current password", formType, form("current", "wrong wrong wrong", "new", "copper kettle violin harbour"), http.StatusBadRequest, []string{"current"}, nil},
			},
		},
		"POST /admin/staff/:staff/password": {contentType: formType, status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /admin/staff/:staff/disable":  {contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound},
		"GET /admin/organisation":           {status: http.StatusOK},
		"POST /admin/organisation": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string {
				return form("name", "Organisation demo", "languages", "en, so", "contact", fmt.Sprintf("+254 700 000 %03d", n))
			},
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"name", "languages"}, nil},
				{"not a language", formType, form("name", "Org", "languages", "English"), http.StatusBadRequest, []string{"languages"}, nil},
				{"contact on two lines", formType, form("name", "Org", "languages", "en", "contact", "a\nb"), http.StatusBadRequest, []string{"contact"}, nil},
				{"contact too long", formType, form("name", "Org", "languages", "en", "contact", strings.Repeat("c", 201)), http.StatusBadRequest, []string{"contact"}, nil},
			},
		},
		"POST /admin/organisation/keys": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(int) string { return form("alg", "") },
			bad: []badInput{
				{"unknown algorithm", formType, form("alg", "rsa"), http.StatusBadRequest, []string{"alg"}, nil},
			},
		},
		"GET /admin/organisation/keys/:key/compromise": {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /admin/organisation/keys/:key/compromise": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(int) string { return form("reason", "A laptop was stolen.", "confirm", "yes") },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"reason", "confirm"}, nil},
				{"not confirmed", formType, form("reason", "A laptop was stolen."), http.StatusBadRequest, []string{"confirm"}, nil},
				{"reason too long", formType, form("reason", strings.Repeat("r", 501), "confirm", "yes"), http.StatusBadRequest, []string{"reason"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/staff/:staff/password": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/staff/:staff/disable":  {status: http.StatusOK},
		"GET /api/v1/orgs/:org":                        {status: http.StatusOK},
		"PUT /api/v1/orgs/:org": {
			contentType: jsonType, status: http.StatusOK,
			good: func(n int) string {
				return fmt.Sprintf(`{"name":"Organisation demo","languages":["en","so"],"contact":"desk %d"}`, n)
			},
			bad: []badInput{
				{"not JSON", formType, form("name", "X"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"name":"X","languages":["en"],"did":"did:web:evil"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"name", "languages"}, nil},
				{"not a language", jsonType, `{"name":"X","languages":["English"]}`, http.StatusBadRequest, []string{"languages"}, nil},
			},
		},
		"GET /api/v1/orgs/:org/keys": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/keys": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return `{}` },
			bad: []badInput{
				{"not JSON", formType, form("alg", "p256"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown algorithm", jsonType, `{"alg":"rsa"}`, http.StatusBadRequest, []string{"alg"}, nil},
				{"unknown field", jsonType, `{"alg":"p256","private":"..."}`, http.StatusBadRequest, []string{"body"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/keys/:key/compromise": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return `{"reason":"A backup leaked.","confirm":true}` },
			bad: []badInput{
				{"not JSON", formType, form("reason", "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"reason", "confirm"}, nil},
				{"not confirmed", jsonType, `{"reason":"A backup leaked.","confirm":false}`, http.StatusBadRequest, []string{"confirm"}, nil},
			},
		},
	}
}

// TestKeyCompromise: cards issued with key A, then with B after a
// rotation; A declared compromised through the API. Every credential A
// signed is revoked (a reprint of one included), as the verifier library
// sees against the served status lists, even one that still trusts A;
// B's are not; the DID document no longer has A.
func TestKeyCompromise(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	by := issuer.SystemPrincipal("test")
	keys, err := e.svc.Keys(ctx, "demo")
	if err != nil || len(keys) != 1 {
		t.Fatalf("demo's keys: %v %v", keys, err)
	}
	a := keys[0]
	issue := func() issuer.Issued {
		out, err := e.svc.Issue(ctx, by, "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var byA, byB []issuer.Issued
	for range 3 {
		byA = append(byA, issue())
	}
	res := e.do(http.MethodPost, "/api/v1/orgs/demo/keys", "application/json", `{}`, e.asToken("demo", issuer.RoleAdmin))
	var b issuer.KeyInfo
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&b) != nil || b.State != issuer.KeyCurrent {
		t.Fatalf("rotate: %d %+v", res.StatusCode, b)
	}
	for range 2 {
		byB = append(byB, issue())
	}
	// A card of A's printed again is signed by B now, with A's status
	// entry: it goes with A's.
	reprint, err := e.svc.Reprint(ctx, "demo", byA[0].Record.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := reprint.Record.Keys; len(got) != 2 || got[0] != a.ID || got[1] != b.ID {
		t.Fatalf("the reprint's keys: %v", got)
	}
	pubs := map[string]*credentials.Key{}
	for _, k := range []string{a.ID, b.ID} {
		pubs[k] = e.publicKey(k)
	}
	verify := func(card string, trusted ...*credentials.Key) error {
		iss, err := verifier.NewTrustedIssuer("demo", credentials.Types(), trusted...)
		if err != nil {
			t.Fatal(err)
		}
		iss.StatusBase = e.ts.URL + "/status/demo"
		trust := verifier.NewTrustList("test")
		if err := trust.Add(iss); err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(verifier.Options{Trust: trust})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx, []byte(card))
		return err
	}
	for _, c := range append(append(append([]issuer.Issued{}, byA...), byB...), reprint) {
		if err := verify(c.Credential, pubs[a.ID], pubs[b.ID]); err != nil {
			t.Fatalf("before: %v", err)
		}
	}

	res = e.do(http.MethodPost, "/api/v1/orgs/demo/keys/"+a.Fragment+"/compromise", "application/json",
		`{"reason":"The laptop that held the backup was stolen.","confirm":true}`, e.asToken("demo", issuer.RoleAdmin))
	var out issuer.Compromised
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		t.Fatalf("compromise: %d", res.StatusCode)
	}
	// A signed the three, the two cards newEnv issued, and the two of its
	// import.
	if out.Revoked != 7 || out.Key.State != issuer.KeyCompromised || out.Key.Swept.IsZero() || out.NewKey != nil {
		t.Fatalf("compromise: %+v", out)
	}
	revoked := func(err error) bool {
		var ve *verifier.Error
		return errors.As(err, &ve) && ve.Reason == verifier.Revoked
	}
	for _, c := range append(append([]issuer.Issued{}, byA...), reprint) {
		if err := verify(c.Credential, pubs[a.ID], pubs[b.ID]); !revoked(err) {
			t.Fatalf("a card of A's, to a verifier that still trusts A: %v, want revoked", err)
		}
	}
	for _, c := range byB {
		if err := verify(c.Credential, pubs[b.ID]); err != nil {
			t.Fatalf("a card of B's: %v", err)
		}
		rec, _ := e.svc.CredentialRecord(ctx, "demo", c.Record.ID)
		if rec.State != issuer.StateActive {
			t.Fatalf("B's card is %s", rec.State)
		}
	}
	doc := readBody(t, e.do(http.MethodGet, "/orgs/demo/did.json", "", "", who{}))
	if strings.Contains(doc, a.ID) || !strings.Contains(doc, b.ID) {
		t.Fatalf("the DID document: %s", doc)
	}
	// Nothing is reprinted from A any more; a second declaration changes
	// nothing.
	if _, err := e.svc.Reprint(ctx, "demo", byA[1].Record.ID); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("reprint of A's: %v", err)
	}
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/keys/"+a.Fragment+"/compromise", "application/json",
		`{"reason":"Again.","confirm":true}`, e.asToken("demo", issuer.RoleAdmin))
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil || out.Revoked != 0 || out.Key.Revoked != 7 {
		t.Fatalf("again: %d %+v", res.StatusCode, out)
	}
	// The settings page shows the keys and their states.
	page := readBody(t, e.do(http.MethodGet, "/admin/organisation", "", "", e.asStaff("demo", issuer.RoleAdmin)))
	for _, want := range []string{a.Fragment, b.Fragment, "Compromised", "Current", "7 credentials revoked"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the settings page lacks %q", want)
		}
	}
}

// publicKey is one of demo's public keys.
func (e *env) publicKey(id string) *credentials.Key {
	keys, err := e.db.OrgKeys(context.Background(), "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			pub, err := credentials.ReadPublicKey(k.Sealed)
			if err != nil {
				e.t.Fatal(err)
			}
			return pub
		}
	}
	e.t.Fatalf("no key %s", id)
	return nil
}
