package cli_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// statusSetup is an issuer with a plain trust list, a VC-JWT with status
// entries, and that issuer's revocation and suspension lists, in dir.
type statusSetup struct {
	key   *credentials.Key
	trust string
	cred  string
	lists map[string]*credentials.StatusList
}

const statusBase = "https://org-a.example/status"

func newStatusSetup(t *testing.T, dir string) *statusSetup {
	t.Helper()
	seed := sha256.Sum256([]byte("org-a"))
	key, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "did:web:org-a.example")
	if err != nil {
		t.Fatal(err)
	}
	s := &statusSetup{key: key, trust: filepath.Join(dir, "trust.json"), cred: filepath.Join(dir, "cred.jwt"), lists: map[string]*credentials.StatusList{}}
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), key)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = statusBase
	trust := verifier.NewTrustList("test")
	if err := trust.Add(iss); err != nil {
		t.Fatal(err)
	}
	data, _ := trust.Marshal()
	writeFile(t, s.trust, data)

	raw, err := os.ReadFile(sample("registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries(statusBase, 3, 94567)
	if err := credentials.Prepare(&c, key.DID, nil); err != nil {
		t.Fatal(err)
	}
	jwt, err := credentials.IssueJWT(&c, key, testNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.cred, []byte(jwt))
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		path := credentials.StatusListPath(p, 3)
		l, err := credentials.NewStatusList(statusBase+"/"+path, key.DID, p, credentials.MinStatusListSize)
		if err != nil {
			t.Fatal(err)
		}
		s.lists[p] = l
	}
	return s
}

// listFile writes the list of purpose, signed at signedAt, to a file whose
// modification time is mtime, and returns its path.
func (s *statusSetup) listFile(t *testing.T, dir, purpose string, signedAt, mtime time.Time) string {
	t.Helper()
	body, err := credentials.IssueStatusList(s.lists[purpose], s.key, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, purpose+"-"+signedAt.Format("150405")+".jwt")
	writeFile(t, path, body)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// --status-list takes a list's age from its signature, not from the file:
// a list signed an hour ago is an hour old whatever the file's time says.
func TestVerifyStatusListFileAge(t *testing.T) {
	dir := t.TempDir()
	s := newStatusSetup(t, dir)
	verify := func(signedAt, mtime time.Time) (int, string) {
		args := []string{"verify", "--trust", s.trust, "--offline", "--max-status-age", "24h"}
		for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
			args = append(args, "--status-list", s.listFile(t, dir, p, signedAt, mtime))
		}
		code, out, errOut := run(t, "", append(args, s.cred)...)
		return code, out + errOut
	}
	// Signed an hour ago, copied with a file time of three days ago.
	if code, out := verify(testNow.Add(-time.Hour), testNow.Add(-72*time.Hour)); code != 0 || !strings.Contains(out, "VALID") {
		t.Fatalf("a list signed an hour ago was taken for the file's age: exit %d\n%s", code, out)
	}
	// Signed three days ago, in a file written just now.
	code, out := verify(testNow.Add(-72*time.Hour), testNow)
	if code != 1 || !strings.Contains(out, "status unavailable") || !strings.Contains(out, "3 days old") {
		t.Fatalf("a list signed three days ago passed for fresh: exit %d\n%s", code, out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
