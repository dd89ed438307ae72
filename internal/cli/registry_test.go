package cli_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
)

// regToken is the i-th of some well-formed dedup tokens.
func regToken(i int) string {
	raw := fmt.Appendf(nil, "token-%010d", i)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:16]))
}

// registryDataDir makes a data directory with a master key and a dedup
// domain "consortium-x" added through the command line, then records
// scans of tokens 1 to 3 (token 1 twice) in it, as the verifier service
// will.
func registryDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "master.key"), []byte("a master passphrase for the tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "x.key")
	mustRun(t, "dedup-key", "new", "--out", key)
	out := mustRun(t, "registry", "domain", "add", "--data", data, "--id", "consortium-x", "--name", "Consortium X", "--key", key, "--member", "org-a", "--member", "org-b")
	if !strings.Contains(out, "added dedup domain consortium-x") {
		t.Fatalf("domain add said %q", out)
	}
	keyText, _ := os.ReadFile(key)
	if strings.Contains(out, strings.TrimSpace(string(keyText))) {
		t.Fatal("domain add printed the key")
	}
	db, err := bolt.Open(filepath.Join(data, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(st.Stores(), registry.Options{MasterKey: []byte("a master passphrase for the tests"), ScryptN: credentials.LowestScryptN})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := svc.Key(context.Background(), "consortium-x"); err != nil {
		t.Fatal(err)
	} else if text, _ := k.MarshalText(); string(text) != string(keyText) {
		t.Fatal("the sealed key is not the key file's")
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, i := range []int{1, 1, 2, 3} {
		if _, err := svc.Record(context.Background(), registry.Scan{Domain: "consortium-x", Token: regToken(i), ServicePoint: "Point 3", Programme: "MPCA", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func TestRegistryExportImportReconcile(t *testing.T) {
	data := registryDataDir(t)
	dir := filepath.Dir(data)
	out := mustRun(t, "registry", "domains", "--data", data)
	if out != "consortium-x\tConsortium X\tconsortium\torg-a,org-b\n" {
		t.Errorf("domains: %q", out)
	}
	exported := mustRun(t, "registry", "export", "--data", data, "--domain", "consortium-x")
	want := registry.ListHeader + "\n"
	for _, row := range []string{regToken(1) + ",MPCA,2026-03,2", regToken(2) + ",MPCA,2026-03,1", regToken(3) + ",MPCA,2026-03,1"} {
		if !strings.Contains(exported, "consortium-x,"+row+"\n") {
			t.Errorf("the export lacks %s:\n%s", row, exported)
		}
	}
	if !strings.HasPrefix(exported, want) || strings.Count(exported, "\n") != 4 {
		t.Fatalf("export:\n%s", exported)
	}
	ownFile := filepath.Join(dir, "org-a.csv")
	mustRun(t, "registry", "export", "--data", data, "--domain", "consortium-x", "--out", ownFile)
	if b, _ := os.ReadFile(ownFile); string(b) != exported {
		t.Fatal("the exported file differs from standard output")
	}

	// org-b's list: tokens 2 and 4, in March (HEALTH) and April.
	peer := registry.ListHeader + "\n" +
		"consortium-x," + regToken(2) + ",HEALTH,2026-03,1\n" +
		"consortium-x," + regToken(4) + ",HEALTH,2026-03,1\n" +
		"consortium-x," + regToken(2) + ",HEALTH,2026-04,3\n"
	peerFile := filepath.Join(dir, "org-b.csv")
	os.WriteFile(peerFile, []byte(peer), 0o600)
	if out := mustRun(t, "registry", "import", "--data", data, "--domain", "consortium-x", "--peer", "org-b", peerFile); !strings.Contains(out, "imported 3 rows") {
		t.Errorf("import said %q", out)
	}

	svg := filepath.Join(dir, "report.svg")
	code, report, errOut := run(t, "", "registry", "reconcile", "--data", data, "--domain", "consortium-x", "--self", "org-a", "--peer", "org-b", "--svg", svg)
	wantReport := registry.ReportHeader + "\n2026-03,MPCA,HEALTH,3,2,1\n"
	if code != 0 || report != wantReport || !strings.Contains(errOut, "in both: 1") {
		t.Fatalf("reconcile: exit %d\n%s%s", code, report, errOut)
	}
	chart, err := os.ReadFile(svg)
	if err != nil || !strings.Contains(string(chart), "People served by both org-a and org-b") {
		t.Fatalf("the chart: %v\n%s", err, chart)
	}
	// The command line's English labels are the catalogue's, and the
	// library's defaults match them.
	l1, _ := registry.ParseList(strings.NewReader(exported), "")
	l2, _ := registry.ParseList(strings.NewReader(peer), "")
	r, _ := registry.Reconcile("org-a", l1, "org-b", l2)
	if string(r.SVG(registry.EnglishChartLabels())) != string(chart) {
		t.Error("the chart's English labels differ from the catalogue's")
	}
	// In Arabic, right to left.
	arSVG := filepath.Join(dir, "report-ar.svg")
	mustRun(t, "registry", "reconcile", "--self", "org-a", "--peer", "org-b", "--svg", arSVG, "--lang", "ar", ownFile, peerFile)
	if b, _ := os.ReadFile(arSVG); !strings.Contains(string(b), `direction="rtl"`) || !strings.Contains(string(b), "الأشخاص") {
		t.Errorf("the Arabic chart:\n%s", b)
	}
	// Two files give the report the registry gives.
	if out := mustRun(t, "registry", "reconcile", ownFile, peerFile); out != wantReport {
		t.Errorf("reconcile of two files:\n%s", out)
	}
}

func TestRegistryBadInput(t *testing.T) {
	data := registryDataDir(t)
	dir := filepath.Dir(data)
	good := registry.ListHeader + "\nconsortium-x," + regToken(7) + ",HEALTH,2026-03,1\n"
	goodFile := filepath.Join(dir, "good.csv")
	os.WriteFile(goodFile, []byte(good), 0o600)
	mustRun(t, "registry", "import", "--data", data, "--domain", "consortium-x", "--peer", "org-b", goodFile)

	bad := good + "consortium-x,not-a-token,HEALTH,2026-03,1\n"
	badFile := filepath.Join(dir, "bad.csv")
	os.WriteFile(badFile, []byte(bad), 0o600)
	other := strings.ReplaceAll(good, "consortium-x", "consortium-y")
	otherFile := filepath.Join(dir, "other.csv")
	os.WriteFile(otherFile, []byte(other), 0o600)
	cases := []struct {
		name string
		code int
		says string
		args []string
	}{
		{"a bad row", 1, "line 3, column 2 (token)", []string{"import", "--domain", "consortium-x", "--peer", "org-b", badFile}},
		{"another domain's list", 1, "line 2, column 1 (domain)", []string{"import", "--domain", "consortium-x", "--peer", "org-b", otherFile}},
		{"an unknown domain", 1, "not found", []string{"import", "--domain", "consortium-y", "--peer", "org-b", otherFile}},
		{"a bad peer name", 1, "peer", []string{"import", "--domain", "consortium-x", "--peer", "org b", goodFile}},
		{"a peer that is not a member", 1, "not a member", []string{"import", "--domain", "consortium-x", "--peer", "org-z", goodFile}},
		{"no peer", 2, "--peer", []string{"import", "--domain", "consortium-x", goodFile}},
		{"export without a domain", 2, "--domain", []string{"export"}},
		{"export of an unknown domain", 1, "not found", []string{"export", "--domain", "nowhere"}},
		{"reconcile with nothing", 2, "two list files", []string{"reconcile"}},
		{"reconcile with a peer that sent nothing", 1, "no list from", []string{"reconcile", "--domain", "consortium-x", "--peer", "org-z"}},
		{"reconcile of lists of two domains", 1, "two domains", []string{"reconcile", goodFile, otherFile}},
		{"reconcile in an unknown language", 2, "--lang", []string{"reconcile", "--lang", "../x", goodFile, goodFile}},
		{"a domain added twice", 1, "already exists", []string{"domain", "add", "--id", "consortium-x", "--name", "X", "--key", filepath.Join(dir, "x.key"), "--member", "a"}},
		{"a domain with a bad key file", 1, "64 hex digits", []string{"domain", "add", "--id", "d2", "--name", "X", "--key", badFile, "--member", "a"}},
		{"an unknown subcommand", 2, "unknown command", []string{"purge"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"registry"}, c.args...)
			if c.args[0] != "reconcile" || len(c.args) < 3 || strings.HasPrefix(c.args[1], "--") {
				args = append(args, "--data", data)
			}
			code, out, errOut := run(t, "", args...)
			if code != c.code || !strings.Contains(errOut, c.says) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s%s", code, c.code, c.says, out, errOut)
			}
		})
	}
	// The refused imports changed nothing: org-b's list is the good one.
	code, out, _ := run(t, "", "registry", "reconcile", "--data", data, "--domain", "consortium-x", "--peer", "org-b")
	if code != 0 || out != registry.ReportHeader+"\n2026-03,MPCA,HEALTH,3,1,0\n" {
		t.Fatalf("after refused imports: exit %d\n%s", code, out)
	}
	// No database, no master key.
	empty := t.TempDir()
	if code, _, errOut := run(t, "", "registry", "export", "--data", empty, "--domain", "consortium-x"); code != 1 || !strings.Contains(errOut, "no tally database") {
		t.Errorf("export without a database: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "registry", "domain", "add", "--data", empty, "--id", "d", "--name", "D", "--key", filepath.Join(dir, "x.key"), "--member", "a"); code != 1 || !strings.Contains(errOut, "master key file") {
		t.Errorf("domain add without a master key: %d %s", code, errOut)
	}
}
