package cli

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// BenchmarkIdleMemory measures what DESIGN.md's target names: the resident
// memory of an idle verifier service (the real tally binary, built here)
// with a signed 1,000-issuer trust list. It reports the VmRSS of the
// process after it has served a few requests and sat idle, once for
// `tally verifier` and once for `tally serve`. Run by make bench.
func BenchmarkIdleMemory(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "tally")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/tally").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	trust, anchor := thousandIssuers(b, dir)
	for _, service := range []string{"verifier", "serve"} {
		b.Run(service, func(b *testing.B) {
			var rss float64
			for range b.N {
				rss = idleRSS(b, bin, service, filepath.Join(dir, service+"-data"), trust, anchor)
			}
			b.ReportMetric(rss, "MB-resident")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// thousandIssuers writes a trust list of 1,000 issuers signed by an
// anchor, and the anchor's JWK.
func thousandIssuers(b testing.TB, dir string) (trust, anchor string) {
	key := func(label, did string) *credentials.Key {
		seed := sha256.Sum256([]byte(label))
		k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	list := verifier.NewTrustList("Consortium of 1,000")
	for i := range 1000 {
		iss, err := verifier.NewTrustedIssuer(fmt.Sprintf("Agency %d", i), credentials.Types(), key(fmt.Sprint("issuer-", i), fmt.Sprintf("did:web:agency%d.example", i)))
		if err != nil {
			b.Fatal(err)
		}
		iss.StatusBase = fmt.Sprintf("https://agency%d.example/status", i)
		if err := list.Add(iss); err != nil {
			b.Fatal(err)
		}
	}
	a := key("anchor", "did:web:consortium.example")
	signed, err := verifier.SignTrustList(list, a, time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	j, err := credentials.PublicJWK(a)
	if err != nil {
		b.Fatal(err)
	}
	jwk, _ := json.Marshal(j)
	trust, anchor = filepath.Join(dir, "trust.jws"), filepath.Join(dir, "anchor.jwk")
	if err := os.WriteFile(trust, signed, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(anchor, jwk, 0o600); err != nil {
		b.Fatal(err)
	}
	return trust, anchor
}

// idleRSS starts the service, waits until it serves, asks it a few pages,
// lets it sit idle, and reads its resident memory in MB.
func idleRSS(b *testing.B, bin, service, data, trust, anchor string) float64 {
	cmd := exec.Command(bin, service, "--addr", "127.0.0.1:0", "--data", data, "--trust", trust, "--trust-anchor", anchor)
	cmd.Env = append(os.Environ(), "TALLY_LOG_LEVEL=warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var url string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "tally: serving "); ok {
			url, _, _ = strings.Cut(u, " ")
			break
		}
	}
	if url == "" {
		b.Fatal("the service did not say where it serves")
	}
	go func() { // drain stdout
		for sc.Scan() {
		}
	}()
	for _, p := range []string{"healthz", "readyz", "signin"} {
		res, err := http.Get(url + p)
		if err != nil {
			b.Fatalf("GET %s: %v", p, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s", p, res.Status)
		}
	}
	time.Sleep(idleTrimAfter + 10*time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	mb := map[string]float64{}
	for line := range strings.Lines(string(status)) {
		name, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "Rss") && name != "VmRSS" {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		if err != nil {
			b.Fatal(err)
		}
		mb[name] = float64(kb) / 1024
	}
	if mb["VmRSS"] == 0 {
		b.Fatal("no VmRSS")
	}
	b.Logf("%s: resident %.1f MB (anonymous %.1f, file %.1f)", service, mb["VmRSS"], mb["RssAnon"], mb["RssFile"])
	return mb["VmRSS"]
}
