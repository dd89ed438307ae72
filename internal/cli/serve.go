package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/internal/fetch"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/web"
)

// Main is the tally server of tally serve: Run opens the data directory,
// creates the first organisation on a first start, and serves; Close
// stops it gracefully.
type Main struct {
	// Config is what to run with; Run validates it.
	Config config.Config
	// Parts are the services served: every one (tally serve) if zero;
	// tally issuer and tally verifier run one.
	Parts tallyhttp.Part
	// Stdout receives what is for the operator's eyes once (the first
	// administrator's one-time password); Stderr the JSON logs.
	Stdout, Stderr io.Writer
	// Now and Rand: time.Now and crypto/rand if nil.
	Now  func() time.Time
	Rand io.Reader

	// Test knobs: cheaper password hashes and key seals.
	passwordParams issuer.PasswordParams
	scryptN        int
	// holderKDF is the wallet's argon2id cost (holder.DefaultKDF() if
	// zero); tests lower it.
	holderKDF holder.KDFParams
	// fetchTransport, when set, carries the wallet's outbound requests
	// (tests record what the wallet sends).
	fetchTransport http.RoundTripper
	// wallet/pwa: the issuer and holder services, for the browser tests
	// to seed a wallet with credentials.
	svc     *issuer.Service
	holders *holder.Service

	db      *bolt.DB
	imports *issuer.Importer
	ln      net.Listener
	server  *http.Server
	done    chan error
	baseURL string

	// retention: stopSweep ends the retention sweep; sweepDone is closed
	// when it has.
	stopSweep context.CancelFunc
	sweepDone chan struct{}
	// stopVPSweep ends the OpenID4VP requests' sweep (servevp.go).
	stopVPSweep context.CancelFunc
	vpSweepDone chan struct{}
	// referrals (issue 7): stopReferrals ends the feedback outbox's
	// delivery; referralsDone is closed when it has.
	stopReferrals context.CancelFunc
	referralsDone chan struct{}

	// trust: stopTrust ends the trust and status list refresher;
	// trustDone is closed when it has.
	stopTrust context.CancelFunc
	trustDone chan struct{}
	// trim gives memory back when the server goes quiet; stopTrim ends it.
	trim     idleTrimmer
	stopTrim context.CancelFunc

	// desk (issue 7), a test knob: other issuers the scanning pages
	// trust besides this instance's organisations.
	deskIssuers []*verifier.TrustedIssuer
}

// Run starts the server and returns once it listens (or fails to).
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Rand == nil {
		m.Rand = rand.Reader
	}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: logLevel(m.Config.LogLevel)}))

	var err error
	if m.db, err = bolt.Open(m.Config.DatabasePath()); err != nil {
		return err
	}
	orgs, err := m.db.Organisations(ctx)
	if err != nil {
		return err
	}
	master, err := m.masterKey(len(orgs) == 0)
	if err != nil {
		return err
	}
	auditLog, err := auditLogOf(m.db, m.Now)
	if err != nil {
		return err
	}
	if m.ln, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return err
	}
	// A host name that Validate took for loopback (localhost) may resolve
	// elsewhere on a misconfigured machine: the open VC API checks where
	// it really listens.
	if a, ok := m.ln.Addr().(*net.TCPAddr); m.Config.VCAPIOpen && (!ok || !a.IP.IsLoopback()) {
		addr := m.ln.Addr().String()
		m.ln.Close()
		m.ln = nil
		return fmt.Errorf("the VC API is opened without credentials only on a loopback address, and %s listens on %s", m.Config.Addr, addr)
	}
	scheme := "http"
	if m.Config.TLS() {
		scheme = "https"
	}
	m.baseURL = strings.TrimSuffix(m.Config.BaseURL, "/")
	if m.baseURL == "" {
		m.baseURL = scheme + "://" + m.ln.Addr().String()
	}

	// A correction revokes the registration's credentials (re-issuing is
	// then one click); the hook needs the service it is given to.
	var svc *issuer.Service
	// The Data Integrity processor signs the VC API's credentials and the
	// status lists served to JSON-LD verifiers.
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		return err
	}
	svc, err = issuer.New(m.db.Stores(), issuer.Options{
		MasterKey: master, Now: m.Now, Rand: m.Rand, DataIntegrity: di,
		SessionTTL: m.Config.SessionTTL, SessionIdle: m.Config.SessionIdle,
		Password: m.passwordParams, ScryptN: m.scryptN, Audit: auditLog,
		BaseURL: m.baseURL,
		OnCorrected: func(ctx context.Context, c issuer.Corrected) error {
			return svc.OnCorrectedRevoke(ctx, c)
		},
	})
	if err != nil {
		return err
	}

	if len(orgs) == 0 {
		if err := m.firstStart(ctx, svc); err != nil {
			return err
		}
	} else if _, err := svc.SigningKey(ctx, orgs[0].Slug); err != nil {
		// Found now rather than at the first credential issued.
		return fmt.Errorf("the master key in %s does not open the organisations' keys: %w", m.Config.MasterKeyPath(), err)
	}
	// Open (or, the first time, make) each organisation's data key now, so
	// that the first registration does not wait for it.
	if err := svc.OpenDataKeys(ctx); err != nil {
		return fmt.Errorf("the master key in %s does not open the organisations' data keys: %w", m.Config.MasterKeyPath(), err)
	}
	// A compromised key's revocation sweep cut short (the process killed)
	// is finished before anything is served.
	if n, err := svc.ResumeKeySweeps(ctx); err != nil {
		return fmt.Errorf("finish revoking what a compromised key signed: %w", err)
	} else if n > 0 {
		log.Warn("finished revoking what a compromised key signed", "revoked", n)
	}

	// Bulk imports: their own service on batched stores; imports that
	// were running when the server stopped go on now.
	if m.imports, err = importer(m.db, issuer.Options{
		MasterKey: master, Now: m.Now, Rand: m.Rand, Password: m.passwordParams, ScryptN: m.scryptN, BaseURL: m.baseURL,
	}); err != nil {
		return err
	}
	if n, err := m.imports.Resume(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("imports resumed", "imports", n)
	}
	m.startRetention(svc, m.imports, log)

	trust, reg, err := m.verification(ctx, svc, master, di, log)
	if err != nil {
		return err
	}

	refs, err := m.referrals(svc, trust, auditLog, log) // referrals (issue 7)
	if err != nil {
		return err
	}
	desk, err := m.servicePoints(ctx, svc, trust, reg) // desk (issue 7)
	if err != nil {
		return err
	}

	openOrg, err := m.vcAPIOpenOrg(ctx, log)
	if err != nil {
		return err
	}
	// oid4vp: the OpenID4VP presentation requests.
	presentations, err := bolt.NewPresentationStore(m.db)
	if err != nil {
		return err
	}
	m.sweepPresentations(presentations, log)
	holders, err := m.wallet()
	if err != nil {
		return err
	}
	m.svc, m.holders = svc, holders // wallet/pwa
	h, err := tallyhttp.New(tallyhttp.Options{
		Issuer: svc, Parts: m.Parts, Ready: m.db.Ping, Logger: log, Secure: m.Config.TLS(), Files: web.FS, Rand: m.Rand, Importer: m.imports,
		VCAPIOpenOrg: openOrg, Trust: trust, Registry: reg, Presentations: presentations, Referrals: refs,
		ServicePoints: desk, // desk (issue 7)
		Holders:       holders,
		// The wallet reaches loopback only when this server is itself on
		// loopback (make run), where its issuer and verifier are.
		Fetch: fetch.New(fetch.Options{AllowLoopback: loopbackURL(m.baseURL), Transport: m.fetchTransport}),
	})
	if err != nil {
		return err
	}
	m.server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         m.trim.connState,
	}
	trimCtx, stopTrim := context.WithCancel(context.Background())
	m.stopTrim = stopTrim
	go m.trim.run(trimCtx)
	m.done = make(chan error, 1)
	go func() {
		var err error
		if m.Config.TLS() {
			err = m.server.ServeTLS(m.ln, m.Config.TLSCert, m.Config.TLSKey)
		} else {
			err = m.server.Serve(m.ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.done <- err
	}()
	// Opening the sealed keys took scrypt's memory (128 MiB a key at the
	// default cost); give it back to the system now rather than keep it
	// resident for the life of the process.
	debug.FreeOSMemory()
	log.Info("serving", "url", m.baseURL, "data", m.Config.DataDir)
	fmt.Fprintf(m.Stdout, "tally: serving %s/ (data in %s)\n", m.baseURL, m.Config.DataDir)
	if holders != nil {
		fmt.Fprintf(m.Stdout, "tally: the web wallet for beneficiaries is at %s/wallet/\n", m.baseURL)
	}
	return nil
}

// wallet returns the wallet's holder service (issue 8), or nil when this
// server does not run the wallet.
func (m *Main) wallet() (*holder.Service, error) {
	if m.Parts != 0 && m.Parts&tallyhttp.PartWallet == 0 {
		return nil, nil
	}
	st, err := bolt.NewHolderStore(m.db)
	if err != nil {
		return nil, err
	}
	return holder.New(st, holder.Options{Now: m.Now, Rand: m.Rand, KDF: m.holderKDF})
}

// loopbackURL tells whether a base URL's host is a loopback address.
func loopbackURL(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// vcAPIOpenOrg is the organisation the VC API acts for without
// credentials when Config.VCAPIOpen is on (the one the first start made,
// else the first by slug), with a warning in the log; "" when it is off.
func (m *Main) vcAPIOpenOrg(ctx context.Context, log *slog.Logger) (string, error) {
	if !m.Config.VCAPIOpen {
		return "", nil
	}
	orgs, err := m.db.Organisations(ctx)
	if err != nil || len(orgs) == 0 {
		return "", fmt.Errorf("the VC API cannot be opened: no organisation (%v)", err)
	}
	org := orgs[0].Slug
	for _, o := range orgs {
		if o.Slug == m.Config.OrgSlug {
			org = o.Slug
		}
	}
	log.Warn("the VC API is open: anyone who reaches this address can issue and revoke credentials as this organisation, without credentials; for conformance test suites only",
		"org", org, "routes", "/credentials/issue /credentials/status /credentials/verify /presentations/verify", "addr", m.Config.Addr)
	return org, nil
}

// URL is the server's base URL, once Run has returned.
func (m *Main) URL() string { return m.baseURL }

// Wait returns when the server stops by itself (it failed).
func (m *Main) Wait() <-chan error { return m.done }

// Close stops the server, letting requests under way finish for up to ten
// seconds, and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs = append(errs, m.server.Shutdown(ctx))
	} else if m.ln != nil {
		errs = append(errs, m.ln.Close())
	}
	if m.stopSweep != nil {
		m.stopSweep()
		<-m.sweepDone
	}
	if m.stopReferrals != nil {
		m.stopReferrals()
		<-m.referralsDone
	}
	if m.stopVPSweep != nil {
		m.stopVPSweep()
		<-m.vpSweepDone
	}
	if m.stopTrim != nil {
		m.stopTrim()
	}
	if m.stopTrust != nil {
		m.stopTrust()
		<-m.trustDone
	}
	if m.imports != nil {
		// Running imports save what they did and stay running, to go on
		// at the next start.
		m.imports.Close()
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
	}
	return errors.Join(errs...)
}

// firstStart creates the organisation and its first administrator, and
// prints the administrator's one-time password, once, on Stdout. It is
// never logged.
func (m *Main) firstStart(ctx context.Context, svc *issuer.Service) error {
	u, err := url.Parse(m.baseURL)
	if err != nil {
		return err
	}
	org, admin, password, err := svc.CreateOrganisation(ctx, issuer.NewOrganisation{
		Slug: m.Config.OrgSlug, Name: m.Config.OrgName, Host: u.Host,
		Admin: issuer.NewStaff{Name: "Administrator", Username: m.Config.AdminUsername},
	})
	if err != nil {
		return fmt.Errorf("first start: create the organisation: %w", err)
	}
	prog, err := svc.CreateProgramme(ctx, issuer.SystemPrincipal("first-start"), org.Slug, DemoProgramme())
	if err != nil {
		return fmt.Errorf("first start: create the demo programme: %w", err)
	}
	fmt.Fprintf(m.Stdout, "tally: first start: made organisation %q (%s), DID %s, with programme %s\n", org.Slug, org.Name, org.DID, prog.Code)
	fmt.Fprintf(m.Stdout, "tally: sign in at %s/signin as %s with this one-time password (shown once, never stored or logged):\n\n    %s\n\n", m.baseURL, admin.Username, password)
	return nil
}

// DemoProgramme is the programme the first organisation gets on a first
// start, to register people for straight away; an administrator changes
// it, or adds others, under /admin/programmes.
func DemoProgramme() issuer.ProgrammeInput {
	return issuer.ProgrammeInput{
		Code: "MPCA-2026", Name: "Multi-purpose cash assistance 2026",
		Languages: []string{"en", "so", "ar"}, RetentionMonths: 24,
		CredentialTypes: []string{"RegistrationCredential", "EligibilityCredential"},
		Purpose: "We record your name, date of birth, household and where you live so that we can " +
			"give your household monthly cash assistance in 2026, check that no one is registered twice, " +
			"and give you a card that proves your registration. We keep this information for two years " +
			"and do not share it without your consent.",
	}
}

// masterKey reads the master passphrase. On a first start with no file
// configured it makes one, in the data directory, readable by its owner
// only. A missing file is an error otherwise: a new key would not open the
// organisation keys already sealed.
func (m *Main) masterKey(first bool) ([]byte, error) {
	path := m.Config.MasterKeyPath()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(m.Stderr, "tally: warning: other users can read the master key %s (mode %04o): run chmod 600 %s\n", path, info.Mode().Perm(), path)
		}
		key := []byte(strings.TrimRight(string(data), "\r\n"))
		if len(key) == 0 {
			return nil, fmt.Errorf("the master key file %s is empty", path)
		}
		return key, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read the master key: %w", err)
	case !first:
		return nil, fmt.Errorf("the master key file %s is missing: tally.db's organisation keys cannot be opened without it (restore it from your backup)", path)
	case m.Config.MasterKeyFile != "":
		return nil, fmt.Errorf("the master key file %s does not exist: create it (a long random passphrase, one line, chmod 600), or leave TALLY_MASTER_KEY_FILE unset to have tally make one in the data directory", path)
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(m.Rand, raw); err != nil {
		return nil, err
	}
	key := []byte(base64.RawURLEncoding.EncodeToString(raw))
	if err := writeNewFile(path, append(key, '\n')); err != nil {
		return nil, fmt.Errorf("make the master key: %w", err)
	}
	fmt.Fprintf(m.Stdout, "tally: made a master key in %s: it seals the organisations' keys in tally.db; back it up, apart from tally.db\n", path)
	return key, nil
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// serve is tally serve.
func serve(ctx context.Context, env Env, args []string) error {
	return runService(ctx, env, "serve", tallyhttp.PartAll, args)
}

// issuerService is tally issuer: the issuer's pages and APIs alone.
func issuerService(ctx context.Context, env Env, args []string) error {
	return runService(ctx, env, "issuer", tallyhttp.PartIssuer, args)
}

// walletService runs the wallet alone: the web wallet and the wallet API.
func walletService(ctx context.Context, env Env, args []string) error {
	return runService(ctx, env, "wallet", tallyhttp.PartWallet, args)
}

// verifierService is tally verifier: the verifier service alone.
func verifierService(ctx context.Context, env Env, args []string) error {
	return runService(ctx, env, "verifier", tallyhttp.PartVerifier, args)
}

// runService runs the parts of tally serve named, until ctx ends or the
// server fails.
func runService(ctx context.Context, env Env, name string, parts tallyhttp.Part, args []string) error {
	fs := newFlags(env, name, "[--addr HOST:PORT] [--data DIR] [--config FILE] [options]")
	loader := config.NewLoader(fs)
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	cfg, err := loader.Load(env.Getenv, os.ReadFile)
	if err != nil {
		return &usageError{err.Error()}
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{"configuration:\n" + err.Error()}
	}
	m := &Main{Config: cfg, Parts: parts, Stdout: env.Stdout, Stderr: env.Stderr, Now: env.Now, scryptN: env.ScryptN}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(env.Stdout, "tally: stopping")
	case err := <-m.Wait():
		m.Close()
		return err
	}
	return m.Close()
}

// auditLogOf is the audit log kept in the database.
func auditLogOf(db *bolt.DB, now func() time.Time) (*audit.Log, error) {
	store, err := bolt.NewAuditStore(db.Bolt())
	if err != nil {
		return nil, err
	}
	// The log refuses a purpose that names a programme the organisation
	// does not have.
	return audit.NewLog(store, audit.Options{Now: now, Programmes: db}), nil
}
