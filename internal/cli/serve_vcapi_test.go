package cli

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// TestServeVCAPIOpen: tally serve with the VC API opened for a
// conformance run issues without credentials as the first organisation,
// and says so in its log; the flag is refused on a non-loopback address.
func TestServeVCAPIOpen(t *testing.T) {
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.VCAPIOpen = "127.0.0.1:0", t.TempDir(), true
	stderr := &lockedBuffer{}
	m := &Main{Config: cfg, Stdout: io.Discard, Stderr: stderr,
		passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	host := strings.TrimPrefix(m.URL(), "http://")
	did := "did:web:" + strings.ReplaceAll(host, ":", "%3A") + ":orgs:demo"
	body := `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],` +
		`"type":["VerifiableCredential","ExampleCredential"],"issuer":"` + did + `","credentialSubject":{"id":"did:example:1","name":"Test"}},` +
		`"options":{"credentialStatus":{"type":"BitstringStatusListEntry"}}}`
	res, err := http.Post(m.URL()+"/credentials/issue", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(out), `"statusListCredential":"`+m.URL()+`/status/demo/revocation/0"`) {
		t.Fatalf("%d %s", res.StatusCode, out)
	}
	if !strings.Contains(stderr.String(), "the VC API is open") {
		t.Fatalf("no warning in the log: %s", stderr)
	}

	cfg.Addr, cfg.DataDir = "0.0.0.0:0", t.TempDir()
	refused := &Main{Config: cfg}
	err = refused.Run(context.Background())
	refused.Close()
	if err == nil || !strings.Contains(err.Error(), "--vc-api-open") {
		t.Fatalf("opened on every interface: %v", err)
	}
}
