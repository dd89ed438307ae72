package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/cli"
	"github.com/tally-id/tally/internal/qrtest"
	"github.com/tally-id/tally/verifier"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// testPassphrase is the passphrase testEnv gives through the environment.
const testPassphrase = "a test passphrase, long enough"

// testEnv is the environment the tests run the command line in: no
// terminal, the passphrase in $TALLY_PASSPHRASE, the samples' clock, and
// key files sealed at the lowest scrypt cost (and opened at it), so that
// the suite stays fast. Production runs (OSEnv) seal and require 2^17.
func testEnv() cli.Env {
	return cli.Env{
		Getenv: func(k string) string {
			if k == cli.PassphraseEnv {
				return testPassphrase
			}
			return ""
		},
		Now:     func() time.Time { return testNow },
		ScryptN: credentials.LowestScryptN,
	}
}

// run runs the command line in testEnv and returns its exit code and
// outputs.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, testEnv(), stdin, args...)
}

// runIn runs the command line in env, with stdin and fresh outputs.
func runIn(t *testing.T, env cli.Env, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env.Stdin, env.Stdout, env.Stderr = strings.NewReader(stdin), &out, &errOut
	code := cli.Run(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, "", args...)
	if code != 0 {
		t.Fatalf("tally %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func sample(name string) string { return filepath.Join("..", "..", "testdata", "samples", name) }

func TestIssueAndVerifyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "org-a.key")
	trust := filepath.Join(dir, "trust.json")
	out := mustRun(t, "keys", "new", "--did", "web:org-a.example", "--out", key)
	if !strings.Contains(out, "did:web:org-a.example") {
		t.Fatalf("keys new: %s", out)
	}
	if data, _ := os.ReadFile(key); strings.Contains(string(data), `"d"`) {
		t.Fatal("the key file holds a private JWK in the clear")
	}
	mustRun(t, "trust", "add", "--trust", trust, "--key", key, "--name", "Organisation A")
	domainKey := filepath.Join(dir, "domain.key")
	mustRun(t, "dedup-key", "new", "--out", domainKey)

	tokens := map[string]string{}
	for _, format := range []string{"qr", "jwt", "sd-jwt", "di"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"issue", "--key", key, "--in", sample("registration.json"), "--format", format}
			png := filepath.Join(dir, "card.png")
			if format == "qr" {
				args = append(args, "--png", png)
			}
			cred := strings.TrimSpace(mustRun(t, args...))
			file := filepath.Join(dir, format+".txt")
			if out := mustRun(t, "issue", "--key", key, "--in", sample("registration.json"), "--format", format, "--out", file); out != "" {
				t.Fatalf("--out also printed %q", out)
			}
			wantMode(t, file, 0o600)
			if data, _ := os.ReadFile(file); !strings.HasPrefix(string(data), cred[:20]) {
				t.Fatalf("--out wrote %q", data)
			}
			if err := os.WriteFile(file, []byte(cred), 0o600); err != nil {
				t.Fatal(err)
			}
			if format == "qr" {
				if got := decodeQR(t, png); got != cred {
					t.Fatalf("the PNG decodes to %q, not the card", got)
				}
				wantMode(t, png, 0o600)
				// A card image written over one others could read is
				// private too.
				if err := os.Chmod(png, 0o644); err != nil {
					t.Fatal(err)
				}
				mustRun(t, args...)
				wantMode(t, png, 0o600)
			}
			out := mustRun(t, "verify", "--trust", trust, "--offline", "--dedup-key", domainKey, "--domain", "dadaab", file)
			if !strings.Contains(out, "VALID RegistrationCredential ("+format+")") || !strings.Contains(out, "Organisation A") {
				t.Fatalf("verify: %s", out)
			}
			i := strings.Index(out, "dedup token: ")
			if i < 0 {
				t.Fatalf("no dedup token: %s", out)
			}
			tokens[format] = out[i+13 : i+13+26]

			// From standard input too.
			code, _, _ := run(t, cred, "verify", "--trust", trust, "--offline", "-")
			if code != 0 {
				t.Fatalf("verify from stdin: exit %d", code)
			}
		})
	}
	// Each issue drew a new seed: different people as far as tally knows.
	if tokens["qr"] == tokens["jwt"] {
		t.Fatal("two separately issued credentials share a token")
	}

	// A tampered card: exit 1, the reason on stderr.
	card, _ := os.ReadFile(filepath.Join(dir, "qr.txt"))
	card[len(card)/2] ^= 0x01
	if !bytes.ContainsRune([]byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"), rune(card[len(card)/2])) {
		card[len(card)/2] = 'A'
	}
	bad := filepath.Join(dir, "bad.txt")
	_ = os.WriteFile(bad, card, 0o600)
	code, _, errOut := run(t, "", "verify", "--trust", trust, "--offline", bad)
	if code != 1 || !strings.HasPrefix(errOut, "INVALID: ") {
		t.Fatalf("tampered card: exit %d, stderr %q", code, errOut)
	}

	// qr size: the registration card fits version 13 at level Q.
	out = mustRun(t, "qr", "size", "--key", key, "--in", sample("registration.json"))
	if !strings.Contains(out, "fits the version 13 budget") {
		t.Fatalf("qr size: %s", out)
	}
}

func decodeQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrtest.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	return res.GetText()
}

func TestSignedTrustListFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "org.key")
	anchor := filepath.Join(dir, "consortium.key")
	trust := filepath.Join(dir, "trust.json")
	signed := filepath.Join(dir, "trust.jws")
	mustRun(t, "keys", "new", "--out", key)
	mustRun(t, "keys", "new", "--alg", "p256", "--out", anchor)
	mustRun(t, "trust", "add", "--trust", trust, "--key", key, "--types", "EligibilityCredential")
	mustRun(t, "trust", "sign", "--trust", trust, "--key", anchor, "--out", signed)
	cred := filepath.Join(dir, "elig.txt")
	_ = os.WriteFile(cred, []byte(mustRun(t, "issue", "--key", key, "--in", sample("eligibility.json"), "--format", "jwt")), 0o600)
	mustRun(t, "verify", "--trust", signed, "--anchor", anchor, "--offline", cred)

	// Without the anchor, a signed list is not taken on faith.
	if code, _, errOut := run(t, "", "verify", "--trust", signed, "--offline", cred); code != 1 || !strings.Contains(errOut, "no trust anchor") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// A registration is not a type this issuer may issue.
	reg := filepath.Join(dir, "reg.txt")
	_ = os.WriteFile(reg, []byte(mustRun(t, "issue", "--key", key, "--in", sample("registration.json"), "--format", "qr")), 0o600)
	code, _, errOut := run(t, "", "verify", "--trust", signed, "--anchor", anchor, "--offline", reg)
	if code != 1 || !strings.Contains(errOut, "type not allowed") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestKeysShow(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	mustRun(t, "keys", "new", "--did", "web:org-a.example", "--out", key)
	if out := mustRun(t, "keys", "show", key, "--jwk"); !strings.Contains(out, `"kty": "OKP"`) || strings.Contains(out, `"d"`) {
		t.Fatalf("--jwk: %s", out)
	}
	if out := mustRun(t, "keys", "show", key, "--did-doc"); !strings.Contains(out, `"Multikey"`) || !strings.Contains(out, "assertionMethod") {
		t.Fatalf("--did-doc: %s", out)
	}
	if out := mustRun(t, "keys", "show", key); !strings.Contains(out, "https://org-a.example/.well-known/did.json") {
		t.Fatalf("show: %s", out)
	}
}

func TestCommandLineMistakes(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	mustRun(t, "keys", "new", "--out", key)
	trust := filepath.Join(dir, "trust.json")
	mustRun(t, "trust", "add", "--trust", trust, "--key", key)
	brokenJSON := filepath.Join(dir, "broken.json")
	_ = os.WriteFile(brokenJSON, []byte(`{"type":"RegistrationCredential","credentialSubject":{"registrationId":"X1","fullName":"A","shoeSize":44}}`), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"keys", "new", "--colour", "red"}, 2, "flag provided but not defined"},
		{"keys new without out", []string{"keys", "new"}, 2, "--out KEYFILE is required"},
		{"bad alg", []string{"keys", "new", "--alg", "rsa", "--out", filepath.Join(dir, "x")}, 2, "use ed25519 or p256"},
		{"existing key file", []string{"keys", "new", "--out", key}, 1, "already exists"},
		{"bad format", []string{"issue", "--key", key, "--in", sample("registration.json"), "--format", "pdf"}, 2, "unknown format"},
		{"png without qr", []string{"issue", "--key", key, "--in", sample("registration.json"), "--format", "jwt", "--png", "x.png"}, 2, "--png goes with --format qr"},
		{"unknown claim", []string{"issue", "--key", key, "--in", brokenJSON, "--format", "jwt"}, 1, "shoeSize"},
		{"missing input", []string{"issue", "--key", key, "--in", filepath.Join(dir, "nope.json"), "--format", "jwt"}, 1, "no such file"},
		{"verify without trust", []string{"verify", "x"}, 2, "--trust TRUSTFILE is required"},
		{"dedup key without domain", []string{"verify", "--trust", trust, "--dedup-key", key, "x"}, 2, "go together"},
		{"two inputs", []string{"verify", "--trust", trust, "a", "b"}, 2, "one credential"},
		{"garbage credential", []string{"verify", "--trust", trust, "--offline", brokenJSON}, 1, "INVALID"},
		{"trust add without issuer", []string{"trust", "add", "--trust", trust}, 2, "give the issuer"},
		{"did:web without jwk", []string{"trust", "add", "--trust", trust, "--did", "did:web:x.example"}, 2, "needs its public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d (want %d), output %q, want it to contain %q", code, tc.code, out+errOut, tc.want)
			}
		})
	}
	// Nothing changed the trust list.
	before, _ := os.ReadFile(trust)
	run(t, "", "trust", "add", "--trust", trust, "--did", "did:key:zBAD", "--types", "RegistrationCredential")
	after, _ := os.ReadFile(trust)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed trust add changed the trust list")
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	mustRun(t, "keys", "new", "--out", key)
	pass := filepath.Join(dir, "pass")
	_ = os.WriteFile(pass, []byte("not the passphrase at all\n"), 0o600)
	code, _, errOut := run(t, "", "issue", "--key", key, "--passphrase-file", pass, "--in", sample("eligibility.json"), "--format", "jwt")
	if code != 1 || !strings.Contains(errOut, "passphrase does not open") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo issues every format")
	}
	dir := filepath.Join(t.TempDir(), "demo", "out")
	out := mustRun(t, "demo", "--out", dir)
	for _, want := range []string{"VALID", "dedup token", "QR version", "changed:  credential rejected", "revoked", "untrusted issuer", "not presented:  credential rejected: bad presentation"} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Fatalf("the demo does not show %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "registration-card.png")); err != nil {
		t.Fatal(err)
	}
	// Every file holds personal data: owner only, in directories it made
	// for its owner only.
	wantMode(t, dir, os.ModeDir|0o700)
	wantMode(t, filepath.Dir(dir), os.ModeDir|0o700)
	files, err := os.ReadDir(dir)
	if err != nil || len(files) < 7 {
		t.Fatalf("the demo wrote %d files: %v", len(files), err)
	}
	for _, f := range files {
		wantMode(t, filepath.Join(dir, f.Name()), 0o600)
	}
}

// An SD-JWT bound to a wallet is refused unless presented; --allow-unbound
// lets a stored issuance token be re-checked, with a warning.
func TestVerifyHolderBoundSDJWT(t *testing.T) {
	dir := t.TempDir()
	key, wallet := filepath.Join(dir, "org.key"), filepath.Join(dir, "wallet.key")
	trust := filepath.Join(dir, "trust.json")
	mustRun(t, "keys", "new", "--out", key)
	mustRun(t, "keys", "new", "--out", wallet)
	walletJWK := filepath.Join(dir, "wallet.jwk")
	if err := os.WriteFile(walletJWK, []byte(mustRun(t, "keys", "show", wallet, "--jwk")), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "trust", "add", "--trust", trust, "--key", key)
	cred := filepath.Join(dir, "bound.txt")
	out := mustRun(t, "issue", "--key", key, "--in", sample("registration.json"), "--format", "sd-jwt", "--holder", walletJWK)
	if err := os.WriteFile(cred, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "", "verify", "--trust", trust, "--offline", cred)
	if code != 1 || !strings.Contains(errOut, "bad presentation") || !strings.Contains(errOut, "ask the wallet for a presentation") {
		t.Fatalf("a bound SD-JWT shown without key binding: exit %d, %s", code, errOut)
	}
	out = mustRun(t, "verify", "--trust", trust, "--offline", "--allow-unbound", cred)
	if !strings.Contains(out, "VALID") || !strings.Contains(out, "WARNING: holder binding not checked") {
		t.Fatalf("--allow-unbound: %s", out)
	}
	code, _, errOut = run(t, "", "verify", "--trust", trust, "--allow-unbound", "--audience", "a", "--nonce", "n", cred)
	if code != 2 || !strings.Contains(errOut, "always checked in full") {
		t.Fatalf("--allow-unbound with a presentation: exit %d, %s", code, errOut)
	}
}

// wantMode checks a file's type and permission bits.
func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Fatalf("%s has mode %v, want %v", path, got, want)
	}
}

// A credential of a type tally does not define, from an issuer the trust
// list lets issue any type: verify shows its generic view.
func TestVerifyForeignCredential(t *testing.T) {
	dir := t.TempDir()
	signer, err := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := credentials.NewKey(signer, "did:web:university.example")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedIssuer("Example University", []credentials.Type{credentials.TypeAny}, k)
	if err != nil {
		t.Fatal(err)
	}
	list := verifier.NewTrustList("test")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	data, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(dir, "trust.json")
	if err := os.WriteFile(trust, data, 0o600); err != nil {
		t.Fatal(err)
	}
	payload := `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","TrainingCertificate"],` +
		`"issuer":"did:web:university.example","validUntil":"2027-01-01T00:00:00Z",` +
		`"credentialSubject":{"course":"Psychological first aid","hours":16}}`
	token, err := jws.Sign([]byte(payload), jws.WithKey(jwa.EdDSA, signer))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "foreign.jwt")
	if err := os.WriteFile(file, token, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "verify", "--trust", trust, "--offline", file)
	for _, want := range []string{"VALID VerifiableCredential, TrainingCertificate (jwt)", "Example University", "course:", "Psychological first aid", "2027-01-01"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify does not say %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "verify", "--trust", trust, "--offline", "--json", file)
	if !strings.Contains(out, `"view"`) || !strings.Contains(out, "TrainingCertificate") {
		t.Fatalf("verify --json: %s", out)
	}
}
