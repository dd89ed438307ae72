package cli

// --- desk (issue 7): the scanning and answer pages in headless Chromium.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/claim169test"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// claim169Vector is the idpass/claim-169 project's public Ed25519 test
// card and its issuer, trusted.
func claim169Vector(t *testing.T) (string, *verifier.TrustedIssuer) { return claim169test.Vector(t) }

// TestBrowserVerifyPages: a verifier checks cards on the scanning page in
// headless Chromium, without the camera: a photo of Fatima's card (new,
// then seen before, also in Arabic), a revoked card, and a pasted Claim
// 169 identity card of another issuer; the supervisor opens the settings.
// Every answer is screenshotted on a phone and a tablet into
// $TALLY_SCREENSHOTS (or a temporary directory).
func TestBrowserVerifyPages(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed: the scanning pages are not tested in a browser")
	}
	shots := screenshotDir(t)
	vector, foreign := claim169Vector(t)
	// The vector's card expires in January 2027: the server's clock is
	// set before.
	clock := &fakeClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr, Now: clock.Now, deskIssuers: []*verifier.TrustedIssuer{foreign},
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	defer m.Close()

	// Staff and Fatima's cards, made over plain HTTP.
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	passwords := map[string]string{}
	for _, role := range []string{"registrar", "supervisor", "verifier"} {
		_, _, page := admin.postForm("/admin/staff", "name", "Staff "+role, "username", role, "role", role)
		passwords[role] = pagePassword.FindStringSubmatch(page)[1]
	}
	registrar := newBrowser(t, m.URL())
	registrar.signInFirst("registrar", passwords["registrar"])
	code, h, _ := registrar.postForm("/issuer/register", "programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal",
		"consent.language", "so", "fullName", "Fatima Hassan Abdi", "dateOfBirth", "1991-03-14", "registrationId", "KE-DAD-2026-000123")
	if code != 303 {
		t.Fatalf("register: %d", code)
	}
	regPath, _, _ := strings.Cut(h.Get("Location"), "?")
	dir := t.TempDir()
	card := func(name string) (string, string) {
		code, h, _ := registrar.postForm(regPath+"/credentials", "type", "RegistrationCredential")
		if code != 303 {
			t.Fatalf("issue: %d", code)
		}
		credPath, _, _ := strings.Cut(h.Get("Location"), "?")
		code, _, png := registrar.send("GET", credPath+"/card.png", "", "")
		if code != 200 {
			t.Fatalf("card.png: %d", code)
		}
		file := filepath.Join(dir, name+".png")
		if err := os.WriteFile(file, []byte(png), 0o600); err != nil {
			t.Fatal(err)
		}
		return credPath, file
	}
	_, fatimaPNG := card("fatima")
	revokedPath, revokedPNG := card("revoked")
	supervisor := newBrowser(t, m.URL())
	supervisor.signInFirst("supervisor", passwords["supervisor"])
	if code, _, _ := supervisor.postForm(revokedPath + "/revoke"); code != 303 {
		t.Fatalf("revoke: %d", code)
	}

	b := openTab(t, chrome, m.URL(), shots, 3*time.Minute)

	b.signIn("verifier", passwords["verifier"])
	b.open("/verify/")
	b.shot("verify")
	check := func(servicePoint, photo, text string) {
		t.Helper()
		if servicePoint != "" {
			b.set("servicePoint", servicePoint)
		}
		if photo != "" {
			b.do(chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
		}
		if text != "" {
			b.set("credential", text)
		}
		b.submit(`form[action="/verify/check"] button[type=submit]`, 200)
	}
	check("Dadaab HSP 1", fatimaPNG, "")
	b.wantText(".verdict", "Valid")
	b.wantText(".dedup", "First time in this domain")
	b.wantText(".person", "Fatima Hassan Abdi")
	b.wantText(".birth", "1991")
	b.shot("answer-valid")
	// The next person: the button has the focus, and the service point is
	// remembered.
	if focused := run(b, chromedp.Evaluate[string](`document.activeElement.textContent`)); !strings.Contains(focused, "Scan the next person") {
		t.Fatalf("the focus is on %q", focused)
	}
	b.submit(`form.next button`, 200)
	if got := run(b, chromedp.Evaluate[string](`document.getElementById("servicePoint").value`)); got != "Dadaab HSP 1" {
		t.Fatalf("the service point is %q, not remembered", got)
	}
	check("Ifo clinic", fatimaPNG, "")
	b.wantText(".verdict", "already seen")
	b.wantText(".dedup", "Already seen once")
	b.shot("answer-duplicate")
	b.openLang("/verify/", "ar")
	check("", fatimaPNG, "")
	b.wantText(".dedup", "سبقت رؤيتها (عدد المرات: 2)")
	b.shot("answer-duplicate-ar")
	b.openLang("/verify/", "en")

	check("", revokedPNG, "")
	b.wantText(".verdict", "Not accepted")
	b.wantText(".answer-reason", "cancelled")
	b.shot("answer-revoked")
	b.openLang("/verify/", "ar")
	check("", revokedPNG, "")
	b.shot("answer-revoked-ar")
	b.openLang("/verify/", "en")

	check("", "", vector)
	b.wantText(".dedup", "no dedup seed")
	b.wantText("table.claims", "Signed Test Person")
	b.wantText("main", "MOSIP example")
	b.shot("answer-foreign")
	b.openLang("/verify/", "ar")
	check("", "", vector)
	b.shot("answer-foreign-ar")
	b.openLang("/verify/", "en")
	b.signOut()

	b.signIn("supervisor", chosenPassword("supervisor"))
	b.open("/verify/settings")
	b.wantText("main", "the first scan made it")
	b.shot("verify-settings")
	b.openLang("/verify/settings", "ar")
	b.shot("verify-settings-ar")
	b.openLang("/verify/settings", "en")

	b.close()
}
