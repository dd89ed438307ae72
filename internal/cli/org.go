package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
)

// orgNew is tally org new: it adds an organisation to this instance, with
// its did:web on the instance's host, its own signing key, and its first
// administrator, whose one-time password it prints once on stdout. Like
// tokens, organisations are made offline, by whoever runs the instance:
// there is no host-wide role to make them over the network.
func orgNew(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "org new", "--slug SLUG --name NAME [--admin USERNAME] [--data DIR]")
	slug := fs.String("slug", "", "the organisation's short name in URLs and its DID: lower-case letters, digits, hyphens")
	name := fs.String("name", "", "the organisation's display name")
	admin := fs.String("admin", "", "the first administrator's user name (default: SLUG-admin)")
	loader := config.NewLoader(fs, "data", "masterKeyFile")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *slug == "" || *name == "" {
		return usagef("--slug and --name are required")
	}
	if *admin == "" {
		*admin = *slug + "-admin"
	}
	cfg, err := loader.Load(env.Getenv, os.ReadFile)
	if err != nil {
		return &usageError{err.Error()}
	}
	db, err := bolt.Open(cfg.DatabasePath())
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w: stop tally serve first (organisations are made offline, by whoever runs the instance)", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := db.Organisations(ctx)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		return fmt.Errorf("%s has no organisation yet: run tally serve once first, which makes the first one and the master key", cfg.DatabasePath())
	}
	// Every organisation of an instance is on its host: did:web:HOST:orgs:SLUG.
	u, err := credentials.DIDWebURL(orgs[0].DID)
	if err != nil {
		return err
	}
	host, err := url.Parse(u)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Stdout: env.Stdout, Stderr: env.Stderr}
	master, err := m.masterKey(false)
	if err != nil {
		return err
	}
	auditLog, err := auditLogOf(db, env.Now)
	if err != nil {
		return err
	}
	svc, err := issuer.New(db.Stores(), issuer.Options{MasterKey: master, Now: env.Now, Audit: auditLog, ScryptN: env.ScryptN,
		Password: env.PasswordParams})
	if err != nil {
		return err
	}
	// The key is checked to open first: a wrong master key would seal the
	// new organisation's key under another one.
	if _, err := svc.SigningKey(ctx, orgs[0].Slug); err != nil {
		return fmt.Errorf("the master key in %s does not open the organisations' keys: %w", cfg.MasterKeyPath(), err)
	}
	org, st, password, err := svc.CreateOrganisation(ctx, issuer.NewOrganisation{
		Slug: *slug, Name: *name, Host: host.Host,
		Admin: issuer.NewStaff{Name: "Administrator", Username: *admin},
		By:    issuer.SystemPrincipal("cli"),
	})
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return &usageError{ie.Error()}
	}
	if errors.Is(err, issuer.ErrConflict) {
		return fmt.Errorf("organisation %q, or user name %q, exists already: choose another", *slug, *admin)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "tally: made organisation %q (%s), DID %s\n", org.Slug, org.Name, org.DID)
	fmt.Fprintf(env.Stderr, "tally: its administrator %s signs in with this one-time password (shown once, never stored or logged), then chooses their own:\n", st.Username)
	fmt.Fprintln(env.Stdout, password)
	return nil
}
