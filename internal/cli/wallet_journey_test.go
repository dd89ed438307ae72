package cli

// The wallet's journey (issue 8) through tally serve on port 0, with the
// requests people's browsers make: registration staff offer Fatima her
// registration credential, her web wallet receives it, a verifying agency
// asks for her name, date of birth and dedup seed, she shares exactly
// those, and the verifier accepts and counts her in its dedup domain. The
// presentation her wallet sent, replayed, is refused.

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// recorder keeps the form bodies the wallet posts (OpenID4VP responses),
// on their way to the real server.
type recorder struct {
	mu    sync.Mutex
	posts map[string][]byte // URL → body
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.posts[req.URL.String()] = body
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

var (
	offerLink   = regexp.MustCompile(`href="(openid-credential-offer://[^"]+)"`)
	offerTxCode = regexp.MustCompile(`class="code"><bdi dir="ltr">([^<]+)<`)
	vpLink      = regexp.MustCompile(`href="(openid4vp://[^"]+)"`)
	consentForm = regexp.MustCompile(`action="/wallet/present/([^"]+)"`)
	consentCred = regexp.MustCompile(`name="(cred_[^"]+)" value="([^"]+)"`)
)

func TestWalletJourney(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	rec := &recorder{posts: map[string][]byte{}}
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr, fetchTransport: rec,
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.Contains(stdout.String(), m.URL()+"/wallet/") {
		t.Fatalf("tally serve does not say where the web wallet is:\n%s", stdout)
	}

	staff := walletStaff(t, m, stdout)
	offer, txCode := offerFatima(t, staff["registrar"])

	// Her web wallet: opened with a PIN on her phone; the offer pasted
	// (as the camera would read it), the issuer named, the code typed.
	phone := newBrowser(t, m.URL())
	if code, _, page := phone.postForm("/wallet/open", "pin", "480915", "pin_again", "480915"); code != 200 || !strings.Contains(page, "Recovery code") {
		t.Fatalf("open a wallet: %d", code)
	}
	code, page := phone.postMultipart("/wallet/receive", []string{"offer", offer}, nil)
	if code != 200 {
		t.Fatalf("read the offer: %d %.600s", code, page)
	}
	wantWords(t, "the offer's confirmation", page, "Demo")
	code, _, page = phone.postForm("/wallet/receive/accept", "offer", offer, "tx_code", txCode)
	if code != 303 && code != 200 {
		t.Fatalf("accept the offer: %d %.800s", code, page)
	}
	home := phone.get("/wallet/")
	wantWords(t, "the wallet's home", home, "Registration")

	// The verifier asks her phone for her name, date of birth and dedup
	// seed, for a stated purpose.
	txPath, request := askPhone(t, staff["verifier"], "Health care at the Ifo clinic")
	tx := strings.TrimPrefix(txPath, "/verify/oid4vp/")

	// Her wallet shows who asks, for what, and which claims; she shares.
	code, page = phone.postMultipart("/wallet/present", []string{"request", request}, nil)
	if code != 200 {
		t.Fatalf("read the request: %d %.800s", code, page)
	}
	wantWords(t, "the consent page", page, "Health care at the Ifo clinic", "Demo")
	rid := consentForm.FindStringSubmatch(page)[1]
	v := url.Values{"action": {"share"}}
	for _, m := range consentCred.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	code, _, page = phone.postValues("/wallet/present/"+rid, v)
	if code != 200 {
		t.Fatalf("share: %d %.800s", code, page)
	}

	// The verifier accepts: valid, only the claims asked, and her dedup
	// token counted as new.
	state := func(path string) map[string]any {
		var st map[string]any
		code, _, body := staff["verifier"].send("GET", path, "", "")
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("state %s: %d %s", path, code, body)
		}
		return st
	}
	st := state("/api/v1/orgs/demo/oid4vp/" + tx)
	out, _ := json.Marshal(st["outcome"])
	if st["status"] != "done" || !strings.Contains(string(out), `"valid":true`) || !strings.Contains(string(out), `"new":true`) ||
		!strings.Contains(string(out), "Fatima Hassan Abdi") || strings.Contains(string(out), "female") {
		t.Fatalf("the verifier's outcome: %s %s", st["status"], out)
	}
	page = staff["verifier"].get(txPath)
	wantWords(t, "the verifier's page", page, "Fatima Hassan Abdi")

	// Her share log says who, for what, which claims — never the values.
	shares := phone.get("/wallet/shares")
	wantWords(t, "the share log", shares, "Health care at the Ifo clinic")
	refusedWords(t, "the share log", shares, "Fatima Hassan Abdi", "1991-03-14")

	// What her wallet posted, replayed by whoever copied it: to the same
	// request, then to a fresh one. Both refused; the first counted once.
	var responseURI string
	var body []byte
	rec.mu.Lock()
	for u, b := range rec.posts {
		if strings.Contains(u, "/verify/oid4vp/responses/"+tx) {
			responseURI, body = u, b
		}
	}
	rec.mu.Unlock()
	if body == nil || !strings.Contains(string(body), "vp_token") {
		t.Fatalf("the wallet's response was not seen (%d posts)", len(rec.posts))
	}
	replay := func(u string) int {
		res, err := http.Post(u, "application/x-www-form-urlencoded", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := replay(responseURI); code < 400 {
		t.Fatalf("a replayed presentation to the same request: %d", code)
	}
	tx2Path, _ := askPhone(t, staff["verifier"], "Second visit")
	tx2 := strings.TrimPrefix(tx2Path, "/verify/oid4vp/")
	if code := replay(strings.Replace(responseURI, tx, tx2, 1)); code < 400 {
		t.Fatalf("a replayed presentation to another request: %d", code)
	}
	if st := state("/api/v1/orgs/demo/oid4vp/" + tx2); st["status"] == "done" {
		out, _ := json.Marshal(st["outcome"])
		if strings.Contains(string(out), `"valid":true`) {
			t.Fatalf("the replay was accepted: %s", out)
		}
	}
	if strings.Contains(stderr.String(), "Fatima") || strings.Contains(stderr.String(), "1991-03-14") {
		t.Fatal("the logs hold Fatima's data")
	}
}

// walletStaff adds, as the first administrator, a registrar, a verifier
// and a consortium administrator (signed in, by role), who makes a dedup
// domain for the organisation's verifications.
func walletStaff(t *testing.T, m *Main, stdout *lockedBuffer) map[string]*browser {
	t.Helper()
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	staff := map[string]*browser{}
	for _, role := range []string{"registrar", "verifier", "consortium-admin"} {
		code, _, page := admin.postForm("/admin/staff", "name", "Staff "+role, "username", role, "role", role)
		if code != 201 {
			t.Fatalf("add %s: %d", role, code)
		}
		staff[role] = newBrowser(t, m.URL())
		staff[role].signInFirst(role, pagePassword.FindStringSubmatch(page)[1])
	}
	if code, _ := staff["consortium-admin"].postMultipart("/admin/domains", []string{"id", "demo-cash", "name", "Cash desks", "kind", "own", "keySource", "new"}, nil); code != 201 && code != 200 {
		t.Fatalf("make the dedup domain: %d", code)
	}
	return staff
}

// offerFatima registers Fatima and offers her registration credential to
// a phone wallet: the offer's link (what its QR code holds) and the
// transaction code staff tell her.
func offerFatima(t *testing.T, registrar *browser) (offer, txCode string) {
	t.Helper()
	code, h, _ := registrar.postForm("/issuer/register", "programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal",
		"consent.language", "so", "fullName", "Fatima Hassan Abdi", "dateOfBirth", "1991-03-14", "gender", "female")
	if code != 303 {
		t.Fatalf("register: %d", code)
	}
	reg, _, _ := strings.Cut(h.Get("Location"), "?")
	code, _, page := registrar.postForm(reg+"/offers", "type", "RegistrationCredential")
	if code != 200 {
		t.Fatalf("offer: %d", code)
	}
	return html.UnescapeString(offerLink.FindStringSubmatch(page)[1]), offerTxCode.FindStringSubmatch(page)[1]
}

// askPhone makes a presentation request for name, date of birth and dedup
// seed: its page, and the openid4vp:// link its QR code holds.
func askPhone(t *testing.T, verifier *browser, purpose string) (txPath, request string) {
	t.Helper()
	code, h, _ := verifier.postForm("/verify/oid4vp", "preset", "registration", "purpose", purpose)
	if code != 303 {
		t.Fatalf("new presentation request: %d", code)
	}
	txPath = h.Get("Location")
	return txPath, html.UnescapeString(vpLink.FindStringSubmatch(verifier.get(txPath))[1])
}
