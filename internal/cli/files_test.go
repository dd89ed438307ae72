package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makePrivateDir makes missing directories open to their owner only, and
// warns of, without changing, an existing one others can open.
func TestMakePrivateDir(t *testing.T) {
	root := t.TempDir()
	var stderr bytes.Buffer
	env := Env{Stderr: &stderr}
	made := filepath.Join(root, "a", "b")
	if err := makePrivateDir(env, made); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{made, filepath.Dir(made)} {
		if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != privateDir {
			t.Fatalf("%s: %v %v", dir, info.Mode(), err)
		}
	}
	if stderr.Len() != 0 {
		t.Fatalf("a warning for a directory tally made: %s", &stderr)
	}

	open := filepath.Join(root, "shared")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := makePrivateDir(env, open); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "chmod 700 "+open) {
		t.Fatalf("no warning for a directory others can open: %q", &stderr)
	}
	if info, _ := os.Stat(open); info.Mode().Perm() != 0o755 {
		t.Fatalf("an existing directory was changed to %v", info.Mode())
	}

	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := makePrivateDir(env, file); err == nil {
		t.Fatal("a file was taken for a directory")
	}
}
