package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tally-id/tally/credentials"
)

// The viewports the staff pages are looked at in: a phone held upright and
// a tablet held upright (the desks' usual devices).
var (
	phone  = viewport{"phone", 390, 844}
	tablet = viewport{"tablet", 820, 1180}
)

type viewport struct {
	name          string
	width, height int64
}

// chromiumPath finds Debian's chromium (or another Chromium build) on the
// PATH; .ci/run installs it when it is missing and may.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserStaffPages drives the staff pages in headless Chromium, as
// staff at a desk would: the administrator signs in with the printed
// one-time password and adds a registrar and a supervisor; the registrar
// registers Fatima (the sample) with her consent, is shown the duplicate
// prompt when registering her again and links the visit, issues her card,
// opens its PDF, and finds her; the supervisor revokes the card. Every
// page is screenshotted on a phone and on a tablet (and some in Arabic)
// into $TALLY_SCREENSHOTS, or a temporary directory; no page may scroll
// sideways, write to the console, or ask another host for anything.
func TestBrowserStaffPages(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it when run as root): the staff pages are not tested in a browser")
	}
	shots := screenshotDir(t)

	m, stdout, _ := startMain(t, t.TempDir())
	defer m.Close()
	adminPassword := firstPassword.FindStringSubmatch(stdout.String())[1]

	b := openTab(t, chrome, m.URL(), shots, 3*time.Minute)

	// The administrator signs in with the one-time password.
	b.open("/issuer/")
	b.wantPath("/signin")
	b.shot("signin")
	b.openLang("/signin", "ar")
	b.shot("signin-ar")
	b.openLang("/signin", "en")
	b.signIn("admin", adminPassword)
	b.wantText("main", "Signed in as Administrator")
	b.shot("home-admin")

	// ... and adds a registrar and a supervisor.
	passwords := map[string]string{}
	for _, role := range []string{"registrar", "supervisor"} {
		b.open("/admin/staff")
		b.do(
			chromedp.SendKeys(chromedp.ID("name"), "Staff "+role),
			chromedp.SendKeys(chromedp.ID("username"), role),
			chromedp.SetValue(chromedp.ID("role"), role),
		)
		b.submit(`form[action="/admin/staff"] button[type=submit]`, 201)
		passwords[role] = b.text(".secret")
		if role == "registrar" {
			b.shot("staff-created")
		}
	}
	b.open("/admin/staff")
	b.shot("staff")
	// The organisation's settings and keys, the data key, the audit log.
	b.open("/admin/organisation")
	b.wantText("main", "did:web:")
	b.shot("organisation")
	b.open("/admin/datakey")
	b.shot("datakey")
	b.open("/admin/audit")
	b.wantText("main", "sign-in")
	b.shot("audit")
	b.openLang("/admin/audit", "ar")
	b.shot("audit-ar")
	b.openLang("/admin/audit", "en")
	b.signOut()

	// The registrar registers Fatima with her consent.
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
	b.signIn("registrar", passwords["registrar"])
	b.open("/issuer/register")
	fill := func(registrationID string) {
		b.do(
			chromedp.Click(chromedp.CSS(`input[name="consent.method"][value="verbal"]`)),
			chromedp.Click(chromedp.CSS(`input[name="consent.given"]`)),
			chromedp.SendKeys(chromedp.ID("fullName"), f.FullName),
		)
		for _, kv := range [][2]string{{"consent.language", "so"}, {"firstName", f.FirstName}, {"lastName", f.LastName},
			{"dateOfBirth", f.DateOfBirth}, {"gender", f.Gender}, {"nationality", f.Nationality}, {"legalStatus", f.LegalStatus},
			{"locationCode", f.LocationCode}, {"language", "so"}, {"householdSize", "5"}, {"registrationId", registrationID}} {
			if kv[1] != "" { // the form opens empty
				b.set(kv[0], kv[1])
			}
		}
	}
	fill(f.RegistrationID)
	b.shot("register-filled")
	b.submit(`form[action="/issuer/register"] button[type=submit]`, 200)
	b.wantText(".notice", "Registered.")
	regPath := b.path()
	b.shot("registration")
	b.openLang(regPath, "ar")
	b.shot("registration-ar")
	b.openLang(regPath, "en")

	// Registering her again (she lost her card and her number) shows her
	// registration first; the visit is linked to it.
	b.open("/issuer/register")
	fill("")
	b.submit(`form[action="/issuer/register"] button[type=submit]`, 200)
	b.wantText("#dup-title", "This person may be registered already")
	b.wantText(".match", f.RegistrationID)
	b.shot("register-duplicate")
	// The same in Arabic, where the visit is linked.
	b.openLang("/issuer/register", "ar")
	fill("")
	b.submit(`form[action="/issuer/register"] button[type=submit]`, 200)
	b.wantText(".match", f.RegistrationID)
	b.shot("register-duplicate-ar")
	b.submit(`.match form button[type=submit]`, 200)
	b.wantText(".notice", "رُبطت هذه الزيارة بالتسجيل")
	if b.path() != regPath {
		t.Fatalf("linked to %s, want %s", b.path(), regPath)
	}
	b.openLang(regPath, "en")

	// Her card: issued, shown, printed.
	b.submit(`form[action$="/credentials"] button[type=submit]`, 200)
	b.wantText(".notice", "Issued.")
	credPath := b.path()
	b.shot("credential")
	if status, typ := b.follow(`a[href$="/card.pdf"]`); status != 200 || typ != "application/pdf" {
		t.Fatalf("the card's PDF answers %d %q", status, typ)
	}
	b.openLang(credPath, "ar")
	b.shot("credential-ar")
	b.openLang(credPath, "en")

	// Finding her by name.
	b.open("/issuer/search")
	b.do(chromedp.SendKeys(chromedp.ID("q"), "Fatima Abdi"))
	b.submit(`form[action="/issuer/search"] button[type=submit]`, 200)
	b.wantText("ul.results", f.RegistrationID)
	b.shot("search")

	// Her credential sent to a phone wallet: the offer's QR code and its
	// transaction code, shown once.
	b.open(regPath)
	b.submit(`form[action$="/offers"] button[type=submit]`, 200)
	b.wantText("main", "scan this code")
	b.shot("offer")

	// A spreadsheet of three people (Fatima among them, registered
	// already): the check lists her row, the other two are issued, and
	// their cards come as one PDF.
	csv, err := filepath.Abs(filepath.Join("..", "..", "testdata", "samples", "beneficiaries.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b.open("/issuer/imports")
	b.do(
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}),
		chromedp.Click(chromedp.CSS(`input[name="consent.method"][value="verbal"]`)),
		chromedp.Click(chromedp.CSS(`input[name="consent.given"]`)),
	)
	b.set("consent.language", "so")
	b.shot("import-upload")
	b.submit(`form[action="/issuer/imports"] button[type=submit]`, 200)
	b.wantText("#import-state", "Checked")
	b.shot("import-checked")
	b.submit(`form[action$="/start"] button[type=submit]`, 200)
	for i := 0; ; i++ {
		if strings.Contains(b.text("#import-state"), "Done") {
			break
		}
		if i == 20 {
			t.Fatalf("the import is still %q", b.text("#import-state"))
		}
		time.Sleep(500 * time.Millisecond)
		b.open(b.path())
	}
	b.wantText("#import-issued", "2")
	b.shot("import-done")
	if status, typ := b.follow(`a[href$="/cards.pdf"]`); status != 200 || typ != "application/pdf" {
		t.Fatalf("the import's PDF answers %d %q", status, typ)
	}
	b.signOut()

	// The supervisor revokes the card.
	b.signIn("supervisor", passwords["supervisor"])
	b.open(credPath)
	b.submit(`form[action$="/revoke"] button`, 200)
	b.wantText(".notice", "Revoked")
	b.wantText("dl", "Revoked")
	b.shot("credential-revoked")
	b.signOut()

	b.close()
}

// watch collects what the pages should never do: write errors to the
// console, throw, or ask another host for anything.
type watch struct {
	host string
	mu   sync.Mutex
	bad  []string
}

func (w *watch) add(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bad = append(w.bad, fmt.Sprintf(format, args...))
}

func (w *watch) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.bad...)
}

// see runs in the tab's event loop: it must return fast.
func (w *watch) see(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		if err != nil {
			w.add("a request to %q", ev.Request.URL)
		} else if u.Scheme != "data" && u.Scheme != "chrome-extension" && u.Host != w.host {
			// (chrome-extension: is the browser's own PDF viewer.)
			w.add("a request to another host: %s", ev.Request.URL)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			w.add("console.%s on a page", ev.Type)
		}
	case *runtime.EventExceptionThrown:
		w.add("an exception on a page: %s", ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			w.add("the browser logged %s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	}
}

// tab is one browser tab on the server, with the steps staff take.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	watch *watch
}

// step bounds each step, so that a missing element fails in seconds, not
// at the test's deadline (generous: -race on a busy machine is slow).
const step = 20 * time.Second

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func run[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// open loads a page of the server and wants it answered 200.
func (b *tab) open(path string) {
	b.t.Helper()
	res := run(b, chromedp.NavigateResponse(b.base+path))
	if res == nil {
		b.t.Fatalf("GET %s: no answer", path)
	}
	if res.Status != 200 {
		b.t.Fatalf("GET %s: %d", path, res.Status)
	}
}

// openLang opens a page (the current one when path is empty) in a
// language; the choice sticks, as a cookie.
func (b *tab) openLang(path, lang string) {
	b.t.Helper()
	if path == "" {
		path = b.path()
	}
	b.open(path + "?lang=" + lang)
	if got := run(b, chromedp.AttributeValue(chromedp.CSS("html"), "lang")); got.Value != lang {
		b.t.Fatalf("%s in %s: the page is in %q", path, lang, got.Value)
	}
}

// submit clicks a form's button and waits for the page it leads to, which
// must answer status.
func (b *tab) submit(sel string, status int64) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	if res.Status != status {
		b.t.Fatalf("submit %s on %s: %d, want %d", sel, b.path(), res.Status, status)
	}
}

func (b *tab) signIn(username, password string) {
	b.t.Helper()
	b.open("/signin")
	b.do(
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	b.submit(`form[action="/signin"] button[type=submit]`, 200)
	if b.path() == "/account/password" {
		// A one-time password: the first sign-in chooses a new one, and
		// the test goes on with the same one changed.
		b.shot("password-" + username)
		b.do(
			chromedp.SendKeys(chromedp.ID("current"), password),
			chromedp.SendKeys(chromedp.ID("new"), "Kept-"+password+"-after first sign-in"),
		)
		b.submit(`form[action="/account/password"] button[type=submit]`, 200)
	}
	// Each role starts at its own home.
	if got := b.path(); got != "/issuer/" && got != "/verify/" && got != "/admin/domains" {
		b.t.Fatalf("signed in, on %s, want a home page", got)
	}
}

func (b *tab) signOut() {
	b.t.Helper()
	b.submit(`form.signout button`, 200)
	b.wantPath("/signin")
}

// path is the current page's path.
func (b *tab) path() string {
	b.t.Helper()
	loc := run(b, chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u.Path
}

func (b *tab) wantPath(want string) {
	b.t.Helper()
	if got := b.path(); got != want {
		b.t.Fatalf("on %s, want %s", got, want)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, chromedp.Text(chromedp.CSS(sel))))
}

func (b *tab) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Fatalf("%s on %s reads %q, want %q", sel, b.path(), got, want)
	}
}

// set sets a field's value (a select's option, or what staff would type).
func (b *tab) set(id, value string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(fmt.Sprintf("[id=%q]", id)), value)); err != nil {
		b.t.Fatalf("set %s to %q: %v", id, value, err)
	}
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	v := run(b, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if !v.Exists {
		b.t.Fatalf("%s has no %s", sel, name)
	}
	return v.Value
}

// follow opens the current page in a second tab (same session), clicks a
// link there and returns the status and the content type of the answer (a
// PDF, say, which the browser may show or download), then closes the tab.
func (b *tab) follow(sel string) (int64, string) {
	b.t.Helper()
	page, href := b.path(), b.attr(sel, "href")
	tabCtx, closeTab := chromedp.NewContext(b.ctx, chromedp.WithListener(b.watch.see))
	defer closeTab()
	other := &tab{t: b.t, ctx: tabCtx, base: b.base, shots: b.shots, watch: b.watch}
	if err := chromedp.Do(tabCtx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	other.open(page)
	ctx, cancel := context.WithTimeout(tabCtx, step)
	defer cancel()
	ev, err := chromedp.Run(ctx, chromedp.WaitEvent(network.ResponseReceived, func(ev network.EventResponseReceived) bool {
		return strings.HasSuffix(ev.Response.URL, href)
	}, chromedp.Click(chromedp.CSS(sel))))
	if err != nil {
		b.t.Fatalf("follow %s: %v", href, err)
	}
	return ev.Response.Status, ev.Response.MimeType
}

// smallTargets lists the controls smaller than 44 CSS pixels either way
// (WCAG 2.5.5's size, for staff working fast on a phone). A checkbox or
// a radio button counts by its label, which is tapped with it.
const smallTargets = `(() => {
  const small = [];
  const controls = "button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, a.button, header a, footer a, label.choice";
  for (const el of document.querySelectorAll(controls)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < 44 || r.height < 44) {
      const what = (el.textContent || el.name || el.id || "").trim().slice(0, 30);
      small.push(el.tagName.toLowerCase() + " " + JSON.stringify(what) + " " + Math.round(r.width) + "×" + Math.round(r.height));
    }
  }
  return small;
})()`

// shot saves the page as a phone and as a tablet show it, and fails when
// the page is wider than either screen (it would scroll sideways).
func (b *tab) shot(name string) {
	b.t.Helper()
	for _, v := range []viewport{phone, tablet} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch}
		b.do(chromedp.EmulateViewport(v.width, v.height, opts...))
		// Against the screen's width, not innerWidth: a mobile browser
		// widens its layout viewport to a page too wide for the screen.
		if wide := run(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)) - int(v.width); wide > 0 {
			b.t.Errorf("%s on a %s: %d px wider than the screen", name, v.name, wide)
		}
		for _, small := range run(b, chromedp.Evaluate[[]string](smallTargets)) {
			b.t.Errorf("%s on a %s: %s is too small to tap", name, v.name, small)
		}
		png := run(b, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(b.shots, name+"-"+v.name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do(chromedp.EmulateViewport(phone.width, phone.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// screenshotDir is where pages are screenshotted: $TALLY_SCREENSHOTS
// (made if need be), else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	shots := os.Getenv("TALLY_SCREENSHOTS")
	if shots == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// openTab starts headless Chromium (the binary chrome) with one tab on a
// phone's viewport, for the server at serverURL; the tab watches that no
// page asks another host for anything or writes to the console. The
// browser lives until timeout or the end of the test.
func openTab(t *testing.T, chrome, serverURL, shots string, timeout time.Duration) *tab {
	t.Helper()
	base, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	// No sandbox: the browser opens only this test's own pages, and a
	// container without user namespaces would not start it otherwise.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU, chromedp.NoSandbox)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	w := &watch{host: base.Host}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(w.see))
	t.Cleanup(cancelTab)
	// The first Do starts the browser: it lives as long as tabCtx.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	b := &tab{t: t, ctx: tabCtx, base: serverURL, shots: shots, watch: w}
	b.do(chromedp.EmulateViewport(phone.width, phone.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	return b
}

// close closes the browser and fails the test for whatever the watch saw
// (another host asked, a console message).
func (b *tab) close() {
	b.t.Helper()
	if err := chromedp.Cancel(b.ctx); err != nil {
		b.t.Logf("closing the browser: %v", err)
	}
	for _, problem := range b.watch.problems() {
		b.t.Error(problem)
	}
	b.t.Logf("screenshots in %s", b.shots)
}
