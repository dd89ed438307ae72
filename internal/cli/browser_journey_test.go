package cli

// --- journey (issue 7): the journey of TestJourney in headless Chromium.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserJourney walks issue 7's journey in headless Chromium, on a
// phone: B's verifier checks Fatima's card (new, then seen before), her
// revoked card, then the referral A gave her with her new card, accepts
// it and records that she was served; A's supervisor sees the outcome.
// A's own steps (register, issue, revoke, refer) are made over plain HTTP,
// as TestBrowserStaffPages drives them in a browser already. Each result
// page is screenshotted on a phone and a tablet, in English and Arabic,
// into $TALLY_SCREENSHOTS (or a temporary directory).
func TestBrowserJourney(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed: the journey is not tested in a browser")
	}
	shots := screenshotDir(t)
	m, _, passwords, reliefDID := startJourney(t, t.TempDir())
	defer m.Close()
	registrar, supervisorA := newBrowser(t, m.URL()), newBrowser(t, m.URL())
	registrar.signInFirst("registrar", passwords["registrar"])
	supervisorA.signInFirst("supervisor", passwords["supervisor"])
	regPath := registerFatima(t, registrar)
	dir := t.TempDir()
	save := func(name string, png []byte) string {
		file := filepath.Join(dir, name+".png")
		if err := os.WriteFile(file, png, 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	credPath, cardPNG, _ := issueCard(t, registrar, regPath)
	card := save("card", cardPNG)

	b := openTab(t, chrome, m.URL(), shots, 3*time.Minute)

	// B's verifier checks her card, photographed, twice.
	b.signIn("verifier", passwords["verifier"])
	b.wantPath("/verify/")
	check := func(photo string) {
		t.Helper()
		b.set("servicePoint", "Ifo clinic")
		b.do(chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
		b.submit(`form[action="/verify/check"] button[type=submit]`, 200)
	}
	check(card)
	b.wantText(".verdict", "Valid")
	b.wantText(".dedup", "First time in this domain")
	b.wantText(".person", "Fatima Hassan Abdi")
	b.shot("journey-scan-new")
	b.submit(`form.next button`, 200)
	check(card)
	b.wantText(".verdict", "already seen")
	b.wantText(".dedup", "Already seen once")
	b.shot("journey-scan-duplicate")
	b.openLang("/verify/", "ar")
	check(card)
	b.wantText(".dedup", "(عدد المرات: 2)")
	b.shot("journey-scan-duplicate-ar")
	b.openLang("/verify/", "en")

	// A revokes it: refused, not counted.
	if code, _, _ := supervisorA.postForm(credPath + "/revoke"); code != 303 {
		t.Fatalf("revoke: %d", code)
	}
	check(card)
	b.wantText(".verdict", "Not accepted")
	b.wantText(".answer-reason", "cancelled this card")
	b.shot("journey-scan-revoked")

	// A issues her a new card and refers her to B; B checks both.
	_, newPNG, _ := issueCard(t, registrar, regPath)
	newCard := save("new-card", newPNG)
	referral := save("referral", referFatima(t, registrar, regPath, reliefDID))
	b.open("/verify/referrals")
	b.do(
		chromedp.SetUploadFiles(chromedp.ID("referral_photo"), []string{referral}),
		chromedp.SetUploadFiles(chromedp.ID("registration_photo"), []string{newCard}),
	)
	b.submit(`form[action="/verify/referrals"] button[type=submit]`, 200)
	b.wantText("main", "Fatima Hassan Abdi")
	b.wantText("main", "primary-health-care")
	if got := b.text("main"); strings.Contains(got, "1991") || strings.Contains(got, "KE-DAD-2026-000123") {
		t.Fatalf("the referral shows what she did not agree to pass on: %q", got)
	}
	b.shot("journey-referral-presented")
	refPage := b.path()
	if !strings.HasPrefix(refPage, "/verify/referrals/") {
		// The presented referral is shown on the form's own address.
		refPage = "/verify/referrals/" + b.attr(`form[action$="/state"]`, "action")[len("/verify/referrals/"):]
		refPage = strings.TrimSuffix(refPage, "/state")
	}
	b.submit(`form[action$="/state"] input[value="accepted"] ~ button`, 200)
	b.wantText("main", "accepted")
	b.shot("journey-referral-accepted")
	b.do(chromedp.Click(chromedp.CSS(`input[name="code"][value="served"]`)))
	b.submit(`form[action$="/state"] button[type=submit]`, 200)
	b.wantText("main", "closed")
	b.shot("journey-referral-closed")
	b.openLang(refPage, "ar")
	b.shot("journey-referral-closed-ar")
	b.openLang(refPage, "en")
	b.signOut()

	// A's supervisor sees what B did, once B's outbox has told A.
	b.signIn("supervisor", chosenPassword("supervisor"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.open("/issuer/referrals")
		if strings.Contains(b.text("main"), "served") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.wantText("main", "served")
	b.shot("journey-outcome-list")
	b.open(regPath)
	b.wantText("main", "outcome: served")
	b.shot("journey-outcome-registration")
	b.openLang(regPath, "ar")
	b.shot("journey-outcome-registration-ar")
	b.openLang(regPath, "en")

	b.close()
}
