package cli

import (
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
)

// TestOrgNew: tally org new adds an organisation offline, on the
// instance's host, and prints its administrator's one-time password once;
// the administrator signs in on the next start, chooses a password, and
// sees their own organisation only. Bad input is a usage error and
// changes nothing.
func TestOrgNew(t *testing.T) {
	dir := t.TempDir()
	env := testEnv()
	env.PasswordParams = issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}
	if code, _, errOut := runIn2(t, env, "org", "new", "--slug", "relief", "--name", "Relief Org", "--data", dir); code != ExitInvalid || !strings.Contains(errOut, "tally serve once first") {
		t.Fatalf("before a first start: exit %d %s", code, errOut)
	}
	m, _, _ := startMain(t, dir)
	if code, _, errOut := runIn2(t, env, "org", "new", "--slug", "relief", "--name", "Relief Org", "--data", dir); code != ExitInvalid || !strings.Contains(errOut, "tally serve") {
		t.Fatalf("while serving: exit %d %s", code, errOut)
	}
	demoDID := ""
	orgs, err := m.db.Organisations(t.Context())
	if err != nil || len(orgs) != 1 {
		t.Fatal(err)
	}
	demoDID = orgs[0].DID
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"org", "new", "--data", dir},
		{"org", "new", "--slug", "Relief Org", "--name", "Relief", "--data", dir},
		{"org", "new", "--slug", "relief", "--name", strings.Repeat("n", 101), "--data", dir},
	} {
		if code, _, errOut := runIn2(t, env, bad...); code != ExitUsage {
			t.Fatalf("%v: exit %d %s", bad, code, errOut)
		}
	}
	if code, _, errOut := runIn2(t, env, "org", "new", "--slug", "demo", "--name", "Again", "--data", dir); code != ExitInvalid || !strings.Contains(errOut, "exists already") {
		t.Fatalf("a slug taken: exit %d %s", code, errOut)
	}
	code, out, errOut := runIn2(t, env, "org", "new", "--slug", "relief", "--name", "Relief Org", "--data", dir)
	if code != ExitOK {
		t.Fatalf("org new: exit %d %s", code, errOut)
	}
	password := strings.TrimSpace(out)
	host := strings.TrimSuffix(strings.TrimPrefix(demoDID, "did:web:"), ":orgs:demo")
	if !strings.Contains(errOut, "did:web:"+host+":orgs:relief") || strings.Contains(errOut, password) {
		t.Fatalf("org new said: %s", errOut)
	}

	m, _, stderr := startMain(t, dir)
	defer m.Close()
	b := newBrowser(t, m.URL())
	if next := b.signInFirst("relief-admin", password); next != "/issuer/" {
		t.Fatalf("relief's administrator: to %s", next)
	}
	code, _, page := b.send("GET", "/admin/organisation", "", "")
	if code != 200 || !strings.Contains(page, "Relief Org") || !strings.Contains(page, "did:web:"+host+":orgs:relief") || strings.Contains(page, ":orgs:demo") {
		t.Fatalf("relief's settings page: %d", code)
	}
	if code, _, doc := b.send("GET", "/orgs/relief/did.json", "", ""); code != 200 || !strings.Contains(doc, `"id":"did:web:`+host+`:orgs:relief"`) {
		t.Fatalf("relief's DID document: %d %s", code, doc)
	}
	if strings.Contains(stderr.String(), password) {
		t.Fatal("the one-time password reached the logs")
	}
}
