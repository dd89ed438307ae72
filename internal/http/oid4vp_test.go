package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
)

// vpPage reads a request's staff page.
func (e *env) vpPage(t *testing.T, id string) string {
	t.Helper()
	res := e.do(http.MethodGet, "/verify/oid4vp/"+id, "", "", e.asStaff("demo", issuer.RoleVerifier))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("request page: %d", res.StatusCode)
	}
	return readBody(t, res)
}

// TestWalletPresentation runs OpenID4VP end to end with a wallet written
// from the spec: staff ask; the wallet scans, fetches and checks the
// signed request, answers with only the claims asked; the staff page shows
// them and the dedup outcome. The response is single-use.
func TestWalletPresentation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.registry.AddDomain(ctx, registry.NewDomain{ID: "kakuma", Name: "Kakuma", Kind: registry.KindOwn, Members: []string{"demo"},
		KeyFile: []byte(strings.Repeat("5a", 32))}); err != nil {
		t.Fatal(err)
	}
	w := newVPWallet(t, e)
	for round, want := range []string{"First time seen", "Seen before in this domain (earlier checks: 1)"} {
		offer := e.askWallet(t, "registration")
		if page := e.vpPage(t, offer.id); !strings.Contains(page, "Waiting for the wallet") || !strings.Contains(page, `http-equiv="refresh"`) {
			t.Fatalf("waiting page: %s", page)
		}
		req := w.fetchRequest(offer.uri)
		if req.Purpose != "Check at the food distribution." {
			t.Fatalf("purpose %q", req.Purpose)
		}
		if page := e.vpPage(t, offer.id); !strings.Contains(page, "The wallet has opened the request") {
			t.Fatalf("fetched page: %s", page)
		}
		vp := w.answer(req, presentOptions{})
		res := w.respond(req, vp, req.State)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("round %d: response: %d %s", round, res.status, res.body)
		}
		var body map[string]any
		res.json(t, &body)
		page := e.vpPage(t, offer.id)
		for _, s := range []string{"Valid", "Fatima Hassan Abdi", "1991-03-14", "Organisation demo", want} {
			if !strings.Contains(page, s) {
				t.Fatalf("round %d: the page lacks %q: %s", round, s, page)
			}
		}
		// Only what was asked: no registration id, no gender, no seed.
		for _, s := range []string{"KE-DAD-2026-000123", "female", "dedupSeed\"", "http-equiv=\"refresh\""} {
			if strings.Contains(page, s) {
				t.Fatalf("the page shows %q", s)
			}
		}
		// Replay: the same response again is refused, and changes nothing.
		res = w.respond(req, vp, req.State)
		if res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" || !strings.Contains(string(res.body), "already answered") {
			t.Fatalf("replay: %d %s", res.status, res.body)
		}
		if again := e.vpPage(t, offer.id); !strings.Contains(again, want) {
			t.Fatal("a replay changed the outcome")
		}
		// The request object is not served once answered.
		if res := w.get(strings.Replace(req.ResponseURI, "/responses/", "/requests/", 1)); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request_uri" {
			t.Fatalf("request object after the answer: %d %s", res.status, res.body)
		}
	}
	// The registry holds the token, never a name.
	doms, _ := e.registry.Domains(ctx)
	list, err := e.registry.Export(ctx, doms[0].ID)
	if err != nil || len(list.Rows) != 1 {
		t.Fatalf("registry list %+v %v", list, err)
	}
	// Another organisation's staff do not see demo's request.
	offer := e.askWallet(t, "registration-dedup")
	if res := e.do(http.MethodGet, "/verify/oid4vp/"+offer.id, "", "", e.asStaff("other", issuer.RoleVerifier)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("other's verifier: %d", res.StatusCode)
	}
	// The dedup-only question discloses no name.
	req := w.fetchRequest(offer.uri)
	if res := w.respond(req, w.answer(req, presentOptions{}), req.State); res.status != http.StatusOK {
		t.Fatalf("dedup only: %d %s", res.status, res.body)
	}
	if page := e.vpPage(t, offer.id); strings.Contains(page, "Fatima") || !strings.Contains(page, "Seen before in this domain (earlier checks: 2)") {
		t.Fatalf("dedup-only page: %s", page)
	}
}

// TestWalletPresentationRefusals: what the response_uri refuses, with
// OAuth error codes, and what the staff page then says.
func TestWalletPresentationRefusals(t *testing.T) {
	e := newEnv(t)
	w := newVPWallet(t, e)
	tests := []struct {
		name   string
		opts   presentOptions
		reason string // on the staff page
		desc   string // in the error description
	}{
		{"wrong nonce", presentOptions{nonce: "bm90LXRoaXMtcmVxdWVzdHMtbm9uY2U"}, "does not answer this request", "nonce"},
		{"wrong audience", presentOptions{aud: "decentralized_identifier:did:web:evil.example"}, "does not answer this request", "another verifier"},
		{"audience without the prefix", presentOptions{aud: "did:web:tally.example:orgs:demo"}, "does not answer this request", "another verifier"},
		{"asked claim withheld", presentOptions{drop: "dateOfBirth"}, "did not answer what was asked", "dateOfBirth"},
		{"bad issuer signature", presentOptions{tamper: true}, "signature does not match", "signature"},
		{"old key binding", presentOptions{iat: time.Now().Add(-time.Hour)}, "does not answer this request", "just now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offer := e.askWallet(t, "registration")
			req := w.fetchRequest(offer.uri)
			res := w.respond(req, w.answer(req, tc.opts), req.State)
			if res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" || !strings.Contains(string(res.body), tc.desc) {
				t.Fatalf("%d %s", res.status, res.body)
			}
			page := e.vpPage(t, offer.id)
			if !strings.Contains(page, "Not valid") || !strings.Contains(page, tc.reason) || strings.Contains(page, "Fatima") {
				t.Fatalf("page: %s", page)
			}
			// The request is spent: even a good answer is refused now.
			if res := w.respond(req, w.answer(req, presentOptions{}), req.State); res.status != http.StatusBadRequest {
				t.Fatalf("a second answer after a bad one: %d", res.status)
			}
		})
	}

	t.Run("another request's state", func(t *testing.T) {
		a, b := e.askWallet(t, "registration"), e.askWallet(t, "registration")
		ra, rb := w.fetchRequest(a.uri), w.fetchRequest(b.uri)
		res := w.respond(ra, w.answer(rb, presentOptions{}), rb.State)
		if res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" || !strings.Contains(string(res.body), "state") {
			t.Fatalf("%d %s", res.status, res.body)
		}
		// Nothing was taken: a gets its own answer still.
		if res := w.respond(ra, w.answer(ra, presentOptions{}), ra.State); res.status != http.StatusOK {
			t.Fatalf("a's own answer: %d %s", res.status, res.body)
		}
		// b's presentation, sent to a with a's state, names b's nonce.
		if !strings.Contains(e.vpPage(t, a.id), "Valid") {
			t.Fatal("a is not valid")
		}
	})

	t.Run("another request's presentation", func(t *testing.T) {
		a, b := e.askWallet(t, "registration"), e.askWallet(t, "registration")
		ra, rb := w.fetchRequest(a.uri), w.fetchRequest(b.uri)
		res := w.respond(ra, w.answer(rb, presentOptions{}), ra.State)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "nonce") {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})

	t.Run("expired", func(t *testing.T) {
		offer := e.askWallet(t, "registration")
		req := w.fetchRequest(offer.uri)
		e.expirePresentation(t, offer.id)
		res := w.respond(req, w.answer(req, presentOptions{}), req.State)
		if res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request" || !strings.Contains(string(res.body), "expired") {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if res := w.get(strings.Replace(req.ResponseURI, "/responses/", "/requests/", 1)); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request_uri" {
			t.Fatalf("expired request object: %d", res.status)
		}
		if page := e.vpPage(t, offer.id); !strings.Contains(page, "expired without an answer") {
			t.Fatalf("page: %s", page)
		}
	})

	t.Run("more disclosed than asked", func(t *testing.T) {
		offer := e.askWallet(t, "registration")
		req := w.fetchRequest(offer.uri)
		if res := w.respond(req, w.answer(req, presentOptions{extra: "registrationId"}), req.State); res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
		page := e.vpPage(t, offer.id)
		if !strings.Contains(page, "Valid") || strings.Contains(page, "KE-DAD-2026-000123") {
			t.Fatalf("a claim not asked for is shown: %s", page)
		}
	})

	t.Run("declined", func(t *testing.T) {
		offer := e.askWallet(t, "registration")
		req := w.fetchRequest(offer.uri)
		res := w.post(req.ResponseURI, formType, form("error", "access_denied", "error_description", "The user said no", "state", req.State), "")
		if res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if page := e.vpPage(t, offer.id); !strings.Contains(page, "declined") {
			t.Fatalf("page: %s", page)
		}
	})

	t.Run("fetched a few times at most", func(t *testing.T) {
		offer := e.askWallet(t, "registration")
		u, _ := url.Parse(offer.uri)
		ref := u.Query().Get("request_uri")
		for i := range 3 {
			if res := w.get(ref); res.status != http.StatusOK {
				t.Fatalf("fetch %d: %d", i+1, res.status)
			}
		}
		if res := w.get(ref); res.status != http.StatusBadRequest || res.oauthError(t) != "invalid_request_uri" {
			t.Fatalf("fourth fetch: %d %s", res.status, res.body)
		}
	})

	t.Run("request_uri_method post", func(t *testing.T) {
		offer := e.askWallet(t, "registration")
		u, _ := url.Parse(offer.uri)
		res := w.post(u.Query().Get("request_uri"), formType, form("wallet_nonce", "qPmxiNFCR3QTm19POc8u", "wallet_metadata", `{"vp_formats_supported":{}}`), "")
		if res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if r := w.checkRequest(u.Query().Get("client_id"), res.body); r.WalletNonce != "qPmxiNFCR3QTm19POc8u" {
			t.Fatalf("wallet_nonce %q", r.WalletNonce)
		}
	})
}

// expirePresentation moves a request's expiry to the past, as if its
// time had passed.
func (e *env) expirePresentation(t *testing.T, id string) {
	t.Helper()
	err := e.db.Bolt().Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("oid4vp_transactions"))
		var rec map[string]any
		if err := json.Unmarshal(b.Get([]byte(id)), &rec); err != nil {
			return err
		}
		rec["expires"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
		out, _ := json.Marshal(rec)
		return b.Put([]byte(id), out)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentPresentations: of many copies of one good response
// posted at once, exactly one is accepted.
func TestConcurrentPresentations(t *testing.T) {
	e := newEnv(t)
	w := newVPWallet(t, e)
	offer := e.askWallet(t, "registration")
	req := w.fetchRequest(offer.uri)
	vp := w.answer(req, presentOptions{})
	const n = 8
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.PostForm(req.ResponseURI, url.Values{"vp_token": {vp}, "state": {req.State}})
			if err != nil {
				codes <- 0
				return
			}
			r.Body.Close()
			codes <- r.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d responses accepted, want 1", ok)
	}
}

// TestPresentationEndpointsBadInput: the wallet's public endpoints refuse
// bad input with an OAuth error naming the problem, and change nothing.
func TestPresentationEndpointsBadInput(t *testing.T) {
	e := newEnv(t)
	w := newVPWallet(t, e)
	offer := e.askWallet(t, "registration")
	req := w.fetchRequest(offer.uri)
	tests := []struct {
		name, path, contentType, body string
		status                        int
		code, desc                    string
	}{
		{"unknown request object", "/verify/oid4vp/requests/nope", "", "", http.StatusNotFound, "invalid_request_uri", "no such request"},
		{"unknown response_uri", "/verify/oid4vp/responses/nope", formType, form("vp_token", `{"registration":["x~"]}`, "state", req.State), http.StatusBadRequest, "invalid_request", "no such request"},
		{"JSON body", "/verify/oid4vp/responses/" + offer.id, "application/json", `{"vp_token":{}}`, http.StatusBadRequest, "invalid_request", "x-www-form-urlencoded"},
		{"no vp_token", "/verify/oid4vp/responses/" + offer.id, formType, form("state", req.State), http.StatusBadRequest, "invalid_request", "vp_token is missing"},
		{"vp_token not an object", "/verify/oid4vp/responses/" + offer.id, formType, form("vp_token", `["x~"]`, "state", req.State), http.StatusBadRequest, "invalid_request", "JSON object"},
		{"vp_token a string (draft)", "/verify/oid4vp/responses/" + offer.id, formType, form("vp_token", `eyJhbGciOi~`, "state", req.State), http.StatusBadRequest, "invalid_request", "JSON object"},
		{"empty array", "/verify/oid4vp/responses/" + offer.id, formType, form("vp_token", `{"registration":[]}`, "state", req.State), http.StatusBadRequest, "invalid_request", "empty array"},
		{"repeated state", "/verify/oid4vp/responses/" + offer.id, formType, "state=a&state=b&vp_token=%7B%7D", http.StatusBadRequest, "invalid_request", "state is repeated"},
		{"no state", "/verify/oid4vp/responses/" + offer.id, formType, form("vp_token", `{"registration":["x~"]}`), http.StatusBadRequest, "invalid_request", "state is missing"},
		{"encrypted response", "/verify/oid4vp/responses/" + offer.id, formType, form("response", "eyJ.x.y.z.w"), http.StatusBadRequest, "invalid_request", "direct_post.jwt"},
		{"too large", "/verify/oid4vp/responses/" + offer.id, formType, "vp_token=" + strings.Repeat("a", 300<<10), http.StatusBadRequest, "invalid_request", "KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.contentType == "" {
				res = w.get(e.ts.URL + tc.path)
			} else {
				res = w.post(e.ts.URL+tc.path, tc.contentType, tc.body, "")
			}
			if res.status != tc.status || res.oauthError(t) != tc.code || !strings.Contains(string(res.body), tc.desc) {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
	// None of it touched the request: its own answer is accepted.
	if res := w.respond(req, w.answer(req, presentOptions{}), req.State); res.status != http.StatusOK {
		t.Fatalf("good answer after bad input: %d %s", res.status, res.body)
	}
	// A VP Token that answers another query id is refused (and spends the
	// request, whose state it knew).
	offer = e.askWallet(t, "registration")
	req = w.fetchRequest(offer.uri)
	vp := strings.Replace(w.answer(req, presentOptions{}), `"registration"`, `"other_id"`, 1)
	if res := w.respond(req, vp, req.State); res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "not asked for") {
		t.Fatalf("other query id: %d %s", res.status, res.body)
	}
	if res := w.respond(req, w.answer(req, presentOptions{}), req.State); res.status != http.StatusBadRequest {
		t.Fatalf("after a wrong answer: %d", res.status)
	}
}

// TestPresentationPagesTranslated: the request pages, waiting and
// answered, hold no untranslated key in any language, and Arabic pages
// read right to left.
func TestPresentationPagesTranslated(t *testing.T) {
	e := newEnv(t)
	w := newVPWallet(t, e)
	waiting := e.askWallet(t, "eligibility")
	answered := e.askWallet(t, "registration")
	req := w.fetchRequest(answered.uri)
	if res := w.respond(req, w.answer(req, presentOptions{}), req.State); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	declined := e.askWallet(t, "registration-dedup")
	req = w.fetchRequest(declined.uri)
	w.post(req.ResponseURI, formType, form("error", "access_denied", "state", req.State), "")
	for _, lang := range []string{"en", "fr", "ar"} {
		for _, path := range []string{"/verify/oid4vp/new", "/verify/oid4vp/" + waiting.id, "/verify/oid4vp/" + answered.id, "/verify/oid4vp/" + declined.id} {
			res := e.do(http.MethodGet, path+"?lang="+lang, "", "", e.asStaff("demo", issuer.RoleSupervisor))
			page := readBody(t, res)
			if res.StatusCode != http.StatusOK || strings.Contains(page, "oid4vp_") {
				t.Fatalf("%s %s: %d, or a key shows: %s", lang, path, res.StatusCode, page)
			}
			if lang == "ar" && !strings.Contains(page, `dir="rtl"`) {
				t.Fatalf("%s: not right to left", path)
			}
		}
	}
}
