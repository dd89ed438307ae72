package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// The wallet's screens: a cheap phone (360×800) and a tablet.
var walletPhone = viewport{"phone", 360, 800}

// TestBrowserWallet drives the web wallet in headless Chromium on a
// phone, as a beneficiary would: she opens a wallet with a PIN, sees her
// credentials (seeded through the holder service, as the issuer makes
// them) in English and in Arabic, the app installs (manifest read, service
// worker controlling the page), then the network goes away: the home page
// and a credential's page (with its QR) still show, from the wallet's
// copy, with the offline banner. Locking the wallet deletes the copy: the
// next person on the phone sees nothing of hers, online or offline.
func TestBrowserWallet(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed (Debian: apt-get install chromium): the web wallet is not tested in a browser")
	}
	shots := screenshotDir(t)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	m := &Main{Config: cfg, Stdout: &lockedBuffer{}, Stderr: &lockedBuffer{},
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN,
		holderKDF: holder.KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1}}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()

	b := openTab(t, chrome, m.URL(), shots, 3*time.Minute)
	b.do(chromedp.EmulateViewport(walletPhone.width, walletPhone.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))

	// She opens a wallet with a PIN.
	b.openLang("/wallet/", "en")
	b.walletShot("wallet-welcome")
	b.open("/wallet/open")
	b.do(
		chromedp.SendKeys(chromedp.ID("pin"), "480915"),
		chromedp.SendKeys(chromedp.ID("pin_again"), "480915"),
	)
	b.submit(`form[action="/wallet/open"] button[type=submit]`, 200)
	b.walletShot("wallet-opened")

	// Her credentials, as the issuer makes them: an SD-JWT VC bound to
	// her wallet's key and a QR card.
	w := b.wallet(m)
	sdID, cardID := seedWallet(t, m, w)

	b.open("/wallet/")
	b.wantText("ul.wallet-cards", "Registration")
	b.walletShot("wallet-home")
	b.open("/wallet/credentials/" + cardID)
	b.wantText("main", "Fatima Hassan Abdi")
	b.wantText(".wallet-status", "Valid")
	b.walletShot("wallet-card")
	b.open("/wallet/credentials/" + sdID)
	b.wantText("main", "14 March 1991")
	b.walletShot("wallet-sdjwt")
	b.open("/wallet/credentials/" + sdID + "/delete")
	b.walletShot("wallet-delete")

	// In Arabic, right to left.
	b.openLang("/wallet/", "ar")
	if dir := b.attr("html", "dir"); dir != "rtl" {
		t.Fatalf("Arabic wallet: dir=%q", dir)
	}
	b.walletShot("wallet-home-ar")
	b.open("/wallet/credentials/" + cardID)
	b.wantText(".wallet-status", "صالحة")
	b.walletShot("wallet-card-ar")
	b.open("/wallet/credentials/" + sdID)
	b.wantText("main", "مارس")
	b.walletShot("wallet-sdjwt-ar")

	// Installed: the manifest is read without error, the service worker
	// controls the wallet's pages.
	manifest := b.manifest()
	if !strings.HasSuffix(manifest.URL, "/wallet/manifest.webmanifest") || len(manifest.Errors) != 0 || !strings.Contains(manifest.Data, `"start_url":"/wallet/"`) {
		t.Fatalf("manifest %s: %+v %s", manifest.URL, manifest.Errors, manifest.Data)
	}
	if scope := run(b, chromedp.Evaluate[string](`navigator.serviceWorker.ready.then(r => r.scope)`, chromedp.EvalAwaitPromise)); !strings.HasSuffix(scope, "/wallet/") {
		t.Fatalf("service worker scope %q", scope)
	}
	// Pages opened once the worker controls them are kept.
	b.openLang("/wallet/", "en")
	if !run(b, chromedp.Evaluate[bool](`navigator.serviceWorker.controller !== null`)) {
		t.Fatal("the service worker does not control the wallet's page")
	}
	b.open("/wallet/credentials/" + cardID)
	b.open("/wallet/credentials/" + sdID)
	b.open("/wallet/")
	b.waitKept(3)

	// Offline: a page never kept says so, and forgets nothing.
	workers := map[string]context.Context{}
	kept := b.keptPages()
	b.offline(workers, true)
	b.open("/wallet/credentials/" + sdID + "/delete")
	b.wantText("main", "You are offline")
	if n := b.keptPages(); n != kept {
		t.Fatalf("the offline page changed what is kept: %d pages, was %d", n, kept)
	}
	b.offline(workers, false)

	// Offline: the kept pages show, with the banner.
	b.open("/wallet/")
	b.offline(workers, true)
	b.reload()
	b.wantText(".offline-banner", "Offline — as last seen on")
	b.wantText("ul.wallet-cards", "Registration")
	b.walletShot("wallet-home-offline")
	b.open("/wallet/credentials/" + cardID)
	b.wantText(".offline-banner", "Offline")
	if src := b.attr(".wallet-qr img", "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("the card's QR offline: %.40q", src)
	}
	b.walletShot("wallet-card-offline")
	b.offline(workers, false)

	// Locking the wallet deletes the kept pages.
	b.open("/wallet/")
	b.submit(`form[action="/wallet/signout"] button[type=submit]`, 200)
	b.wantPath("/wallet/")
	b.do(chromedp.WaitVisible(chromedp.CSS("body[data-wallet-cleared]")))
	if n := b.keptPages(); n != 0 {
		t.Fatalf("%d pages kept after locking the wallet", n)
	}
	// Of every cache, only the shell comes back (style, script, icons,
	// the offline page): nothing of hers.
	b.waitShell()
	if kept := run(b, chromedp.Evaluate[[]string](`caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys())))).then(ls => ls.flat().map(r => new URL(r.url).pathname).filter(p => p.startsWith("/wallet/credentials") || p === "/wallet/"))`, chromedp.EvalAwaitPromise)); len(kept) != 0 {
		t.Fatalf("kept after locking: %v", kept)
	}
	b.offline(workers, true)
	b.open("/wallet/credentials/" + cardID)
	if body := b.text("main"); strings.Contains(body, "Fatima") || !strings.Contains(body, "You are offline") {
		t.Fatalf("after locking, offline, the card's page reads %.200q", body)
	}
	b.walletShot("wallet-locked-offline")
	// The app itself still installs offline: its manifest is kept.
	if m := b.manifest(); len(m.Errors) != 0 || m.Data == "" {
		t.Fatalf("manifest offline after locking: %+v", m.Errors)
	}
	b.offline(workers, false)
	b.close()
}

// manifest is the page's app manifest as the browser read it.
func (b *tab) manifest() page.GetAppManifestResult {
	b.t.Helper()
	return run(b, chromedp.Action[page.GetAppManifestResult](func(ctx context.Context, tg *chromedp.Target) (page.GetAppManifestResult, error) {
		return cdp.Call(ctx, tg, page.GetAppManifest, page.GetAppManifestParams{})
	}))
}

// wallet is the holder's wallet the tab is signed in to (its session
// cookie read from the browser).
func (b *tab) wallet(m *Main) *holder.Wallet {
	b.t.Helper()
	cookies := run(b, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/wallet/"}})
	}))
	for _, c := range cookies.Cookies {
		if c.Name == "tally_wallet" {
			w, err := m.holders.Wallet(c.Value)
			if err != nil {
				b.t.Fatal(err)
			}
			return w
		}
	}
	b.t.Fatal("the browser has no wallet session")
	return nil
}

// seedWallet gives the wallet Fatima's registration as an SD-JWT VC and
// as a QR card.
func seedWallet(t *testing.T, m *Main, w *holder.Wallet) (sdID, cardID string) {
	t.Helper()
	ctx := context.Background()
	orgs, err := m.svc.Organisations(ctx)
	if err != nil || len(orgs) == 0 {
		t.Fatalf("organisations: %v", err)
	}
	org := orgs[0]
	sys := issuer.SystemPrincipal("test")
	if _, err := m.svc.CreateProgramme(ctx, sys, org.Slug, issuer.ProgrammeInput{Code: "WALLET-2026", Name: "Cash 2026", Languages: []string{"en", "ar"},
		RetentionMonths: 24, CredentialTypes: []string{"registration"}, Purpose: "Monthly cash in 2026."}); err != nil {
		t.Fatal(err)
	}
	st, _, err := m.svc.CreateStaff(ctx, sys, org.Slug, issuer.NewStaff{Name: "Rania Registrar", Username: "rania", Role: issuer.RoleRegistrar})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := m.svc.Register(ctx, issuer.Principal{Org: org.Slug, Role: issuer.RoleRegistrar, StaffID: st.ID}, org.Slug, issuer.NewRegistration{Person: credentials.Registration{
		RegistrationID: "KE-DAD-2026-000123", FullName: "Fatima Hassan Abdi", FirstName: "Fatima", LastName: "Abdi",
		DateOfBirth: "1991-03-14", Gender: "female", Nationality: "SO", LegalStatus: "asylum-seeker",
		LocationCode: "KE-DADAAB-HSP1", Language: "som", Programme: "WALLET-2026",
	}, Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := w.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := m.svc.Issue(ctx, sys, org.Slug, reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatSDJWT, Holder: key.Public})
	if err != nil {
		t.Fatal(err)
	}
	card, err := m.svc.Issue(ctx, sys, org.Slug, reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.AddCredential(ctx, holder.Credential{Format: "dc+sd-jwt", Raw: sd.Credential, Issuer: org.DID, IssuerName: org.Name, Type: "RegistrationCredential", Source: "oid4vci"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.AddCredential(ctx, holder.Credential{Format: "qr", Raw: card.Credential, Issuer: org.DID, IssuerName: org.Name, Type: "RegistrationCredential", Source: "card-photo"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, c.ID
}

// offline cuts the tab and the wallet's service worker off the network,
// or gives it back: the worker is a target of its own, whose fetches the
// tab's conditions do not reach.
func (b *tab) offline(workers map[string]context.Context, off bool) {
	b.t.Helper()
	emulate := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	})
	b.do(emulate, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	seen := 0
	for _, ti := range targets {
		if ti.Type != "service_worker" {
			continue
		}
		seen++
		wctx, ok := workers[string(ti.TargetID)]
		if !ok {
			var cancel context.CancelFunc
			wctx, cancel = chromedp.NewContext(b.ctx, chromedp.WithTargetID(ti.TargetID))
			b.t.Cleanup(cancel)
			// The first run attaches, for as long as its context
			// lives: with no deadline.
			if err := chromedp.Do(wctx); err != nil {
				b.t.Fatalf("attach to the service worker: %v", err)
			}
			workers[string(ti.TargetID)] = wctx
		}
		ctx, cancel := context.WithTimeout(wctx, step)
		err := chromedp.Do(ctx, emulate)
		cancel()
		if err != nil {
			b.t.Fatalf("the service worker's network: %v", err)
		}
	}
	if seen == 0 && off {
		b.t.Fatal("no service worker to cut off the network")
	}
}

// reload reloads the page (from the worker, which asks the network first).
func (b *tab) reload() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Reload())
	if err != nil || res == nil || res.Status != 200 {
		b.t.Fatalf("reload %s: %v %+v", b.path(), err, res)
	}
}

// keptPages counts the wallet pages the service worker keeps.
func (b *tab) keptPages() int {
	b.t.Helper()
	return run(b, chromedp.Evaluate[int](`caches.keys().then(ks => Promise.all(ks.filter(k => k.startsWith("tally-pages")).map(k => caches.open(k).then(c => c.keys())))).then(ls => ls.reduce((n, l) => n + l.length, 0))`, chromedp.EvalAwaitPromise))
}

// waitKept waits until the worker keeps at least n pages (it keeps them
// as they arrive).
func (b *tab) waitKept(n int) {
	b.t.Helper()
	for range 50 {
		if b.keptPages() >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the service worker keeps %d pages, want %d", b.keptPages(), n)
}

// waitShell waits until the worker has the offline page again.
func (b *tab) waitShell() {
	b.t.Helper()
	for range 50 {
		if run(b, chromedp.Evaluate[bool](`caches.match("/wallet/offline").then(r => !!r)`, chromedp.EvalAwaitPromise)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatal("the offline page is not kept again after locking")
}

// walletShot saves the page on the wallet's phone and on a tablet, and
// fails when it is wider than the screen or has a target too small to tap.
func (b *tab) walletShot(name string) {
	b.t.Helper()
	for _, v := range []viewport{walletPhone, tablet} {
		b.do(chromedp.EmulateViewport(v.width, v.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
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
	b.do(chromedp.EmulateViewport(walletPhone.width, walletPhone.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
}
