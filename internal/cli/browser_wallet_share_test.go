package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// TestBrowserWalletShare drives the web wallet's two exchanges in
// headless Chromium on a phone, as Fatima does them: she pastes the
// offer her registrar gave (as the camera would read its QR code), sees
// who offers what, types the transaction code and keeps the credential;
// then a verifying agency asks her phone, she sees who asks, for what and
// which claims — in Arabic too — and shares; she makes a QR for an
// offline service point, and reads what she shared and her settings.
func TestBrowserWalletShare(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed (Debian: apt-get install chromium): the web wallet is not tested in a browser")
	}
	shots := screenshotDir(t)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	stdout := &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: &lockedBuffer{},
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN,
		holderKDF: holder.KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1}}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	staff := walletStaff(t, m, stdout)
	offer, txCode := offerFatima(t, staff["registrar"])

	b := openTab(t, chrome, m.URL(), shots, 3*time.Minute)
	b.do(chromedp.EmulateViewport(walletPhone.width, walletPhone.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.openLang("/wallet/open", "en")
	b.set("pin", "480915")
	b.set("pin_again", "480915")
	b.submit(`form[action="/wallet/open"] button[type=submit]`, 200)

	// Receiving: the offer read, the issuer and the credential named, the
	// transaction code asked.
	b.open("/wallet/receive")
	b.walletShot("wallet-receive")
	b.set("offer", offer)
	b.submit(`form[action="/wallet/receive"] button[type=submit]`, 200)
	b.wantText("main", "Demo")
	b.walletShot("wallet-receive-confirm")
	b.set("tx_code", txCode)
	b.submit(`form[action="/wallet/receive/accept"] button[type=submit]`, 200)
	b.wantText("main", "Registration")
	b.walletShot("wallet-received")

	// Sharing: who asks, for what, which claims; then the verifier's
	// answer.
	_, request := askPhone(t, staff["verifier"], "Health care at the Ifo clinic")
	b.open("/wallet/present")
	b.walletShot("wallet-present")
	b.set("request", request)
	b.submit(`form[action="/wallet/present"] button[type=submit]`, 200)
	b.wantText("main", "Health care at the Ifo clinic")
	b.walletShot("wallet-consent")
	b.submit(`button[value=share]`, 200)
	b.walletShot("wallet-shared")

	// The same in Arabic, right to left: a second request, declined.
	_, request = askPhone(t, staff["verifier"], "زيارة ثانية")
	b.openLang("/wallet/present", "ar")
	b.set("request", request)
	b.submit(`form[action="/wallet/present"] button[type=submit]`, 200)
	if dir := b.attr("html", "dir"); dir != "rtl" {
		t.Fatalf("the Arabic consent page: dir=%q", dir)
	}
	b.walletShot("wallet-consent-ar")
	b.submit(`button[value=decline]`, 200)
	b.openLang("/wallet/shares", "en")
	b.wantText("main", "Health care at the Ifo clinic")
	b.walletShot("wallet-shares")

	// A QR for a service point without a network: the credential's page
	// leads to it; she picks what it shows.
	b.open("/wallet/")
	b.open(b.attr(`ul.wallet-cards a`, "href"))
	b.open(b.attr(`a[href^="/wallet/present/offline/"]`, "href"))
	b.walletShot("wallet-offline-choose")
	b.do(chromedp.Click(chromedp.CSS(`input[name=claims][value=fullName]`)))
	b.submit(`form[action^="/wallet/present/offline/"] button[type=submit]`, 200)
	if src := b.attr("main img", "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("the offline QR page shows no QR code: %.60q", src)
	}
	b.walletShot("wallet-offline-qr")

	b.open("/wallet/settings")
	b.walletShot("wallet-settings")

	// The doors for a lost phone, after locking: her recovery sheet, or
	// a reset code from registration staff (in Arabic too).
	b.submit(`form[action="/wallet/signout"] button[type=submit]`, 200)
	b.open("/wallet/recover")
	b.walletShot("wallet-recover")
	b.openLang("/wallet/reset", "ar")
	if dir := b.attr("html", "dir"); dir != "rtl" {
		t.Fatalf("the Arabic reset page: dir=%q", dir)
	}
	b.walletShot("wallet-reset-ar")
	b.close()
}
