package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/qrtest"
	"github.com/tally-id/tally/verifier"
)

// TestServeIssueCard starts tally serve, registers the sample Fatima with
// consent, issues her card from her registration's page, downloads the
// PDF, reads the QR code back from the rendered page (pdftoppm) or, when
// poppler is missing, from the card's image on the page, verifies it with
// the verifier library against the server's status lists, revokes it,
// and sees it revoked.
func TestServeIssueCard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, stdout, stderr := startMain(t, dir)
	defer m.Close()
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	staff := map[string]*browser{}
	for _, role := range []string{"registrar", "supervisor"} {
		code, _, page := admin.postForm("/admin/staff", "name", "Staff "+role, "username", role, "role", role)
		if code != 201 {
			t.Fatalf("add a %s: %d", role, code)
		}
		staff[role] = newBrowser(t, m.URL())
		staff[role].signInFirst(role, pagePassword.FindStringSubmatch(page)[1])
	}
	registrar, supervisor := staff["registrar"], staff["supervisor"]
	code, h, _ := registrar.postForm("/issuer/register", "programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal", "consent.language", "so",
		"registrationId", "KE-DAD-2026-000123", "fullName", "Fatima Hassan Abdi", "dateOfBirth", "1991-03-14", "gender", "female")
	if code != 303 {
		t.Fatalf("register Fatima: %d", code)
	}
	regPage := strings.TrimSuffix(h.Get("Location"), "?done=registered")
	code, h, _ = registrar.postForm(regPage+"/credentials", "type", "RegistrationCredential")
	credPage := strings.TrimSuffix(h.Get("Location"), "?done=issued")
	if code != 303 || !strings.HasPrefix(credPage, "/issuer/credentials/") {
		t.Fatalf("issue her card: %d %s", code, credPage)
	}
	code, _, page := registrar.send("GET", credPage, "", "")
	if code != 200 {
		t.Fatalf("the card's page: %d", code)
	}
	code, h, pdf := registrar.send("GET", credPage+"/card.pdf", "", "")
	if code != 200 || h.Get("Content-Type") != "application/pdf" || h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("the card's PDF: %d %s %s", code, h.Get("Content-Type"), h.Get("Cache-Control"))
	}

	var img image.Image
	if tool, err := exec.LookPath("pdftoppm"); err == nil {
		cmd := exec.Command(tool, "-png", "-r", "300", "-singlefile", "-")
		cmd.Stdin = strings.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdftoppm: %v", err)
		}
		if img, err = png.Decode(bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("TALLY_PDF_PNG_DIR"); dir != "" {
			// Keep the served card to look at.
			_ = os.WriteFile(filepath.Join(dir, "served-card.pdf"), []byte(pdf), 0o644)
			_ = os.WriteFile(filepath.Join(dir, "served-card.png"), out, 0o644)
		}
	} else {
		t.Log("pdftoppm is not installed (Debian: poppler-utils): the QR code is read from the card's image on its page, not from the PDF")
		m := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no card image on the page")
		}
		raw, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if img, err = png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := qrtest.Read(img)
	if err != nil {
		t.Fatalf("the QR code does not read: %v", err)
	}
	card := []byte(res.GetText())

	keys, err := m.db.OrgKeys(ctx, "demo")
	if err != nil || len(keys) == 0 {
		t.Fatalf("demo's keys: %v", err)
	}
	pub, err := credentials.ReadPublicKey(keys[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	verify := func() (*verifier.Result, error) {
		iss, err := verifier.NewTrustedIssuer("demo", []credentials.Type{credentials.TypeRegistration}, pub)
		if err != nil {
			t.Fatal(err)
		}
		iss.StatusBase = m.URL() + "/status/demo"
		trust := verifier.NewTrustList("test")
		if err := trust.Add(iss); err != nil {
			t.Fatal(err)
		}
		// A new verifier each time: a service point that has no list cached.
		v, err := verifier.New(verifier.Options{Trust: trust})
		if err != nil {
			t.Fatal(err)
		}
		return v.Verify(ctx, card)
	}
	got, err := verify()
	if err != nil {
		t.Fatalf("verify the printed card: %v", err)
	}
	if !got.Status.Checked || got.Credential.Subject.(*credentials.Registration).FullName != "Fatima Hassan Abdi" {
		t.Fatalf("verified: %+v", got)
	}

	if code, _, _ := registrar.postForm(credPage + "/revoke"); code != 403 {
		t.Fatalf("a registrar revokes: %d, want 403", code)
	}
	if code, _, _ := supervisor.postForm(credPage + "/revoke"); code != 303 {
		t.Fatalf("the supervisor revokes: %d", code)
	}
	_, err = verify()
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Reason != verifier.Revoked {
		t.Fatalf("after revocation: %v, want Revoked", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	code2, export, errOut := runIn2(t, testEnv(), "audit", "export", "--data", dir)
	if code2 != 0 {
		t.Fatalf("audit export: %s", errOut)
	}
	for _, want := range []string{`"issue"`, `"revoke"`, `"credential"`} {
		if !strings.Contains(export, want) {
			t.Errorf("the audit log has no %s", want)
		}
	}
	for _, s := range []string{"Fatima", "Hassan", "1991-03-14", "KE-DAD-2026-000123"} {
		if strings.Contains(export, s) || strings.Contains(stderr.String(), s) {
			t.Errorf("%q reached the audit log or the logs", s)
		}
	}
}
