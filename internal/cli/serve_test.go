package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// lockedBuffer is an output written by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMain starts the real server on 127.0.0.1:0 in dir, with cheap
// password hashes and key seals.
func startMain(t *testing.T, dir string) (*Main, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr,
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	return m, stdout, stderr
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that each step can be checked.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(method, path, contentType, body string, header ...string) (int, http.Header, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(data)
}

func (b *browser) postForm(path string, kv ...string) (int, http.Header, string) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	// A browser posting a form of the same origin says so.
	return b.send("POST", path, "application/x-www-form-urlencoded", v.Encode(), "Origin", b.base, "Sec-Fetch-Site", "same-origin")
}

var (
	firstPassword = regexp.MustCompile(`one-time password[^\n]*:\n\n    (\S+)\n`)
	pagePassword  = regexp.MustCompile(`class="secret">([^<]+)<`)
)

// TestServeEndToEnd starts tally serve's Main in a temporary data
// directory and walks through a first day: the administrator signs in
// with the printed password, adds a registrar, who signs in and is kept
// out of the administrator's pages; an API token made by tally token new
// lists and adds staff; a cross-origin post is refused; nothing personal
// or secret reaches the logs.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	m, stdout, stderr := startMain(t, dir)
	secrets := []string{}

	match := firstPassword.FindStringSubmatch(stdout.String())
	if match == nil {
		t.Fatalf("no one-time password printed:\n%s", stdout)
	}
	adminPassword := match[1]
	secrets = append(secrets, adminPassword)
	if info, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v %v", info, err)
	}

	admin := newBrowser(t, m.URL())
	code, h, _ := admin.send("GET", "/", "", "")
	if code != 303 || h.Get("Location") != "/issuer/" {
		t.Fatalf("GET /: %d %s", code, h.Get("Location"))
	}
	code, h, _ = admin.send("GET", "/issuer/", "", "")
	if code != 303 || h.Get("Location") != "/signin?next=%2Fissuer%2F" {
		t.Fatalf("GET /issuer/ signed out: %d %s", code, h.Get("Location"))
	}
	if next := admin.signInFirst("admin", adminPassword); next != "/issuer/" {
		t.Fatalf("sign in: to %s", next)
	}
	secrets = append(secrets, chosenPassword("admin"))
	code, _, page := admin.send("GET", "/issuer/", "", "")
	if code != 200 || !strings.Contains(page, "Signed in as Administrator (administrator) at Demo organisation.") {
		t.Fatalf("home: %d %s", code, page)
	}

	code, _, page = admin.postForm("/admin/staff", "name", "Rania Registrar", "username", "rania", "role", "registrar")
	match = pagePassword.FindStringSubmatch(page)
	if code != 201 || match == nil {
		t.Fatalf("add a registrar: %d %s", code, page)
	}
	registrarPassword := match[1]
	secrets = append(secrets, registrarPassword, "Rania Registrar")

	code, _, _ = admin.send("POST", "/admin/staff", "application/x-www-form-urlencoded", "name=Eve&username=eve&role=admin", "Origin", "https://evil.example")
	if code != 403 {
		t.Fatalf("cross-origin post: %d", code)
	}

	registrar := newBrowser(t, m.URL())
	registrar.signInFirst("rania", registrarPassword)
	if code, _, page := registrar.send("GET", "/issuer/", "", ""); code != 200 || !strings.Contains(page, "Rania Registrar (registrar)") {
		t.Fatalf("registrar's home: %d", code)
	}
	if code, _, _ := registrar.send("GET", "/admin/staff", "", ""); code != 403 {
		t.Fatalf("registrar on the staff page: %d", code)
	}
	if code, _, _ := newBrowser(t, m.URL()).postForm("/signin", "username", "rania", "password", "not-her-password"); code != 401 {
		t.Fatalf("a wrong password: %d", code)
	}
	if code, _, _ := admin.postForm("/signout"); code != 303 {
		t.Fatalf("sign out: %d", code)
	}
	if code, _, _ := admin.send("GET", "/admin/staff", "", ""); code != 303 {
		t.Fatalf("staff page after signing out: %d", code)
	}

	// tally token new cannot open the database under a running server.
	env := testEnv()
	code2, _, errOut := runIn2(t, env, "token", "new", "--role", "admin", "--data", dir)
	if code2 != ExitInvalid || !strings.Contains(errOut, "tally serve") {
		t.Fatalf("token new while serving: exit %d, %s", code2, errOut)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	code2, out, errOut := runIn2(t, env, "token", "new", "--role", "admin", "--data", dir, "--label", "integration")
	if code2 != ExitOK || !strings.HasPrefix(out, issuer.TokenPrefix) {
		t.Fatalf("token new: exit %d, %q %s", code2, out, errOut)
	}
	token := strings.TrimSpace(out)
	secrets = append(secrets, token)

	// The second start makes nothing and prints no password.
	m, stdout2, stderr2 := startMain(t, dir)
	defer m.Close()
	if strings.Contains(stdout2.String(), "password") {
		t.Fatalf("second start: %s", stdout2)
	}
	api := newBrowser(t, m.URL())
	bearer := []string{"Authorization", "Bearer " + token}
	code, _, body := api.send("GET", "/api/v1/whoami", "", "", bearer...)
	if code != 200 || !strings.Contains(body, `"org":"demo"`) || !strings.Contains(body, `"name":"integration"`) {
		t.Fatalf("whoami: %d %s", code, body)
	}
	code, _, body = api.send("POST", "/api/v1/orgs/demo/staff", "application/json", `{"name":"Sami Supervisor","username":"sami","role":"supervisor"}`, bearer...)
	if code != 201 || !strings.Contains(body, `"password":"`) {
		t.Fatalf("add staff by API: %d %s", code, body)
	}
	secrets = append(secrets, "Sami Supervisor")
	code, _, body = api.send("GET", "/api/v1/orgs/demo/staff", "", "", bearer...)
	var list struct{ Staff []issuer.Staff }
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Staff) != 3 || strings.Contains(body, "argon2") {
		t.Fatalf("list staff: %d %s", code, body)
	}
	if code, _, _ := api.send("GET", "/api/v1/orgs/demo/staff", "", ""); code != 401 {
		t.Fatalf("without the token: %d", code)
	}

	// The audit log holds who did what, by id, and verifies.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runIn2(t, testEnv(), "audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
	code2, export, errOut := runIn2(t, testEnv(), "audit", "export", "--data", dir)
	if code2 != 0 {
		t.Fatalf("audit export: exit %d %s", code2, errOut)
	}
	for _, want := range []string{`"organisation-create"`, `"sign-in"`, `"denied"`, `"staff-create"`, `"sign-out"`, `"token-create"`} {
		if !strings.Contains(export, want) {
			t.Errorf("the audit log has no %s:\n%s", want, export)
		}
	}
	for _, s := range append(secrets, "rania", "sami", "Administrator") {
		if strings.Contains(export, s) {
			t.Errorf("the audit log holds %q", s)
		}
	}

	logs := stderr.String() + stderr2.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no request logs:\n%s", logs)
	}
	for _, s := range append(secrets, "rania", "sami") {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

// runIn2 runs the command line with fresh outputs.
func runIn2(t *testing.T, env Env, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env.Stdin, env.Stdout, env.Stderr = strings.NewReader(""), &out, &errOut
	code := Run(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func testEnv() Env {
	return Env{Getenv: func(string) string { return "" }, Now: time.Now, ScryptN: credentials.LowestScryptN}
}

// TestServeRefusesAWrongMasterKey: a start with another master key, or
// none, stops before serving.
func TestServeMasterKey(t *testing.T) {
	dir := t.TempDir()
	m, _, _ := startMain(t, dir)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master.key")
	tests := []struct {
		name  string
		setup func()
		want  string
	}{
		{"another master key", func() { os.WriteFile(keyFile, []byte("some other long passphrase\n"), 0o600) }, "does not open"},
		{"no master key", func() { os.Remove(keyFile) }, "is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			cfg := config.Default()
			cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
			m := &Main{Config: cfg, scryptN: credentials.LowestScryptN, passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}}
			err := m.Run(context.Background())
			m.Close()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestServeCommand runs tally serve itself until its context ends.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &lockedBuffer{}
	env := testEnv()
	env.Stdout, env.Stderr, env.Stdin = stdout, io.Discard, strings.NewReader("")
	done := make(chan int)
	go func() {
		done <- Run(ctx, env, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--org", "ngo-a", "--org-name", "NGO A"})
	}()
	serving := regexp.MustCompile(`serving (http://\S+)/ `)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := serving.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("tally serve did not start:\n%s", stdout)
	}
	res, err := http.Get(base + "/orgs/ngo-a/did.json")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("DID document: %d", res.StatusCode)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("made organisation %q", "ngo-a")) {
		t.Fatal(stdout.String())
	}
}

// TestServeUsage: bad configuration is a usage error naming each value.
func TestServeUsage(t *testing.T) {
	code, _, errOut := runIn2(t, testEnv(), "serve", "--addr", "nowhere", "--session-idle", "1s")
	if code != ExitUsage || !strings.Contains(errOut, "addr (--addr, TALLY_ADDR)") || !strings.Contains(errOut, "sessionIdle") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runIn2(t, testEnv(), "token", "new", "--data", t.TempDir())
	if code != ExitUsage || !strings.Contains(errOut, "--role is required") {
		t.Fatalf("token new without a role: exit %d: %s", code, errOut)
	}
	code, _, errOut = runIn2(t, testEnv(), "token", "new", "--role", "root", "--data", t.TempDir())
	if code != ExitInvalid || !strings.Contains(errOut, "no organisation yet") {
		t.Fatalf("token new on an empty directory: exit %d: %s", code, errOut)
	}
}

// TestServeRegistration starts tally serve and registers Fatima, the
// sample, with her consent, over real HTTP, as a registrar of the demo
// organisation's seeded programme. A second person, Faadumo Xasan Cabdi,
// born the same day, is shown as likely Fatima, and the visit is linked
// to her registration. The audit log records both by ids; neither it, nor
// the logs, nor the database file hold her name.
func TestServeRegistration(t *testing.T) {
	dir := t.TempDir()
	m, stdout, stderr := startMain(t, dir)
	defer m.Close()
	if !strings.Contains(stdout.String(), "with programme MPCA-2026") {
		t.Fatalf("no programme at first start:\n%s", stdout)
	}
	adminPassword := firstPassword.FindStringSubmatch(stdout.String())[1]
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", adminPassword)
	code, _, page := admin.send("GET", "/admin/programmes/MPCA-2026", "", "")
	if code != 200 || !strings.Contains(page, `value="en, so, ar"`) || !strings.Contains(page, `value="24"`) {
		t.Fatalf("the seeded programme: %d %s", code, page)
	}
	code, _, page = admin.postForm("/admin/staff", "name", "Rania Registrar", "username", "rania", "role", "registrar")
	if code != 201 {
		t.Fatalf("add a registrar: %d", code)
	}
	registrar := newBrowser(t, m.URL())
	registrar.signInFirst("rania", pagePassword.FindStringSubmatch(page)[1])

	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		CredentialSubject credentials.Registration `json:"credentialSubject"`
	}
	if err := json.Unmarshal(data, &sample); err != nil {
		t.Fatal(err)
	}
	f := sample.CredentialSubject
	consent := []string{"programme", f.Programme, "consent.given", "yes", "consent.method", "verbal", "consent.language", "so"}
	register := func(kv ...string) (int, http.Header, string) {
		return registrar.postForm("/issuer/register", append(consent, kv...)...)
	}
	if code, _, page := registrar.send("GET", "/issuer/register", "", ""); code != 200 || !strings.Contains(page, "check that no one is registered twice") {
		t.Fatalf("the register form: %d", code)
	}
	// Without consent, nothing.
	if code, _, page := registrar.postForm("/issuer/register", "programme", f.Programme, "fullName", f.FullName); code != 400 || !strings.Contains(page, "No consent, no registration") {
		t.Fatalf("without consent: %d", code)
	}
	code, h, _ := register("registrationId", f.RegistrationID, "fullName", f.FullName, "firstName", f.FirstName, "lastName", f.LastName,
		"dateOfBirth", f.DateOfBirth, "gender", f.Gender, "nationality", f.Nationality, "legalStatus", f.LegalStatus,
		"locationCode", f.LocationCode, "language", f.Language)
	fatimaPage := h.Get("Location")
	if code != 303 || !strings.HasPrefix(fatimaPage, "/issuer/registrations/") {
		t.Fatalf("register Fatima: %d %s", code, fatimaPage)
	}
	if code, _, page := registrar.send("GET", fatimaPage, "", ""); code != 200 || !strings.Contains(page, "Fatima Hassan Abdi") || !strings.Contains(page, "Rania Registrar") {
		t.Fatalf("Fatima's registration: %d %s", code, page)
	}

	code, _, page = register("fullName", "Faadumo Xasan Cabdi", "dateOfBirth", f.DateOfBirth, "gender", "female")
	link := regexp.MustCompile(`action="(/issuer/registrations/[a-z2-7]+/link)"`).FindStringSubmatch(page)
	if code != 200 || link == nil || !strings.Contains(page, "This person may be registered already") || !strings.Contains(page, f.RegistrationID) {
		t.Fatalf("Faadumo is not shown as likely Fatima: %d %s", code, page)
	}
	if id := strings.TrimSuffix(strings.TrimPrefix(link[1], "/issuer/registrations/"), "/link"); !strings.HasSuffix(fatimaPage, "/"+id+"?done=registered") {
		t.Fatalf("the likely duplicate is %s, not Fatima (%s)", id, fatimaPage)
	}
	code, h, _ = registrar.postForm(link[1], consent...)
	if code != 303 || !strings.HasSuffix(h.Get("Location"), "?done=linked") {
		t.Fatalf("link: %d %s", code, h.Get("Location"))
	}
	if _, _, page := registrar.send("GET", h.Get("Location"), "", ""); !strings.Contains(page, "Later visits") {
		t.Fatalf("no visit on Fatima's registration: %s", page)
	}
	if code, _, page := registrar.postForm("/issuer/search", "q", "Faadumo Xasan Cabdi"); code != 200 || !strings.Contains(page, "1 found") {
		t.Fatalf("search: %d %s", code, page)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	personal := []string{"Fatima", "Faadumo", "Hassan", "Xasan", "Abdi", f.DateOfBirth, f.RegistrationID, f.LegalStatus, f.LocationCode}
	raw, err := os.ReadFile(filepath.Join(dir, "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	code2, export, errOut := runIn2(t, testEnv(), "audit", "export", "--data", dir)
	if code2 != 0 {
		t.Fatalf("audit export: %s", errOut)
	}
	for _, want := range []string{`"register"`, `"link"`, `"programme-change"`, `"programme:MPCA-2026"`, `"consent"`} {
		if !strings.Contains(export, want) {
			t.Errorf("the audit log has no %s", want)
		}
	}
	for _, s := range personal {
		for where, text := range map[string]string{"database file": string(raw), "audit log": export, "logs": stderr.String()} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds %q", where, s)
			}
		}
	}
	if code, out, errOut := runIn2(t, testEnv(), "audit", "verify", "--data", dir); code != 0 {
		t.Fatalf("audit verify: %s%s", out, errOut)
	}
}
