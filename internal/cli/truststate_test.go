package cli_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/cli"
	"github.com/tally-id/tally/verifier"
)

// The rollback state of signed trust lists kept beside the list file
// (TRUSTFILE.state) protects a path, not the verifier: the same older list,
// signed by the same anchor, would pass given under another name (a fresh
// copy on a USB stick, a download folder). A device keeps its state at one
// place (--trust-state, or TALLY_TRUST_STATE), and refuses the copy.
func TestOlderTrustListUnderAnotherName(t *testing.T) {
	// By default the state sits beside the list (TRUSTFILE.state), so it
	// protects a path; a device keeps one state file at a fixed place, given
	// by --trust-state (or TALLY_TRUST_STATE), and then a copy under another
	// name is refused too.
	dir := t.TempDir()
	s := newStatusSetup(t, dir)
	seed := sha256.Sum256([]byte("consortium"))
	anchor, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "")
	if err != nil {
		t.Fatal(err)
	}
	signed := func(at time.Time) []byte {
		out, err := verifier.SignTrustList(readTrust(t, s.trust), anchor, at, 30*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	current := filepath.Join(dir, "trust.jws")
	writeFile(t, current, signed(testNow.Add(-time.Hour)))
	state := filepath.Join(dir, "device", "trust-state.json")
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "", "verify", "--trust", current, "--trust-state", state, "--anchor", anchor.DID, "--offline", s.cred); code != 0 {
		t.Fatalf("the current list: exit %d\n%s%s", code, out, errOut)
	}
	// An attacker's copy of a list from before an issuer was removed.
	older := filepath.Join(dir, "copy-of-trust.jws")
	writeFile(t, older, signed(testNow.Add(-20*24*time.Hour)))
	if code, out, _ := run(t, "", "verify", "--trust", older, "--trust-state", state, "--anchor", anchor.DID, "--offline", s.cred); code == 0 {
		t.Fatalf("a list older than one this verifier accepted passed under another name:\n%s", out)
	}
	// The same through the environment.
	env := testEnv()
	env.Getenv = func(k string) string {
		if k == cli.TrustStateEnv {
			return state
		}
		return testEnv().Getenv(k)
	}
	if code, out, _ := runIn(t, env, "", "verify", "--trust", older, "--anchor", anchor.DID, "--offline", s.cred); code == 0 {
		t.Fatalf("with TALLY_TRUST_STATE, a list older than one this verifier accepted passed:\n%s", out)
	}
}
