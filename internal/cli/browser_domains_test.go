package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
)

// TestBrowserDomains drives the dedup registry's pages in headless
// Chromium (domains, issue 7): a consortium administrator adds a
// consortium domain with a fresh key (the page offers it once), the
// domain's service points scan people (recorded straight into the
// registry: the scanning desk is another part), a member's token list is
// uploaded, and the reconciliation report is shown — chart and table —
// on a phone and a tablet, in English and Arabic, screenshotted into
// $TALLY_SCREENSHOTS (or a temporary directory).
func TestBrowserDomains(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("Chromium is not installed (Debian: apt-get install chromium): the registry pages are not tested in a browser")
	}
	shots := screenshotDir(t)
	m, stdout, _ := startMain(t, t.TempDir())
	defer m.Close()
	adminPassword := firstPassword.FindStringSubmatch(stdout.String())[1]
	b := openTab(t, chrome, m.URL(), shots, 2*time.Minute)

	// The administrator adds the consortium administrator.
	b.signIn("admin", adminPassword)
	b.open("/admin/staff")
	b.do(
		chromedp.SendKeys(chromedp.ID("name"), "Consortium Admin"),
		chromedp.SendKeys(chromedp.ID("username"), "consortium"),
		chromedp.SetValue(chromedp.ID("role"), "consortium-admin"),
	)
	b.submit(`form[action="/admin/staff"] button[type=submit]`, 201)
	password := b.text(".secret")
	b.signOut()

	// The consortium administrator adds the consortium's domain, with a
	// fresh key offered once.
	b.signIn("consortium", password)
	b.open("/admin/domains")
	b.wantText("main", "No dedup domain yet.")
	b.do(
		chromedp.SendKeys(chromedp.ID("id"), "dadaab-2026"),
		chromedp.SendKeys(chromedp.ID("name"), "Dadaab cash consortium 2026"),
		chromedp.SendKeys(chromedp.ID("members"), "agency-b, agency-c"),
	)
	b.shot("domains-add")
	b.submit(`form[action="/admin/domains"] button[type=submit]`, 201)
	b.wantText("section.once", "Download the key of dadaab-2026")
	b.shot("domain-created")

	// The domain's service points scan 120 people in February and March
	// (MPCA) and April (FOOD).
	st, err := bolt.NewRegistryStore(m.db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(st.Stores(), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var scans []registry.Scan
	for i := range 120 {
		at := time.Date(2026, time.Month(2+i%3), 3+i%20, 10, 0, 0, 0, time.UTC)
		programme := "MPCA-2026"
		if at.Month() == time.April {
			programme = "FOOD-2026"
		}
		scans = append(scans, registry.Scan{Domain: "dadaab-2026", Token: browserToken(i), ServicePoint: "Ifo 2, desk 1", Programme: programme, At: at})
	}
	if _, err := reg.RecordMany(context.Background(), "dadaab-2026", scans); err != nil {
		t.Fatal(err)
	}

	// agency-b's list: tokens 60..179, in HEALTH and WASH, March and April.
	var list strings.Builder
	list.WriteString(registry.ListHeader + "\n")
	for i := 60; i < 180; i++ {
		fmt.Fprintf(&list, "dadaab-2026,%s,%s,2026-0%d,%d\n", browserToken(i), []string{"HEALTH", "WASH"}[i%2], 3+i%2, 1+i%4)
	}
	file := filepath.Join(t.TempDir(), "agency-b-tokens.csv")
	if err := os.WriteFile(file, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open("/admin/domains/dadaab-2026")
	b.wantText("dl", "120")
	b.set("peer", "agency-b")
	b.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	b.shot("domain")
	b.submit(`form[action$="/peers"] button[type=submit]`, 200)
	b.wantPath("/admin/domains/dadaab-2026/peers/agency-b")
	b.wantText(".notice", "The list was imported.")
	b.wantText("figure.chart", "in both")
	b.wantText("table.report", "HEALTH")
	b.shot("domain-report")
	b.openLang("", "ar")
	b.wantText("figure.chart", "في القائمتين")
	b.shot("domain-report-ar")
	b.openLang("/admin/domains", "ar")
	b.shot("domains-ar")
	b.openLang("/admin/domains", "en")
	b.shot("domains")
	b.signOut()

	b.close()
}

// browserToken is a made-up dedup token.
func browserToken(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "browser person %d", i))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}
