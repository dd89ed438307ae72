package cli_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/internal/cli"
)

// A key file sealed at less than 2^17 (as tally sealed them before, and as
// the tests do) is refused by a production run, which says how to re-seal
// it; keys reseal does, keeping the key and its passphrase. The re-seal is
// the one 2^17 scrypt operation of this package's tests.
func TestKeyFileCostAndReseal(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "org.key")
	out := mustRun(t, "keys", "new", "--did", "web:org-a.example", "--out", key)
	prod := testEnv()
	prod.ScryptN = 0 // what OSEnv gives: the default cost

	code, _, errOut := runIn(t, prod, "", "issue", "--key", key, "--in", sample("eligibility.json"), "--format", "jwt")
	if code != 1 || !strings.Contains(errOut, "N=1024") || !strings.Contains(errOut, "tally keys reseal "+key) {
		t.Fatalf("a cheap key file in production: exit %d, %s", code, errOut)
	}
	if _, show, _ := runIn(t, prod, "", "keys", "show", key); !strings.Contains(show, "scrypt N=1024") || !strings.Contains(show, "keys reseal") {
		t.Fatalf("keys show does not say the seal is weak: %s", show)
	}

	code, resealed, errOut := runIn(t, prod, "", "keys", "reseal", key)
	if code != 0 || !strings.Contains(resealed, "N=131072 (was 1024)") {
		t.Fatalf("keys reseal: exit %d, %s%s", code, resealed, errOut)
	}
	wantMode(t, key, 0o600)
	_, show, _ := runIn(t, prod, "", "keys", "show", key)
	if !strings.Contains(show, "scrypt N=131072") || strings.Contains(show, "reseal") || !strings.Contains(out, "did:web:org-a.example") || !strings.Contains(show, "did:web:org-a.example") {
		t.Fatalf("after reseal: %s", show)
	}
	// The production run would now open it (not tried: another 2^17).
	if code, _, errOut := runIn(t, prod, "", "keys", "reseal", filepath.Join(dir, "nope.key")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("reseal of a missing file: exit %d, %s", code, errOut)
	}
}

// keys reseal can change the passphrase, and refuses to keep one the rule
// no longer accepts.
func TestResealNewPassphrase(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "org.key")
	mustRun(t, "keys", "new", "--out", key)
	newPass := filepath.Join(dir, "new-pass")
	writePrivate(t, newPass, "river lantern cobalt pepper\n")
	mustRun(t, "keys", "reseal", key, "--new-passphrase-file", newPass)
	// The old passphrase no longer opens it; the new one does.
	if code, _, errOut := run(t, "", "issue", "--key", key, "--in", sample("eligibility.json"), "--format", "jwt"); code != 1 || !strings.Contains(errOut, "passphrase does not open") {
		t.Fatalf("the old passphrase: exit %d, %s", code, errOut)
	}
	mustRun(t, "issue", "--key", key, "--passphrase-file", newPass, "--in", sample("eligibility.json"), "--format", "jwt")

	weak := filepath.Join(dir, "weak")
	writePrivate(t, weak, "aaaaaaaaaaaaaaaa")
	code, _, errOut := run(t, "", "keys", "reseal", key, "--passphrase-file", newPass, "--new-passphrase-file", weak)
	if code != 1 || !strings.Contains(errOut, "one character repeated") {
		t.Fatalf("a weak new passphrase: exit %d, %s", code, errOut)
	}
}

// The passphrase comes from --passphrase-file, else the terminal, else
// $TALLY_PASSPHRASE; a new one must pass the rule.
func TestPassphraseSources(t *testing.T) {
	dir := t.TempDir()
	issueArgs := func(key string, more ...string) []string {
		return append([]string{"issue", "--key", key, "--in", sample("eligibility.json"), "--format", "jwt"}, more...)
	}

	t.Run("file readable by others: a warning", func(t *testing.T) {
		pass := filepath.Join(dir, "shared-pass")
		writePrivate(t, pass, "a passphrase in a file\n")
		if err := os.Chmod(pass, 0o644); err != nil {
			t.Fatal(err)
		}
		key := filepath.Join(dir, "file.key")
		code, _, errOut := run(t, "", "keys", "new", "--out", key, "--passphrase-file", pass)
		if code != 0 || !strings.Contains(errOut, "can be read by other users") || !strings.Contains(errOut, "chmod 600 "+pass) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if err := os.Chmod(pass, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut = run(t, "", issueArgs(key, "--passphrase-file", pass)...)
		if code != 0 || strings.Contains(errOut, "warning") {
			t.Fatalf("a private passphrase file: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("terminal before the environment", func(t *testing.T) {
		term := testEnv() // $TALLY_PASSPHRASE is set, and not used
		typed := []string{"river lantern cobalt pepper", "river lantern cobalt pepper"}
		term.ReadPassword = func() ([]byte, error) {
			if len(typed) == 0 {
				return nil, errors.New("no more input")
			}
			p := typed[0]
			typed = typed[1:]
			return []byte(p), nil
		}
		key := filepath.Join(dir, "term.key")
		code, _, errOut := runIn(t, term, "", "keys", "new", "--out", key)
		if code != 0 || !strings.Contains(errOut, "New passphrase: ") || !strings.Contains(errOut, "The same passphrase again: ") {
			t.Fatalf("keys new on a terminal: exit %d, stderr %q", code, errOut)
		}
		if strings.Contains(errOut, "river") {
			t.Fatal("the passphrase was echoed")
		}
		// The environment's passphrase does not open it; the typed one does.
		if code, _, errOut := run(t, "", issueArgs(key)...); code != 1 || !strings.Contains(errOut, "passphrase does not open") {
			t.Fatalf("$%s opened a key sealed with the typed passphrase: exit %d, %s", cli.PassphraseEnv, code, errOut)
		}
		typed = []string{"river lantern cobalt pepper"}
		code, _, errOut = runIn(t, term, "", issueArgs(key)...)
		if code != 0 || !strings.Contains(errOut, "Passphrase of the key file "+key) {
			t.Fatalf("issue on a terminal: exit %d, stderr %q", code, errOut)
		}

		typed = []string{"river lantern cobalt pepper", "river lantern cobalt peppre"}
		code, _, errOut = runIn(t, term, "", "keys", "new", "--out", filepath.Join(dir, "typo.key"))
		if code != 1 || !strings.Contains(errOut, "the two passphrases differ") {
			t.Fatalf("a typo: exit %d, stderr %q", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "typo.key")); !os.IsNotExist(err) {
			t.Fatal("a key file was written after a typo")
		}
	})

	t.Run("no source", func(t *testing.T) {
		none := testEnv()
		none.Getenv = func(string) string { return "" }
		code, _, errOut := runIn(t, none, "", "keys", "new", "--out", filepath.Join(dir, "none.key"))
		if code != 1 || !strings.Contains(errOut, "--passphrase-file") || !strings.Contains(errOut, "terminal") || !strings.Contains(errOut, cli.PassphraseEnv) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	for _, tc := range []struct{ pass, want string }{
		{"tiny one", "shorter than 12 characters"},
		{"zzzzzzzzzzzzzzzz", "one character repeated"},
		{"abcdefghijklmnop", "consecutive characters"},
		{"9876543210987654", "consecutive characters"},
		{"abcabcabcabcabc", "different characters"},
	} {
		t.Run("weak: "+tc.pass, func(t *testing.T) {
			weak := testEnv()
			weak.Getenv = func(k string) string {
				if k == cli.PassphraseEnv {
					return tc.pass
				}
				return ""
			}
			key := filepath.Join(dir, "weak.key")
			code, _, errOut := runIn(t, weak, "", "keys", "new", "--out", key)
			if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "unrelated words") || strings.Contains(errOut, tc.pass) {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if _, err := os.Stat(key); !os.IsNotExist(err) {
				t.Fatal("a key file was written with a weak passphrase")
			}
		})
	}
}

func writePrivate(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
