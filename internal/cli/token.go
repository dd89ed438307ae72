package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// tokenNew is tally token new: it makes an API token and prints it, once,
// on stdout. Only its hash is stored.
func tokenNew(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token new", "--role ROLE [--org SLUG] [--label TEXT] [--data DIR]")
	role := fs.String("role", "", "the token's role: admin, registrar, supervisor, auditor or verifier")
	org := fs.String("org", "", "the organisation's slug (default: the only one)")
	label := fs.String("label", "", "what the token is for, shown in logs instead of the token")
	loader := config.NewLoader(fs, "data")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *role == "" {
		return usagef("--role is required: one of admin, registrar, supervisor, auditor, verifier")
	}
	cfg, err := loader.Load(env.Getenv, os.ReadFile)
	if err != nil {
		return &usageError{err.Error()}
	}
	db, err := bolt.Open(cfg.DatabasePath())
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w: stop tally serve first (tokens are made offline, so that no one can make one over the network)", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	auditLog, err := auditLogOf(db, env.Now)
	if err != nil {
		return err
	}
	svc, err := issuer.New(db.Stores(), issuer.Options{Now: env.Now, Audit: auditLog})
	if err != nil {
		return err
	}
	slug := *org
	if slug == "" {
		orgs, err := svc.Organisations(ctx)
		if err != nil {
			return err
		}
		switch len(orgs) {
		case 0:
			return fmt.Errorf("%s has no organisation yet: run tally serve once first", cfg.DatabasePath())
		case 1:
			slug = orgs[0].Slug
		default:
			names := make([]string, len(orgs))
			for i, o := range orgs {
				names[i] = o.Slug
			}
			return usagef("this instance has several organisations: choose one with --org (%s)", strings.Join(names, ", "))
		}
	}
	text, tok, err := svc.NewToken(ctx, slug, issuer.Role(*role), *label)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return &usageError{ie.Error()}
	}
	if errors.Is(err, issuer.ErrNotFound) {
		return fmt.Errorf("no organisation %q in %s", slug, cfg.DatabasePath())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "tally: API token %s, role %s, organisation %s. It is shown once; send it as Authorization: Bearer TOKEN.\n", tok.ID, tok.Role, tok.Org)
	fmt.Fprintln(env.Stdout, text)
	return nil
}
