package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/internal/scan"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
)

// giveSDJWT issues Fatima's registration credential as an SD-JWT VC
// bound to the holder's key, as OpenID4VCI would, and keeps it in the
// holder's wallet.
func (e *env) giveSDJWT(h walletHolder) string {
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
	out, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatSDJWT, Holder: key.Signer.Public()})
	if err != nil {
		e.t.Fatal(err)
	}
	org, err := e.svc.Organisation(ctx, "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := w.AddCredential(ctx, holder.Credential{Format: "dc+sd-jwt", Raw: out.Credential, Issuer: org.DID, IssuerName: org.Name,
		Type: credentials.VCT(credentials.TypeRegistration), Name: "Registration", HolderKey: key.ID, Source: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

// jsonBody decodes a JSON answer.
func jsonBody(t *testing.T, res *http.Response, v any) {
	t.Helper()
	body := readBody(t, res)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%d %s: %v", res.StatusCode, body, err)
	}
}

type previewAnswer struct {
	RequestID string `json:"request_id"`
	Verifier  struct {
		ClientID string `json:"client_id"`
		DID      string `json:"did"`
		Name     string `json:"name"`
		Known    bool   `json:"known"`
		Trusted  bool   `json:"trusted"`
	}
	Purpose  string
	CanShare bool `json:"can_share"`
	Queries  []struct {
		ID       string
		Required bool
		Claims   []struct{ Label string }
		// Candidates are the holder's credentials that answer.
		Candidates []struct {
			Credential string
			Disclose   []string
		}
	}
}

type shareAnswer struct {
	Outcome     string
	Status      int
	Error       string
	RedirectURI string `json:"redirect_uri"`
	Share       *holder.Share
}

func (e *env) preview(as who, request string) (*http.Response, previewAnswer) {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"request": request})
	res := e.do(http.MethodPost, "/api/v1/wallet/presentations/preview", "application/json", string(b), as)
	var p previewAnswer
	if res.StatusCode == http.StatusOK {
		jsonBody(e.t, res, &p)
	}
	return res, p
}

// vpTxState reads a presentation request as the verifying staff see it.
func (e *env) vpTxState(t *testing.T, id string) (status string, outcome *oid4vp.Outcome) {
	t.Helper()
	res := e.do(http.MethodGet, "/api/v1/orgs/demo/oid4vp/"+id, "", "", e.asStaff("demo", issuer.RoleVerifier))
	var body struct {
		Status  string
		Outcome *oid4vp.Outcome
	}
	jsonBody(t, res, &body)
	return body.Status, body.Outcome
}

// requestObject fetches a request's Request Object, as a wallet, and
// reads its payload.
func (e *env) requestObject(t *testing.T, uri string) (string, map[string]any) {
	t.Helper()
	u, _ := url.Parse(uri)
	res, err := http.Get(u.Query().Get("request_uri"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	tok := readBody(t, res)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("request object %q", tok)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return tok, m
}

// TestWalletPresentsToVerifier: tally's verifier asks for the name, the
// date of birth and the dedup seed; the holder's wallet previews, shares
// only those, and the verifier accepts and records the person in its
// dedup domain. The same presentation replayed, to the same request or
// another, and one made for another verifier are refused.
func TestWalletPresentsToVerifier(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.registry.AddDomain(ctx, registry.NewDomain{ID: "kakuma", Name: "Kakuma", Kind: registry.KindOwn, Members: []string{"demo"},
		KeyFile: []byte(strings.Repeat("5a", 32))}); err != nil {
		t.Fatal(err)
	}
	h := e.newHolder()
	credID := e.giveSDJWT(h)
	e.addWalletCredential(h) // a VC-JWT that answers nothing

	offer := e.askWallet(t, "registration")
	_, ro := e.requestObject(t, offer.uri) // the first fetch: learn nonce and state
	res, p := e.preview(e.asHolder(h), offer.uri)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d %s", res.StatusCode, readBody(t, res))
	}
	org, _ := e.svc.Organisation(ctx, "demo")
	if !p.CanShare || !p.Verifier.Known || p.Verifier.Name != org.Name || p.Verifier.DID != org.DID || p.Purpose != "Check at the food distribution." ||
		len(p.Queries) != 1 || !p.Queries[0].Required || len(p.Queries[0].Candidates) != 1 || p.Queries[0].Candidates[0].Credential != credID {
		t.Fatalf("preview %+v", p)
	}
	if !p.Verifier.Trusted {
		t.Fatal("demo, an issuer this instance trusts, is not marked trusted")
	}
	if got := strings.Join(p.Queries[0].Candidates[0].Disclose, ","); got != "fullName,dateOfBirth,dedupSeed" {
		t.Fatalf("discloses %s", got)
	}
	if p.Queries[0].Claims[0].Label != "Your full name" {
		t.Fatalf("claim label %+v", p.Queries[0].Claims)
	}
	before := e.walletState(h)
	share := func(id string, creds map[string]string) (*http.Response, shareAnswer) {
		b, _ := json.Marshal(map[string]any{"request_id": id, "credentials": creds})
		res := e.do(http.MethodPost, "/api/v1/wallet/presentations", "application/json", string(b), e.asHolder(h))
		var a shareAnswer
		if res.StatusCode == http.StatusOK {
			jsonBody(t, res, &a)
		}
		return res, a
	}
	// A credential that does not answer, and a query not asked: refused,
	// nothing sent.
	if res, _ := share(p.RequestID, map[string]string{"registration": "AAAAAAAAAAAAAAAA"}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a wrong credential: %d", res.StatusCode)
	}
	if e.walletState(h) != before {
		t.Fatal("a refused share changed the wallet")
	}
	if st, _ := e.vpTxState(t, offer.id); st != oid4vp.StatusFetched {
		t.Fatalf("the verifier got an answer from a refused share: %s", st)
	}
	res, a := share(p.RequestID, map[string]string{"registration": credID})
	if res.StatusCode != http.StatusOK || a.Outcome != "accepted" || a.Share == nil {
		t.Fatalf("share: %d %+v", res.StatusCode, a)
	}
	st, out := e.vpTxState(t, offer.id)
	if st != oid4vp.StatusDone || out == nil || !out.Valid || out.Dedup == nil || !out.Dedup.New {
		t.Fatalf("the verifier's outcome: %s %+v", st, out)
	}
	names := []string{}
	for _, c := range out.Claims {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "fullName,dateOfBirth" {
		t.Fatalf("the verifier shows %v", names)
	}
	// The share log: who, why, which credential and claim names; no value.
	sh := a.Share
	if sh.Verifier != oid4vp.ClientID(org.DID) || sh.VerifierName != org.Name || sh.Mode != "oid4vp" || sh.Outcome != "accepted" ||
		strings.Join(sh.Credentials, ",") != credID || strings.Join(sh.Claims, ",") != "fullName,dateOfBirth,dedupSeed" {
		t.Fatalf("share log %+v", sh)
	}
	w, _ := e.holders.Wallet(e.asHolder(h).wallet)
	log, err := w.Shares(ctx)
	if err != nil || len(log) != 1 {
		t.Fatalf("share log %v %v", log, err)
	}
	if b, _ := json.Marshal(log); strings.Contains(string(b), "Fatima") || strings.Contains(string(b), "1991") {
		t.Fatalf("the share log holds claim values: %s", b)
	}
	// The request is answered once.
	if res, _ := share(p.RequestID, map[string]string{"registration": credID}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a second share of the same request: %d", res.StatusCode)
	}

	// Replays: a presentation for the first request (its nonce and
	// client_id), signed by the holder's key, as the wallet sent it.
	key, _ := w.Key(ctx)
	var raw string
	cs, _ := w.Credentials(ctx)
	for _, c := range cs {
		if c.ID == credID {
			raw = c.Raw
		}
	}
	present := func(aud, nonce string) string {
		pres, err := credentials.PresentSDJWT(raw, []string{"fullName", "dateOfBirth", "dedupSeed"}, key.Signer, aud, nonce, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string][]string{"registration": {pres}})
		return string(b)
	}
	post := func(responseURI, token, state string) int {
		res, err := http.PostForm(responseURI, url.Values{"vp_token": {token}, "state": {state}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	replay := present(ro["client_id"].(string), ro["nonce"].(string))
	if code := post(ro["response_uri"].(string), replay, ro["state"].(string)); code != http.StatusBadRequest {
		t.Fatalf("replay to the same request: %d", code)
	}
	second := e.askWallet(t, "registration")
	_, ro2 := e.requestObject(t, second.uri)
	if code := post(ro2["response_uri"].(string), replay, ro2["state"].(string)); code != http.StatusBadRequest {
		t.Fatalf("replay to another request: %d", code)
	}
	if st, out := e.vpTxState(t, second.id); out == nil || out.Valid {
		t.Fatalf("the replay was accepted: %s %+v", st, out)
	}
	// A presentation made for another verifier (other's client_id) with
	// this request's nonce.
	third := e.askWallet(t, "registration")
	_, ro3 := e.requestObject(t, third.uri)
	otherOrg, _ := e.svc.Organisation(ctx, "other")
	if code := post(ro3["response_uri"].(string), present(oid4vp.ClientID(otherOrg.DID), ro3["nonce"].(string)), ro3["state"].(string)); code != http.StatusBadRequest {
		t.Fatalf("a presentation for another verifier: %d", code)
	}
	if _, out := e.vpTxState(t, third.id); out == nil || out.Valid {
		t.Fatalf("a presentation for another verifier was accepted: %+v", out)
	}
}

// TestWalletPresentDecline: the holder declines; the verifier learns
// access_denied, and nothing is logged as shared.
func TestWalletPresentDecline(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	e.giveSDJWT(h)
	offer := e.askWallet(t, "registration")
	res, p := e.preview(e.asHolder(h), offer.uri)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d", res.StatusCode)
	}
	before := e.walletState(h)
	b, _ := json.Marshal(map[string]any{"request_id": p.RequestID, "decline": true})
	res = e.do(http.MethodPost, "/api/v1/wallet/presentations", "application/json", string(b), e.asHolder(h))
	var a shareAnswer
	jsonBody(t, res, &a)
	if res.StatusCode != http.StatusOK || a.Outcome != "declined" || a.Share != nil {
		t.Fatalf("decline: %d %+v", res.StatusCode, a)
	}
	if _, out := e.vpTxState(t, offer.id); out == nil || out.WalletError != "access_denied" {
		t.Fatalf("the verifier's outcome: %+v", out)
	}
	if e.walletState(h) != before {
		t.Fatal("a decline changed the wallet")
	}
}

// signedRequest is a Request Object by value, signed by org's verifier
// key, with change applied to a good payload.
func (e *env) signedRequest(t *testing.T, org string, change func(*oid4vp.RequestObject)) (clientID, token string) {
	t.Helper()
	ctx := context.Background()
	o, err := e.svc.Organisation(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.svc.VerifierKey(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clientID = oid4vp.ClientID(o.DID)
	ro := oid4vp.RequestObject{Issuer: clientID, Audience: oid4vp.StaticAudience, IssuedAt: now.Unix(), Expires: now.Add(5 * time.Minute).Unix(),
		ClientID: clientID, ResponseType: "vp_token", ResponseMode: "direct_post", ResponseURI: e.ts.URL + "/verify/oid4vp/responses/none",
		Nonce: fmt.Sprintf("nonce-%d", now.UnixNano()), State: "state", DCQLQuery: oid4vp.Presets()[1].Query(), Purpose: "A test."}
	if change != nil {
		change(&ro)
	}
	token, err = oid4vp.SignRequestObject(ro, key)
	if err != nil {
		t.Fatal(err)
	}
	return clientID, token
}

func byValue(clientID, token string) string {
	return "openid4vp://?" + url.Values{"client_id": {clientID}, "request": {token}}.Encode()
}

// TestWalletPresentRefusals: requests the wallet must not answer are
// refused at the preview with a plain reason naming the request; nothing
// is shared, nothing logged.
func TestWalletPresentRefusals(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	e.giveSDJWT(h)
	demoID, good := e.signedRequest(t, "demo", nil)
	otherID, otherTok := e.signedRequest(t, "other", nil)
	tampered := []byte(good)
	i := strings.LastIndexByte(good, '.') + 5
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	_, expired := e.signedRequest(t, "demo", func(r *oid4vp.RequestObject) { r.Expires = time.Now().Add(-time.Minute).Unix() })
	_, private := e.signedRequest(t, "demo", func(r *oid4vp.RequestObject) { r.ResponseURI = "https://10.20.30.40/verify/oid4vp/responses/x" })
	_, other := e.signedRequest(t, "other", func(r *oid4vp.RequestObject) { r.ClientID = demoID })
	cases := []struct{ name, request, code string }{
		{"tampered signature", byValue(demoID, string(tampered)), oid4vp.ProblemSignature},
		{"kid of another DID", byValue(demoID, other), oid4vp.ProblemSignature},
		{"client_id mismatch", byValue(demoID, otherTok), oid4vp.ProblemSignature},
		{"client_id of the link", byValue(otherID, good), oid4vp.ProblemSignature},
		{"unsupported prefix", "openid4vp://?" + url.Values{"client_id": {"x509_san_dns:verifier.example"}, "request_uri": {"https://verifier.example/r"}}.Encode(), oid4vp.ProblemUnsupported},
		{"expired", byValue(demoID, expired), oid4vp.ProblemExpired},
		{"private response_uri", byValue(demoID, private), oid4vp.ProblemRequest},
		{"not a request", "https://example.org/", oid4vp.ProblemLink},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.walletState(h)
			res, _ := e.preview(e.asHolder(h), tc.request)
			code, fields := apiErr(t, res)
			if res.StatusCode != http.StatusBadRequest || code != "invalid" || len(fields) != 1 || fields[0] != "request" {
				t.Fatalf("%d %s %v", res.StatusCode, code, fields)
			}
			if e.walletState(h) != before {
				t.Fatal("a refused request changed the wallet")
			}
		})
	}
	// The good one passes: the refusals are the checks'.
	if res, p := e.preview(e.asHolder(h), byValue(demoID, good)); res.StatusCode != http.StatusOK || !p.CanShare {
		t.Fatalf("good: %d %+v", res.StatusCode, p)
	}
}

// presentPreviewBody is a good preview body: a request of demo's by
// value.
func presentPreviewBody(e *env, _ walletHolder) string {
	id, tok := e.signedRequest(e.t, "demo", nil)
	b, _ := json.Marshal(map[string]string{"request": byValue(id, tok)})
	return string(b)
}

// presentDeclineBody previews a request for a and declines it.
func presentDeclineBody(e *env, a walletHolder) string {
	res, p := e.preview(e.asHolder(a), gjson(presentPreviewBody(e, a), "request"))
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("preview: %d", res.StatusCode)
	}
	b, _ := json.Marshal(map[string]any{"request_id": p.RequestID, "decline": true})
	return string(b)
}

func gjson(body, key string) string {
	var m map[string]string
	_ = json.Unmarshal([]byte(body), &m)
	return m[key]
}

// offlineBody asks for the QR code of a's SD-JWT credential, with
// refresh (the walk's good call changes nothing; the log is tested
// apart).
func offlineBody(e *env, a walletHolder) string {
	w, err := e.holders.Wallet(e.asHolder(a).wallet)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, _ := w.Credentials(context.Background())
	for _, c := range cs {
		if c.Format == "dc+sd-jwt" {
			b, _ := json.Marshal(map[string]any{"credential": c.ID, "claims": []string{"fullName"}, "refresh": true})
			return string(b)
		}
	}
	e.t.Fatal("the holder has no SD-JWT credential")
	return ""
}

// TestWalletOfflineQR: the holder shows a QR code of a presentation with
// the claims she chose; it decodes from its image; tally's desk accepts
// it once, shows only what it discloses, and refuses it the second time
// and once its window has passed.
func TestWalletOfflineQR(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.newHolder()
	credID := e.giveSDJWT(h)
	b, _ := json.Marshal(map[string]any{"credential": credID, "claims": []string{"fullName", "dedupSeed"}})
	res := e.do(http.MethodPost, "/api/v1/wallet/presentations/offline", "application/json", string(b), e.asHolder(h))
	var qr struct {
		QR, Image, Format string
		Claims            []string
		RefreshAfter      int `json:"refresh_after"`
	}
	jsonBody(t, res, &qr)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, readBody(t, e.do(http.MethodPost, "/api/v1/wallet/presentations/offline", "application/json", string(b), e.asHolder(h))))
	}
	if qr.Format != "dc+sd-jwt" || qr.RefreshAfter != 60 || strings.Count(qr.QR, "~") != 3 {
		t.Fatalf("%d %+v", res.StatusCode, qr)
	}
	// The image decodes to the presentation.
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(qr.Image, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	read, err := dec.Decode(ctx, png)
	if err != nil || read.Text != qr.QR {
		t.Fatalf("the QR image reads %v: %v (%d characters)", read, err, len(qr.QR))
	}
	t.Logf("offline QR: %d characters", len(qr.QR))
	w, _ := e.holders.Wallet(e.asHolder(h).wallet)
	if log, _ := w.Shares(ctx); len(log) != 1 || log[0].Mode != "qr" || strings.Join(log[0].Claims, ",") != "fullName,dedupSeed" {
		t.Fatalf("share log %+v", log)
	}
	check := func(text string) servicepoint.Answer {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"credential": text, "servicePoint": "Gate A", "programme": "MPCA-2026"})
		res := e.do("POST", "/api/v1/orgs/demo/verify", "application/json", string(body), e.asToken("demo", issuer.RoleVerifier))
		raw := readBody(t, res)
		var a servicepoint.Answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %v: %s", res.StatusCode, err, raw)
		}
		if strings.Contains(raw, "1991") {
			t.Fatalf("the desk shows a claim that was not disclosed: %s", raw)
		}
		return a
	}
	a := check(read.Text)
	if a.Verdict == servicepoint.Invalid || a.Person == nil || a.Person.FullName != "Fatima Hassan Abdi" || a.Person.BirthYear != 0 || a.Dedup == nil {
		t.Fatalf("first scan: %+v", a)
	}
	if a := check(read.Text); a.Verdict != servicepoint.Invalid || a.ReasonCode != "BAD_PRESENTATION" || !strings.Contains(a.Detail, "already used") {
		t.Fatalf("second scan: %+v", a)
	}
	// A code made four minutes ago: past the window.
	key, _ := w.Key(ctx)
	c, _ := w.Credential(ctx, credID)
	old, err := credentials.PresentSDJWT(c.Raw, []string{"fullName"}, key.Signer, servicepoint.OfflineAudience, "an-old-nonce-of-22-chars", time.Now().Add(-4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if a := check(old); a.Verdict != servicepoint.Invalid || !strings.Contains(a.Detail, "too old") {
		t.Fatalf("old code: %+v", a)
	}
	// Claims the credential does not have, and a QR card: as it is.
	b, _ = json.Marshal(map[string]any{"credential": credID, "claims": []string{"passport"}})
	if res := e.do(http.MethodPost, "/api/v1/wallet/presentations/offline", "application/json", string(b), e.asHolder(h)); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown claim: %d", res.StatusCode)
	}
}

// presentFormBody is the web wallet's form with a request of demo's.
func presentFormBody(e *env, a walletHolder) string {
	return "request=" + url.QueryEscape(gjson(presentPreviewBody(e, a), "request"))
}

// presentParam gives :rid a request waiting for a's answer, and :id an
// SD-JWT credential of a's.
func presentParam(e *env, a walletHolder, name string) string {
	switch name {
	case "rid":
		res, p := e.preview(e.asHolder(a), gjson(presentPreviewBody(e, a), "request"))
		if res.StatusCode != http.StatusOK {
			e.t.Fatalf("preview: %d", res.StatusCode)
		}
		return p.RequestID
	case "id":
		return e.giveSDJWT(a)
	}
	e.t.Fatalf("no value for :%s", name)
	return ""
}

// TestWalletPresentPages: the web wallet, without JavaScript: the
// verifier's link opens the consent page (who, why, what, in the
// holder's language, right to left in Arabic); Share sends; the offline
// QR page shows a code that renews itself every minute.
func TestWalletPresentPages(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	credID := e.giveSDJWT(h)
	offer := e.askWallet(t, "registration")
	as := e.asHolder(h)
	res := e.do(http.MethodGet, "/wallet/present?lang=ar&request="+url.QueryEscape(offer.uri), "", "", as)
	page := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "Organisation demo") ||
		!strings.Contains(page, "Check at the food distribution.") || !strings.Contains(page, "اسمك الكامل") || !strings.Contains(page, "منظمة معروفة") {
		t.Fatalf("consent page: %d %s", res.StatusCode, page)
	}
	if strings.Contains(page, "Fatima") || strings.Contains(page, "1991") {
		t.Fatal("the consent page shows claim values")
	}
	rid := regexpFind(t, page, `action="/wallet/present/([A-Za-z0-9_-]+)"`)
	res = e.do(http.MethodPost, "/wallet/present/"+rid+"?lang=ar", formType, "action=share&cred_registration="+credID, as)
	if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, "تمت المشاركة") {
		t.Fatalf("done page: %d %s", res.StatusCode, page)
	}
	if _, out := e.vpTxState(t, offer.id); out == nil || !out.Valid {
		t.Fatalf("the verifier's outcome: %+v", out)
	}
	// A photo of the verifier's QR code, uploaded.
	second := e.askWallet(t, "registration-dedup")
	png, err := credentials.CardPNG(second.uri, 384)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("photo", "qr.png")
	fw.Write(png)
	mw.Close()
	// (A language chosen on a page is kept: she chooses English again.)
	res = e.do(http.MethodPost, "/wallet/present?lang=en", mw.FormDataContentType(), body.String(), as)
	if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, "A code that shows you are not registered twice") {
		t.Fatalf("photo: %d %s", res.StatusCode, page)
	}

	// The offline QR page.
	res = e.do(http.MethodGet, "/wallet/present/offline/"+credID, "", "", as)
	if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `name="claims" value="fullName"`) || strings.Contains(page, "<img") {
		t.Fatalf("chooser: %d %s", res.StatusCode, page)
	}
	res = e.do(http.MethodPost, "/wallet/present/offline/"+credID, formType, "claims=fullName&claims=dateOfBirth", as)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/wallet/present/offline/"+credID+"?") {
		t.Fatalf("show: %d %q", res.StatusCode, loc)
	}
	res = e.do(http.MethodGet, loc, "", "", as)
	page = readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("QR page: %d %s", res.StatusCode, page)
	}
}

func regexpFind(t *testing.T, s, expr string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not in %.2000s", expr, s)
	}
	return m[1]
}

// presentFramePNG is a camera frame: the QR code of a verifier's link.
func presentFramePNG(e *env, _ walletHolder) string {
	png, err := credentials.CardPNG("openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Atally.example&request_uri=https%3A%2F%2Ftally.example%2Fr", 384)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(png)
}

// TestWalletPresentOnce: the request_uri fetched with POST (wallet_nonce
// echoed), and two Share presses at once: one answer reaches the
// verifier, the other is refused; one share is logged.
func TestWalletPresentOnce(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	credID := e.giveSDJWT(h)
	offer := e.askWallet(t, "registration")
	res, p := e.preview(e.asHolder(h), offer.uri+"&request_uri_method=post")
	if res.StatusCode != http.StatusOK || !p.CanShare {
		t.Fatalf("preview with POST: %d %+v", res.StatusCode, p)
	}
	b, _ := json.Marshal(map[string]any{"request_id": p.RequestID, "credentials": map[string]string{"registration": credID}})
	as := []who{e.asHolder(h), e.asHolder(h), e.asHolder(h)}
	codes := make(chan int, len(as))
	var wg sync.WaitGroup
	for _, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v1/wallet/presentations", strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a.wallet)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d shares of one request went through", ok)
	}
	w, _ := e.holders.Wallet(e.asHolder(h).wallet)
	if log, _ := w.Shares(context.Background()); len(log) != 1 {
		t.Fatalf("%d shares logged", len(log))
	}
	if _, out := e.vpTxState(t, offer.id); out == nil || !out.Valid {
		t.Fatalf("the verifier's outcome: %+v", out)
	}
}

// TestOfflineQROnceAtManyDesks: the same offline code read at two desks
// at once is accepted by one.
func TestOfflineQROnceAtManyDesks(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	credID := e.giveSDJWT(h)
	b, _ := json.Marshal(map[string]any{"credential": credID, "claims": []string{"fullName"}})
	var qr struct{ QR string }
	jsonBody(t, e.do(http.MethodPost, "/api/v1/wallet/presentations/offline", "application/json", string(b), e.asHolder(h)), &qr)
	body, _ := json.Marshal(map[string]string{"credential": qr.QR, "servicePoint": "Gate A", "programme": "MPCA-2026"})
	verdicts := make(chan string, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v1/orgs/demo/verify", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.token["demo/"+string(issuer.RoleVerifier)])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var a servicepoint.Answer
			json.NewDecoder(res.Body).Decode(&a)
			verdicts <- a.Verdict
		}()
	}
	wg.Wait()
	close(verdicts)
	valid := 0
	for v := range verdicts {
		if v != servicepoint.Invalid {
			valid++
		}
	}
	if valid != 1 {
		t.Fatalf("%d desks accepted the same code", valid)
	}
}
