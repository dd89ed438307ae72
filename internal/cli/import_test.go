package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/internal/peopletest"
	"github.com/tally-id/tally/issuer"
)

// prepareData makes a data directory as a first tally serve does, with a
// registrar, rania, to take consent. With bin, the binary's serve makes
// it, sealing keys at tally's own cost (slow under the race detector in
// this process); else Main does, at scryptN.
func prepareData(t *testing.T, scryptN int, bin string) string {
	t.Helper()
	dir := t.TempDir()
	if bin != "" {
		cmd := exec.Command(bin, "serve", "--data", dir, "--addr", "127.0.0.1:0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() && !strings.Contains(sc.Text(), "serving") {
		}
		cmd.Process.Signal(os.Interrupt)
		go io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("tally serve: %v", err)
		}
	} else {
		cfg := config.Default()
		cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
		m := &Main{Config: cfg, passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: scryptN}
		if err := m.Run(context.Background()); err != nil {
			m.Close()
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := bolt.Open(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Making staff opens no key.
	svc, err := issuer.New(db.Stores(), issuer.Options{Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateStaff(context.Background(), issuer.SystemPrincipal("test"), "demo",
		issuer.NewStaff{Name: "Rania", Username: "rania", Role: issuer.RoleRegistrar}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buckets counts the keys of buckets of a data directory's database.
func buckets(t *testing.T, dir string, names ...string) []int {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := make([]int, len(names))
	db.View(func(tx *bbolt.Tx) error {
		for i, n := range names {
			if b := tx.Bucket([]byte(n)); b != nil {
				out[i] = b.Stats().KeyN
			}
		}
		return nil
	})
	return out
}

// TestImportKilled builds tally, starts an import of 600 rows, kills it
// with SIGKILL once some rows are done, and runs it again: every row has
// exactly one registration and one credential. A third run issues nothing.
func TestImportKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	start := time.Now()
	bin := filepath.Join(t.TempDir(), "tally")
	build := exec.Command("go", "build", "-o", bin, "github.com/tally-id/tally/cmd/tally")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
	// The binary opens keys at tally's own cost only.
	dir := prepareData(t, 0, bin)
	t.Logf("data ready at %s", time.Since(start).Round(time.Millisecond))
	const rows = 600
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, peopletest.CSV("KE-K", rows), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"issuer", "import", csv, "--data", dir, "--consent-staff", "rania", "--consent-method", "verbal",
		"--consent-language", "so", "--consent-given"}

	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	progress := regexp.MustCompile(`^imported (\d+) of (\d+) rows`)
	killedAt := -1
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		m := progress.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n > 0 && n < rows {
			cmd.Process.Signal(syscall.SIGKILL)
			killedAt = n
			break
		}
	}
	cmd.Wait()
	if killedAt < 0 {
		t.Fatal("the import ended before it could be killed mid-way")
	}
	counts := buckets(t, dir, "registrations", "credentials", "import_files")
	t.Logf("killed after %d rows were saved: %d registrations, %d credentials", killedAt, counts[0], counts[1])
	if counts[0] >= rows || counts[2] != 1 {
		t.Fatalf("after the kill: %v (registrations, credentials, files kept)", counts)
	}

	t.Logf("killed at %s", time.Since(start).Round(time.Millisecond))
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d credentials issued, 0 rows refused", rows)) {
		t.Fatalf("second run:\n%s", out)
	}
	counts = buckets(t, dir, "registrations", "credentials", "import_files")
	if counts[0] != rows || counts[1] != rows || counts[2] != 0 {
		t.Fatalf("after the second run: %d registrations, %d credentials, %d files kept; want %d, %d, 0", counts[0], counts[1], counts[2], rows, rows)
	}
	// Every credential belongs to a different registration: none twice.
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	regs := map[string]int{}
	db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("credentials_by_registration")).ForEach(func(k, _ []byte) error {
			parts := bytes.SplitN(k, []byte{0}, 3)
			regs[string(parts[1])]++
			return nil
		})
	})
	db.Close()
	for id, n := range regs {
		if n != 1 {
			t.Errorf("registration %s has %d credentials", id, n)
		}
	}
	if len(regs) != rows {
		t.Errorf("%d registrations have credentials, want %d", len(regs), rows)
	}

	t.Logf("second run done at %s", time.Since(start).Round(time.Millisecond))
	pdfPath := filepath.Join(t.TempDir(), "cards.pdf")
	out, err = exec.Command(bin, append(args, "--pdf", pdfPath)...).CombinedOutput()
	if err != nil {
		t.Fatalf("third run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "was imported before") || !strings.Contains(string(out), fmt.Sprintf("%d cards written", rows)) {
		t.Fatalf("third run:\n%s", out)
	}
	if c := buckets(t, dir, "registrations", "credentials"); c[0] != rows || c[1] != rows {
		t.Fatalf("the third run issued again: %v", c)
	}
	info, err := os.Stat(pdfPath)
	if err != nil || info.Mode().Perm() != 0o600 || info.Size() < 1000 {
		t.Fatalf("the PDF: %v, %v", info, err)
	}
}

func TestImportUsage(t *testing.T) {
	dir := prepareData(t, credentials.LowestScryptN, "")
	csv := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(csv, peopletest.CSV("KE-K", 3), 0o600)
	garbage := filepath.Join(t.TempDir(), "garbage.csv")
	os.WriteFile(garbage, []byte("\x00\x01\x02\xff\xfe garbage"), 0o600)
	env := testEnv()
	env.ScryptN = credentials.LowestScryptN
	full := []string{"--data", dir, "--consent-staff", "rania", "--consent-method", "verbal", "--consent-language", "so"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"issuer", "import", "--data", dir}, ExitUsage, "give one CSV or Excel file"},
		{"no consent staff", []string{"issuer", "import", csv, "--data", dir, "--consent-given"}, ExitUsage, "--consent-staff is required"},
		{"unknown staff", []string{"issuer", "import", csv, "--consent-given", "--data", dir, "--consent-staff", "nobody", "--consent-method", "verbal", "--consent-language", "so"}, ExitUsage, "not a registrar"},
		{"no consent declared", append([]string{"issuer", "import", csv}, full...), ExitInvalid, "--consent-given"},
		{"unknown programme", append([]string{"issuer", "import", csv, "--consent-given", "--programme", "NOPE"}, full...), ExitInvalid, "--programme: this organisation has no such programme"},
		{"garbage", append([]string{"issuer", "import", garbage, "--consent-given"}, full...), ExitInvalid, "file:"},
		{"dry run", []string{"issuer", "import", csv, "--dry-run", "--data", dir}, ExitOK, "3 credentials would be issued"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runIn2(t, env, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Fatalf("exit %d, want %d; output:\n%s%s", code, tc.code, stdout, stderr)
			}
			if c := buckets(t, dir, "registrations", "imports"); c[0] != 0 || c[1] != 0 {
				t.Fatalf("something was stored: %v", c)
			}
		})
	}
}

// TestServeResumesImports: an import left running when the server
// stopped goes on when it starts again, and ends.
func TestServeResumesImports(t *testing.T) {
	ctx := context.Background()
	dir := prepareData(t, credentials.LowestScryptN, "")
	db, err := bolt.Open(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	opts := issuer.Options{MasterKey: bytes.TrimSpace(master), ScryptN: credentials.LowestScryptN, BaseURL: "http://127.0.0.1:1",
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}}
	im, err := importer(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.New(db.Stores(), opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.StaffByUsername(ctx, "rania")
	if err != nil {
		t.Fatal(err)
	}
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: st.ID}
	job, _, _, err := im.Check(ctx, by, "demo", issuer.ImportInput{Programme: "MPCA-2026",
		Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}}, peopletest.CSV("KE-K", 50))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, by, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.NewToken(ctx, "demo", issuer.RoleAuditor, "test")
	if err != nil {
		t.Fatal(err)
	}
	im.Close()
	db.Close()

	m, _, _ := startMain(t, dir)
	defer m.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/orgs/demo/imports/"+job.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Import issuer.ImportJob }
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if out.Import.State == issuer.ImportDone {
			if out.Import.Issued != 50 {
				t.Fatalf("resumed import = %+v", out.Import)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import was not resumed: %+v (%d)", out.Import, res.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
