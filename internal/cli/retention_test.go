package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// fakeClock is a clock the test moves while the server reads it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func startMainAt(t *testing.T, dir string, clock *fakeClock) (*Main, *lockedBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr, Now: clock.Now,
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	return m, stdout
}

// TestRetention: registrations whose programme's 24 months are over are
// erased by tally issuer retention (after a dry run that erases nothing)
// with the server stopped, and by the server's own sweep at start; the
// audit log records each erasure, and no name.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	m, stdout := startMainAt(t, dir, clock)
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	_, _, page := admin.postForm("/admin/staff", "name", "Rania Registrar", "username", "rania", "role", "registrar")
	password := pagePassword.FindStringSubmatch(page)[1]
	registrar := newBrowser(t, m.URL())
	registrar.signInFirst("rania", password)
	register := func(name, dob string) string {
		code, h, _ := registrar.postForm("/issuer/register", "programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal",
			"consent.language", "so", "fullName", name, "dateOfBirth", dob)
		if code != 303 {
			t.Fatalf("register %s: %d", name, code)
		}
		loc, _, _ := strings.Cut(h.Get("Location"), "?")
		return loc
	}
	fatima := register("Fatima Hassan Abdi", "1991-03-14")
	clock.Set(t0.AddDate(0, 6, 0))
	if code, _, _ := registrar.postForm("/signin", "username", "rania", "password", chosenPassword("rania")); code != 303 {
		t.Fatalf("registrar signs in again: %d", code)
	}
	omar := register("Omar Ismail Farah", "1980-01-01")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	env := testEnv()
	env.Now = func() time.Time { return t0.AddDate(0, 24, 1) }
	fatimaID := strings.TrimPrefix(fatima, "/issuer/registrations/")
	code, out, errOut := runIn2(t, env, "issuer", "retention", "--dry-run", "--data", dir)
	if code != 0 || !strings.Contains(out, "would erase demo/"+fatimaID) || !strings.Contains(out, "would erase 1") {
		t.Fatalf("dry run: %d %s %s", code, out, errOut)
	}
	if _, again, _ := runIn2(t, env, "issuer", "retention", "--dry-run", "--data", dir); again != out {
		t.Fatalf("a dry run changed something: %s", again)
	}
	code, out, errOut = runIn2(t, env, "issuer", "retention", "--data", dir)
	if code != 0 || !strings.Contains(out, "erased demo/"+fatimaID) || !strings.Contains(out, "erased 1") {
		t.Fatalf("retention: %d %s %s", code, out, errOut)
	}
	code, out, _ = runIn2(t, env, "audit", "export", "--data", dir)
	if code != 0 || !strings.Contains(out, `"Action":"erase"`) && !strings.Contains(out, `"action":"erase"`) || strings.Contains(out, "Fatima") {
		t.Fatalf("audit export: %d %s", code, out)
	}

	// Started 31 months on, the server erases Omar's by itself.
	clock.Set(t0.AddDate(0, 31, 0))
	m, _ = startMainAt(t, dir, clock)
	defer m.Close()
	registrar = newBrowser(t, m.URL())
	if code, _, _ := registrar.postForm("/signin", "username", "rania", "password", chosenPassword("rania")); code != 303 {
		t.Fatalf("registrar signs in again: %d", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, page := registrar.send("GET", omar, "", "")
		if strings.Contains(page, "Registration erased") && !strings.Contains(page, "Omar") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Omar's registration was not erased by the server's sweep: %.500s", page)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, page := registrar.send("GET", fatima, "", ""); !strings.Contains(page, "Registration erased") || strings.Contains(page, "Fatima") {
		t.Fatal("Fatima's page after erasure")
	}
}

// TestSignedAnchor: an administrator fetches the signed anchor while the
// server runs; with it stopped, tally audit verify --anchor checks the
// chain against it and its signature against the organisation's key, and
// refuses it altered.
func TestSignedAnchor(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	m, stdout := startMainAt(t, dir, clock)
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	code, _, body := admin.send("GET", "/api/v1/orgs/demo/audit/anchor", "", "")
	var got struct {
		JWS string `json:"jws"`
	}
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.JWS == "" {
		t.Fatalf("anchor: %d %s", code, body)
	}
	code, _, page := admin.send("GET", "/admin/audit?verify=1", "", "")
	if code != 200 || !strings.Contains(page, "The chain is intact") {
		t.Fatalf("the audit page's verification: %d", code)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "anchors.txt")
	if err := os.WriteFile(file, []byte(got.JWS+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runIn2(t, testEnv(), "audit", "verify", "--data", dir, "--anchor", file)
	if code != 0 || !strings.Contains(out, "signed:    1") || !strings.Contains(out, "OK") {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	// The signature altered: refused.
	altered := []byte(got.JWS)
	i := len(altered) - 10
	if altered[i] == 'A' {
		altered[i] = 'B'
	} else {
		altered[i] = 'A'
	}
	if err := os.WriteFile(file, append(altered, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runIn2(t, testEnv(), "audit", "verify", "--data", dir, "--anchor", file)
	if code != 1 || !strings.Contains(errOut, "not signed by any key") {
		t.Fatalf("an altered signed anchor: %d %s", code, errOut)
	}
}

// TestSignedAnchorCompromisedKey: once the key that signed an anchor is
// declared compromised, tally audit verify --anchor refuses the anchor
// (whoever holds the key could have signed it over a rewritten log), and
// says to fetch a new one, which is signed by the new key and checks.
func TestSignedAnchorCompromisedKey(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	m, stdout := startMainAt(t, dir, clock)
	admin := newBrowser(t, m.URL())
	admin.signInFirst("admin", firstPassword.FindStringSubmatch(stdout.String())[1])
	anchor := func() string {
		t.Helper()
		code, _, body := admin.send("GET", "/api/v1/orgs/demo/audit/anchor", "", "")
		var got struct {
			JWS string `json:"jws"`
		}
		if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.JWS == "" {
			t.Fatalf("anchor: %d %s", code, body)
		}
		return got.JWS
	}
	old := anchor()
	code, _, body := admin.send("GET", "/api/v1/orgs/demo/keys", "", "")
	var keys struct {
		Keys []struct {
			Fragment string `json:"fragment"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &keys); code != 200 || err != nil || len(keys.Keys) != 1 {
		t.Fatalf("keys: %d %s", code, body)
	}
	if code, _, body := admin.send("POST", "/api/v1/orgs/demo/keys/"+keys.Keys[0].Fragment+"/compromise", "application/json",
		`{"reason":"a backup of the server was lost","confirm":true}`); code != 200 {
		t.Fatalf("compromise: %d %s", code, body)
	}
	fresh := anchor()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "anchors.txt")
	verify := func(jws string) (int, string, string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(jws+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return runIn2(t, testEnv(), "audit", "verify", "--data", dir, "--anchor", file)
	}
	if code, out, errOut := verify(old); code != 1 || !strings.Contains(errOut, "declared compromised") {
		t.Fatalf("an anchor signed by the compromised key: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := verify(fresh); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("a new anchor: %d %s %s", code, out, errOut)
	}
}
