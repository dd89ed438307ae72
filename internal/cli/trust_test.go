package cli_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// trust add names an issuer by DID or by https URI (with its JWK), with any
// credential types or '*'; adding a key to an issuer listed adds the key.
func TestTrustAddIssuerByURI(t *testing.T) {
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust.json")
	const uri = "https://id.example/issuer"
	jwk1 := filepath.Join(dir, "k1.jwk")
	jwk2 := filepath.Join(dir, "k2.jwk")
	writeFile(t, jwk1, []byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"key-2024"}`))
	writeFile(t, jwk2, []byte(`{"kty":"OKP","crv":"Ed25519","x":"`+strings.Repeat("A", 42)+`w"}`))

	out := mustRun(t, "trust", "add", "--trust", trust, "--issuer", uri, "--jwk", jwk1, "--types", "*", "--name", "National ID")
	if !strings.Contains(out, "now trusts "+uri) {
		t.Fatalf("trust add: %s", out)
	}
	mustRun(t, "trust", "add", "--trust", trust, "--issuer", uri, "--jwk", jwk2, "--types", "*")
	key := filepath.Join(dir, "org.key")
	mustRun(t, "keys", "new", "--out", key)
	mustRun(t, "trust", "add", "--trust", trust, "--key", key, "--types", "PassportCredential, https://example.org/vct/pid")

	list := readTrust(t, trust)
	iss, ok := list.Issuer(uri)
	if !ok || len(iss.PublicKeys()) != 2 || !iss.MayIssue("AnyCredential") || iss.Name != "National ID" {
		t.Fatalf("URI issuer: %+v", iss)
	}
	if len(list.Issuers) != 2 || !list.Issuers[1].MayIssue("https://example.org/vct/pid") || list.Issuers[1].MayIssue("RegistrationCredential") {
		t.Fatalf("DID issuer: %+v", list.Issuers[1])
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"uri without jwk", []string{"--issuer", uri}, "needs its public key by --jwk"},
		{"uri and did", []string{"--issuer", uri, "--jwk", jwk1, "--did", "did:web:x.example"}, "and nothing else"},
		{"http uri", []string{"--issuer", "http://id.example/issuer", "--jwk", jwk1}, "not an https URL"},
		{"type with a space", []string{"--key", key, "--types", "Passport Credential"}, "not a credential type"},
		{"no type", []string{"--key", key, "--types", ""}, "not a credential type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"trust", "add", "--trust", trust}, tc.args...)...)
			if code == 0 || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d, output %q, want it to contain %q", code, out+errOut, tc.want)
			}
		})
	}
}

func readTrust(t *testing.T, path string) *verifier.TrustList {
	t.Helper()
	data := readFile(t, path)
	list, err := verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// verify keeps, beside a signed trust list, the date of the newest list
// accepted from its anchor, and refuses an older one; a list issued in the
// future is refused too.
func TestVerifyRefusesOlderTrustList(t *testing.T) {
	dir := t.TempDir()
	s := newStatusSetup(t, dir)
	seed := sha256.Sum256([]byte("consortium"))
	anchor, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "")
	if err != nil {
		t.Fatal(err)
	}
	signed := func(at time.Time) []byte {
		list := readTrust(t, s.trust)
		out, err := verifier.SignTrustList(list, anchor, at, 30*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	trust := filepath.Join(dir, "trust.jws")
	state := trust + ".state"
	verify := func(list []byte) (int, string) {
		writeFile(t, trust, list)
		code, out, errOut := run(t, "", "verify", "--trust", trust, "--anchor", anchor.DID, "--offline", s.cred)
		return code, out + errOut
	}

	if code, out := verify(signed(testNow.Add(-time.Hour))); code != 0 {
		t.Fatalf("the current list: exit %d\n%s", code, out)
	}
	info, err := os.Stat(state)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the state file: %v %v", err, info)
	}
	code, out := verify(signed(testNow.Add(-48 * time.Hour)))
	if code != 1 || !strings.Contains(out, "older than a list from the same trust anchor") || !strings.Contains(out, state) {
		t.Fatalf("an older list: exit %d\n%s", code, out)
	}
	code, out = verify(signed(testNow.Add(time.Hour)))
	if code != 1 || !strings.Contains(out, "issued later than now") {
		t.Fatalf("a list from the future: exit %d\n%s", code, out)
	}
	// A newer list moves the state on; removing the state lets an older
	// list through, on purpose.
	if code, out := verify(signed(testNow)); code != 0 {
		t.Fatalf("a newer list: exit %d\n%s", code, out)
	}
	if code, _ := verify(signed(testNow.Add(-30 * time.Minute))); code != 1 {
		t.Fatal("the state did not move on to the newer list")
	}
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(signed(testNow.Add(-48 * time.Hour))); code != 0 {
		t.Fatalf("without the state file: exit %d\n%s", code, out)
	}
}
