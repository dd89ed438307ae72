package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// RetentionInterval is how often tally serve sweeps for registrations
// whose retention period has ended (and once at start).
const RetentionInterval = time.Hour

// startRetention runs the retention sweep now and then every
// RetentionInterval, until Close. It logs counts, never who.
func (m *Main) startRetention(svc *issuer.Service, imports *issuer.Importer, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopSweep, m.sweepDone = cancel, make(chan struct{})
	go func() {
		defer close(m.sweepDone)
		t := time.NewTicker(RetentionInterval)
		defer t.Stop()
		for {
			rep, err := svc.RetentionSweep(ctx, false)
			if err != nil && ctx.Err() == nil {
				log.Error("retention sweep", "error", err.Error(), "erased", len(rep.Erased))
			} else if len(rep.Erased) > 0 || rep.Audited > 0 {
				log.Info("retention sweep", "checked", rep.Checked, "erased", len(rep.Erased), "audited", rep.Audited)
			}
			// The files of imports nobody finished go too.
			if n, err := imports.DiscardStale(ctx, m.Now().Add(-issuer.ImportFileKeep)); err != nil && ctx.Err() == nil {
				log.Error("import files sweep", "error", err.Error(), "deleted", n)
			} else if n > 0 {
				log.Info("import files sweep", "deleted", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// issuerRetention is tally issuer retention: one retention sweep, with
// the server stopped (it sweeps by itself, hourly, while it runs).
func issuerRetention(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "issuer retention", "[--dry-run] [--json] [--data DIR]")
	dryRun := fs.Bool("dry-run", false, "say what would be erased, and erase nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	loader := config.NewLoader(fs, "data")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	cfg, err := loader.Load(env.Getenv, os.ReadFile)
	if err != nil {
		return &usageError{err.Error()}
	}
	svc, closeDB, err := openIssuer(env, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	rep, err := svc.RetentionSweep(ctx, *dryRun)
	if *asJSON {
		if jerr := json.NewEncoder(env.Stdout).Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		verb := "erased"
		if rep.DryRun {
			verb = "would erase"
		}
		for _, it := range rep.Erased {
			fmt.Fprintf(env.Stdout, "%s %s/%s (programme %s, retention ended %s)\n", verb, it.Org, it.Registration, it.Programme, it.Due.Format(time.DateOnly))
		}
		fmt.Fprintf(env.Stdout, "checked %d registrations: %s %d", rep.Checked, verb, len(rep.Erased))
		if rep.Audited > 0 {
			fmt.Fprintf(env.Stdout, ", audited %d erasures a killed process left unaudited", rep.Audited)
		}
		if rep.Kept > 0 {
			fmt.Fprintf(env.Stdout, ", %d kept until erased by hand (no retention period)", rep.Kept)
		}
		fmt.Fprintln(env.Stdout)
	}
	return err
}

// openIssuer opens the data directory's database (the server stopped)
// and the issuer over it, with the master key to open the data keys.
func openIssuer(env Env, cfg config.Config) (*issuer.Service, func(), error) {
	db, err := bolt.Open(cfg.DatabasePath())
	if errors.Is(err, bolt.ErrLocked) {
		return nil, nil, fmt.Errorf("%w: stop tally serve first (it sweeps by itself, every hour, while it runs)", err)
	}
	if err != nil {
		return nil, nil, err
	}
	auditLog, err := auditLogOf(db, env.Now)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	m := &Main{Config: cfg, Stderr: env.Stderr}
	master, err := m.masterKey(false)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc, err := issuer.New(db.Stores(), issuer.Options{MasterKey: master, Now: env.Now, Audit: auditLog, ScryptN: env.ScryptN})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}
