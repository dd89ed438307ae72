package verifier_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// heavyPackages are what an embedder verifying cards and JWTs must not
// carry: a JSON-LD processor, vc-go, and the pairing-curve code its DID
// packages bring, whose initialisation alone cost 22 ms.
var heavyPackages = []string{
	"github.com/piprate/json-gold", "github.com/trustbloc/", "github.com/IBM/mathlib",
	"github.com/consensys/gnark", "github.com/hyperledger/", "github.com/kilic/bls12-381",
	"github.com/labstack/echo", "go.etcd.io/bbolt", "github.com/tally-id/tally/internal/",
}

// The library's import graph: nothing heavy, no adapter.
func TestVerifierDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/tally-id/tally/verifier").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, heavy := range heavyPackages {
			if strings.HasPrefix(pkg, heavy) {
				t.Errorf("package verifier depends on %s", pkg)
			}
		}
	}
}

// An embedder's program (internal/embedprobe) verifies a card and a
// VC-JWT with a 1,000-issuer trust list. Its package initialisation adds
// up from GODEBUG=inittrace; no heavy package initialises. The figures are
// logged (go test -v -run TestEmbedderFootprint ./verifier), not asserted
// as times: these machines are noisy.
func TestEmbedderFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "embedprobe")
	if out, err := exec.Command("go", "build", "-o", bin, "../internal/embedprobe").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("embedprobe: %v\n%s", err, stderr.String())
	}
	var r struct {
		NewVerifierMicros float64 `json:"newVerifierMicros"`
		FirstVerifyMicros float64 `json:"firstVerifyMicros"`
		HeapAfterVerifyMB float64 `json:"heapAfterVerifyMB"`
		HeapAfterTrustMB  float64 `json:"heapAfterTrustMB"`
		VerifiedCard      bool    `json:"verifiedCard"`
		VerifiedJWT       bool    `json:"verifiedJWT"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("embedprobe printed %q: %v", stdout.String(), err)
	}
	if !r.VerifiedCard || !r.VerifiedJWT {
		t.Fatalf("the probe did not verify: %+v", r)
	}
	inits, initMillis := 0, 0.0
	for _, line := range strings.Split(stderr.String(), "\n") {
		// init PKG @T ms, D ms clock, B bytes, A allocs
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "init" {
			continue
		}
		for _, heavy := range heavyPackages {
			if strings.HasPrefix(f[1], heavy) {
				t.Errorf("%s initialises in an embedder's program", f[1])
			}
		}
		if d, err := strconv.ParseFloat(f[4], 64); err == nil {
			inits++
			initMillis += d
		}
	}
	if inits == 0 {
		t.Fatalf("no init trace in %q", stderr.String())
	}
	t.Logf("embedder: %d packages initialise in %.2f ms; New %.0f µs; first verification %.0f µs; heap %.1f MB with 1,000 trusted issuers, %.1f MB after verifying",
		inits, initMillis, r.NewVerifierMicros, r.FirstVerifyMicros, r.HeapAfterTrustMB, r.HeapAfterVerifyMB)
}
