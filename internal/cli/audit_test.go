package cli_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
)

// auditDataDir makes a data directory whose tally.db holds an audit log of
// n entries, and returns it with the log's head.
func auditDataDir(t *testing.T, n int) (string, audit.Anchor) {
	t.Helper()
	dir := t.TempDir()
	var head audit.Anchor
	withAuditDB(t, dir, func(db *bbolt.DB, log *audit.Log) {
		appendAudit(t, log, 0, n)
		var err error
		if head, err = log.Anchor(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return dir, head
}

// withAuditDB opens DIR/tally.db read-write for f, as tally serve would,
// and closes it.
func withAuditDB(t *testing.T, dir string, f func(*bbolt.DB, *audit.Log)) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "tally.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := bolt.NewAuditStore(db)
	if err != nil {
		t.Fatal(err)
	}
	clock := testNow
	f(db, audit.NewLog(store, audit.Options{Now: func() time.Time { clock = clock.Add(time.Minute); return clock }}))
}

func appendAudit(t *testing.T, log *audit.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		e := audit.Entry{
			Actor: audit.Staff("st_amina"), Org: "dadaab", Action: audit.ActionRegister,
			Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: fmt.Sprintf("reg_%04d", i)}},
			Purpose: audit.ProgrammePurpose("MPCA-2026"), Outcome: audit.OutcomeSuccess,
		}
		if _, err := log.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// editAudit changes the audit bucket of DIR/tally.db directly.
func editAudit(t *testing.T, dir string, f func(b *bbolt.Bucket) error) {
	t.Helper()
	withAuditDB(t, dir, func(db *bbolt.DB, _ *audit.Log) {
		if err := db.Update(func(tx *bbolt.Tx) error { return f(tx.Bucket([]byte("audit"))) }); err != nil {
			t.Fatal(err)
		}
	})
}

func auditKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func TestAuditVerifyIntact(t *testing.T) {
	dir, head := auditDataDir(t, 5)
	code, out, errOut := run(t, "", "audit", "verify", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"entries:   5\n", "head:      " + head.Hash.String() + " (entry 5, 2026-11-26T09:05:00Z)\n", "\nOK\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

func TestAuditVerifyEmptyLog(t *testing.T) {
	dir, _ := auditDataDir(t, 0)
	code, out, errOut := run(t, "", "audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "entries:   0\n") || !strings.Contains(out, "OK") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestAuditVerifyDataFromEnvironment(t *testing.T) {
	dir, _ := auditDataDir(t, 2)
	env := testEnv()
	env.Getenv = func(k string) string {
		if k == "TALLY_DATA" {
			return dir
		}
		return ""
	}
	if code, out, errOut := runIn(t, env, "", "audit", "verify"); code != 0 || !strings.Contains(out, "entries:   2") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestAuditVerifyCorrupted corrupts tally.db in several ways and checks
// that tally audit verify exits 1 and says where and what, in plain words.
func TestAuditVerifyCorrupted(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		says    string
	}{
		{
			name: "value edited with bbolt",
			corrupt: func(t *testing.T, dir string) {
				editAudit(t, dir, func(b *bbolt.Bucket) error {
					return b.Put(auditKey(3), bytes.Replace(b.Get(auditKey(3)), []byte("dadaab"), []byte("kakuma"), 1))
				})
			},
			says: "entry 3 was altered",
		},
		{
			name: "bytes edited in the file",
			corrupt: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "tally.db")
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				edited := bytes.ReplaceAll(raw, []byte("reg_0002"), []byte("reg_0009"))
				if bytes.Equal(edited, raw) {
					t.Fatal("reg_0002 is not in the file")
				}
				if err := os.WriteFile(path, edited, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			says: "entry 3 was altered: its content no longer matches its hash",
		},
		{
			name: "entry deleted",
			corrupt: func(t *testing.T, dir string) {
				editAudit(t, dir, func(b *bbolt.Bucket) error { return b.Delete(auditKey(2)) })
			},
			says: "entry 2 is missing: the log goes from entry 1 to entry 3",
		},
		{
			name: "entries swapped",
			corrupt: func(t *testing.T, dir string) {
				editAudit(t, dir, func(b *bbolt.Bucket) error {
					v2, v3 := bytes.Clone(b.Get(auditKey(2))), bytes.Clone(b.Get(auditKey(3)))
					b.Put(auditKey(2), v3)
					return b.Put(auditKey(3), v2)
				})
			},
			says: "entry 2 is out of place",
		},
		{
			name: "tail deleted",
			corrupt: func(t *testing.T, dir string) {
				editAudit(t, dir, func(b *bbolt.Bucket) error { return b.Delete(auditKey(5)) })
			},
			says: "the log was cut off after entry 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := auditDataDir(t, 5)
			tt.corrupt(t, dir)
			code, out, errOut := run(t, "", "audit", "verify", "--data", dir)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "the audit log is broken: ") || !strings.Contains(errOut, tt.says) {
				t.Errorf("stderr does not say %q:\n%s", tt.says, errOut)
			}
			if strings.Contains(out, "OK") {
				t.Errorf("stdout says OK:\n%s", out)
			}
		})
	}
}

// TestAuditAnchor exports an anchor, lets the log grow, then cuts its tail
// off and resets the bucket's sequence: only the anchor shows it.
func TestAuditAnchor(t *testing.T) {
	dir, head := auditDataDir(t, 4)
	code, anchorLine, errOut := run(t, "", "audit", "export", "--data", dir, "--anchor")
	if code != 0 {
		t.Fatalf("export --anchor: exit %d\n%s", code, errOut)
	}
	want, _ := json.Marshal(head)
	if anchorLine != string(want)+"\n" {
		t.Fatalf("export --anchor printed %q, want %s", anchorLine, want)
	}
	anchors := filepath.Join(t.TempDir(), "anchors.jsonl")
	if err := os.WriteFile(anchors, []byte(anchorLine), 0o600); err != nil {
		t.Fatal(err)
	}

	withAuditDB(t, dir, func(_ *bbolt.DB, log *audit.Log) { appendAudit(t, log, 4, 3) })
	if code, out, errOut := run(t, "", "audit", "verify", "--data", dir, "--anchor", anchors); code != 0 || !strings.Contains(out, "anchors:   1 matched") {
		t.Fatalf("a grown log against its anchor: exit %d\n%s%s", code, out, errOut)
	}

	editAudit(t, dir, func(b *bbolt.Bucket) error {
		for seq := uint64(3); seq <= 7; seq++ {
			b.Delete(auditKey(seq))
		}
		return b.SetSequence(2)
	})
	if code, out, errOut := run(t, "", "audit", "verify", "--data", dir); code != 0 {
		t.Fatalf("without the anchor the cut log looks whole (a known limit): exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run(t, "", "audit", "verify", "--data", dir, "--anchor", anchors)
	if code != 1 || !strings.Contains(errOut, "the log was cut off after entry 2: entries 3 to 4 were removed (an anchor shows entry 4") {
		t.Fatalf("with the anchor: exit %d\n%s", code, errOut)
	}
	code, out, errOut := run(t, "", "audit", "export", "--data", dir, "--anchor")
	if code != 0 || strings.Contains(out, head.Hash.String()) {
		t.Fatalf("an anchor of the cut log: exit %d\n%s%s", code, out, errOut)
	}
}

func TestAuditExport(t *testing.T) {
	dir, head := auditDataDir(t, 3)
	code, out, errOut := run(t, "", "audit", "export", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, " "); got != "action actor hash objects org outcome prev purpose seq time v" {
			t.Errorf("line %d has members %s", i+1, got)
		}
		if m["seq"] != float64(i+1) {
			t.Errorf("line %d is entry %v", i+1, m["seq"])
		}
	}
	if !strings.Contains(lines[2], `"hash":"`+head.Hash.String()+`"`) {
		t.Errorf("the last line is not the head %s: %s", head.Hash, lines[2])
	}
}

func TestAuditExportBroken(t *testing.T) {
	dir, _ := auditDataDir(t, 3)
	editAudit(t, dir, func(b *bbolt.Bucket) error { return b.Delete(auditKey(2)) })
	code, out, errOut := run(t, "", "audit", "export", "--data", dir)
	if code != 1 || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "entry 2 is missing") {
		t.Fatalf("export of a broken log: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "", "audit", "export", "--data", dir, "--anchor")
	if code != 1 || out != "" || !strings.Contains(errOut, "no anchor") {
		t.Fatalf("an anchor of a broken log: exit %d\n%s%s", code, out, errOut)
	}
}

func TestAuditCommandErrors(t *testing.T) {
	noLog := t.TempDir()
	db, err := bbolt.Open(filepath.Join(noLog, "tally.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	notBolt := t.TempDir()
	if err := os.WriteFile(filepath.Join(notBolt, "tally.db"), bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	badAnchors := filepath.Join(t.TempDir(), "anchors")
	os.WriteFile(badAnchors, []byte("not an anchor\n"), 0o600)
	good, _ := auditDataDir(t, 1)

	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no subcommand", []string{"audit"}, 2, "verify or export"},
		{"unknown subcommand", []string{"audit", "repair"}, 2, `unknown command "repair"`},
		{"unknown flag", []string{"audit", "verify", "--force"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"audit", "export", "--data", good, "x"}, 2, `unexpected argument "x"`},
		{"no database", []string{"audit", "verify", "--data", t.TempDir()}, 1, "no tally database at"},
		{"no audit log", []string{"audit", "verify", "--data", noLog}, 1, "has no audit log"},
		{"not a database", []string{"audit", "verify", "--data", notBolt}, 1, "not a tally database"},
		{"bad anchor file", []string{"audit", "verify", "--data", good, "--anchor", badAnchors}, 1, "line 1: not an anchor"},
		{"missing anchor file", []string{"audit", "verify", "--data", good, "--anchor", badAnchors + "-gone"}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.says) {
				t.Errorf("exit %d, want %d, saying %q:\n%s", code, tt.code, tt.says, errOut)
			}
		})
	}
}

// TestAuditVerifyWhileServing: a running server holds the database
// alone; the command says so instead of waiting for ever.
func TestAuditVerifyWhileServing(t *testing.T) {
	dir, _ := auditDataDir(t, 1)
	db, err := bbolt.Open(filepath.Join(dir, "tally.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errOut := run(t, "", "audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "in use by another process") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

func TestAuditHelp(t *testing.T) {
	for _, args := range [][]string{{"audit", "--help"}, {"audit", "verify", "--help"}, {"audit", "export", "-h"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}
