package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
)

// Where the audit commands look for the database: --data, else
// $TALLY_DATA, else ./tally-data (where tally serve keeps it, DESIGN.md);
// the file in it is tally.db.
const (
	auditDataEnv        = "TALLY_DATA"
	auditDefaultDataDir = "tally-data"
	auditDBFile         = "tally.db"
)

// auditCmd runs `tally audit verify` and `tally audit export`.
func auditCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		printAuditUsage(env.Stderr)
		return usagef("say what to do with the audit log: verify or export")
	}
	switch args[0] {
	case "verify":
		return subcommandFailure(env, "audit verify", auditVerify(ctx, env, args[1:]))
	case "export":
		return subcommandFailure(env, "audit export", auditExport(ctx, env, args[1:]))
	case "-h", "--help", "help":
		printAuditUsage(env.Stdout)
		return flag.ErrHelp
	}
	return usagef("unknown command %q: use 'tally audit verify' or 'tally audit export'", args[0])
}

// subcommandFailure prints an operation's failure under its command's
// full name (report would name only the first word) and makes it exit
// code 1; usage errors and refusals already printed pass as they are.
func subcommandFailure(env Env, command string, err error) error {
	var ue *usageError
	var ie *invalidError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &ue) || errors.As(err, &ie) {
		return err
	}
	fmt.Fprintf(env.Stderr, "tally %s: %v\n", command, err)
	return &invalidError{err}
}

func printAuditUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  tally audit verify [--data DIR] [--anchor FILE]   check the audit log's hash chain")
	fmt.Fprintln(w, "  tally audit export [--data DIR] [--anchor]        print its entries as JSON lines, or its anchor")
	fmt.Fprintln(w, "\nThe server must be stopped: it holds the database alone (bbolt locks the file for its writer).")
	fmt.Fprintln(w, "While it runs, verify from the audit page (/admin/audit) and fetch signed anchors from")
	fmt.Fprintln(w, "GET /api/v1/orgs/ORG/audit/anchor. Docs: docs/audit.md")
}

// auditVerify checks the chain of DIR/tally.db's audit log, and its
// anchors: it prints the number of entries and the head, then OK; or the
// first problem, on stderr, with exit code 1.
func auditVerify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit verify", "[--data DIR] [--anchor FILE]")
	dir := auditDataFlag(env, fs)
	var anchorFiles stringList
	fs.Var(&anchorFiles, "anchor", "a file of anchors exported earlier (tally audit export --anchor), one per line: the log must still hold each anchored entry unchanged (repeatable)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	var anchors []audit.Anchor
	var signed []audit.AnchorLine
	for _, f := range anchorFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		lines, err := audit.ParseAnchorLines(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, l := range lines {
			anchors = append(anchors, l.Anchor)
			if l.Token != "" {
				signed = append(signed, l)
			}
		}
	}
	log, path, closeDB, err := openAuditLog(env, *dir)
	if err != nil {
		return err
	}
	defer closeDB()
	// --- retention: signed anchors ---
	if err := checkSignedAnchors(ctx, path, signed); err != nil {
		fmt.Fprintf(env.Stderr, "tally audit verify: %v\n", err)
		return &invalidError{err}
	}
	sum, err := log.Verify(ctx, anchors...)
	if errors.Is(err, audit.ErrBroken) {
		fmt.Fprintf(env.Stderr, "tally audit verify: %s: the audit log is broken: %v\n", path, err)
		return &invalidError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "audit log: %s\n", path)
	fmt.Fprintf(env.Stdout, "entries:   %d\n", sum.Entries)
	if sum.Entries == 0 {
		fmt.Fprintln(env.Stdout, "head:      none (the log is empty)")
	} else {
		fmt.Fprintf(env.Stdout, "head:      %s (entry %d, %s)\n", sum.Head.Hash, sum.Head.Seq, sum.Head.Time.Format(time.RFC3339))
	}
	if len(anchors) > 0 {
		fmt.Fprintf(env.Stdout, "anchors:   %d matched\n", len(anchors))
	}
	if len(signed) > 0 {
		fmt.Fprintf(env.Stdout, "signed:    %d, each by its organisation's key as this database holds it (compare the kid with the organisation's DID document you keep)\n", len(signed))
	}
	fmt.Fprintln(env.Stdout, "OK")
	return nil
}

// auditExport prints the log's entries as JSON lines, then checks the
// chain; with --anchor it checks the chain first and prints only its head
// as an anchor line, to be kept away from the server.
func auditExport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit export", "[--data DIR] [--anchor]")
	dir := auditDataFlag(env, fs)
	anchorOnly := fs.Bool("anchor", false, "print only the head of the verified chain, as one anchor line to keep elsewhere (tally audit verify --anchor FILE checks the log against it)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	log, path, closeDB, err := openAuditLog(env, *dir)
	if err != nil {
		return err
	}
	defer closeDB()
	out := json.NewEncoder(env.Stdout)
	if !*anchorOnly {
		if err := log.Entries(ctx, func(e audit.Entry) error { return out.Encode(e) }); err != nil && !errors.Is(err, audit.ErrBroken) {
			return err
		}
	}
	sum, err := log.Verify(ctx)
	if errors.Is(err, audit.ErrBroken) {
		what := "the entries above are as stored, but the audit log is broken"
		if *anchorOnly {
			what = "no anchor: the audit log is broken"
		}
		fmt.Fprintf(env.Stderr, "tally audit export: %s: %s: %v\n", path, what, err)
		return &invalidError{err}
	}
	if err != nil {
		return err
	}
	if *anchorOnly {
		return out.Encode(sum.Head)
	}
	return nil
}

func auditDataFlag(env Env, fs *flag.FlagSet) *string {
	def := env.Getenv(auditDataEnv)
	if def == "" {
		def = auditDefaultDataDir
	}
	return fs.String("data", def, "the data directory, which holds "+auditDBFile+" ($"+auditDataEnv+" when set)")
}

// openAuditLog opens DIR/tally.db read-only, so that nothing about the
// file changes while it is examined, and returns its audit log.
func openAuditLog(env Env, dir string) (*audit.Log, string, func(), error) {
	path := filepath.Join(dir, auditDBFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, path, nil, fmt.Errorf("no tally database at %s: give the data directory with --data", path)
		}
		return nil, path, nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, path, nil, fmt.Errorf("%s is in use by another process (a running tally serve?), which holds it alone: stop it, then verify; or, while it runs, use the audit page's verify button (/admin/audit)", path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, path, nil, fmt.Errorf("%s is not a tally database, or it is damaged: %w", path, err)
	case err != nil:
		return nil, path, nil, err
	}
	store, err := bolt.NewAuditStore(db)
	if err != nil {
		db.Close()
		if errors.Is(err, bolt.ErrNoAuditLog) {
			return nil, path, nil, fmt.Errorf("%s has no audit log: tally serve never ran on it, or the log was deleted", path)
		}
		return nil, path, nil, err
	}
	return audit.NewLog(store, audit.Options{Now: env.Now}), path, func() { db.Close() }, nil
}
