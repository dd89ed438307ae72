// Package http is tally's web server (DESIGN.md, "The services"): the
// staff pages (server-rendered from web/), the JSON API under /api/v1/,
// organisations' DID documents and the health probes, on echo.
//
// Every route is declared once, in routes.go, with the roles it admits;
// one middleware authenticates (session cookie or Bearer API token) and
// checks the role and the organisation for all of them. One function,
// problemOf in errors.go, maps domain errors to HTTP statuses. Unsafe
// cross-origin requests are refused by net/http's CrossOriginProtection.
// Logs are slog JSON with no personal data and no secret.
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/internal/oid4vci"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/internal/pdf"
	"github.com/tally-id/tally/internal/scan"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/referral"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
)

// Log keys, so that every line names things alike.
const (
	logRoute    = "route"
	logMethod   = "method"
	logStatus   = "status"
	logDuration = "ms"
	logRequest  = "request"
	logError    = "error"
	logPrincip  = "principal"
)

// maxBody is the largest request body accepted.
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// Issuer is the issuer's use-cases. Required.
	Issuer *issuer.Service
	// Ready tells whether the server can serve (the database answers);
	// /readyz calls it. Nil: always ready.
	Ready func(ctx context.Context) error
	// Logger receives request and error logs; nothing is logged if nil.
	Logger *slog.Logger
	// Secure marks cookies Secure (the server is behind TLS) and names the
	// session cookie with the __Host- prefix.
	Secure bool
	// Files are the templates, static files and message catalogues; web.FS.
	Files fs.FS
	// TrustedOrigins may send unsafe cross-origin requests
	// (scheme://host[:port]); none by default.
	TrustedOrigins []string
	// Rand draws request ids; crypto/rand if nil.
	Rand io.Reader
	// VCAPIOpenOrg, when set, opens the VC API issuer routes
	// (/credentials/issue, /credentials/status) to anyone, with no
	// credentials, acting for this organisation: for conformance test
	// suites on a loopback address only (config.Config.VCAPIOpen).
	VCAPIOpenOrg string
	// Importer runs bulk imports (/issuer/imports); without it, those
	// routes answer 404.
	Importer *issuer.Importer

	// Parts are the parts served: PartAll (tally serve) if zero.
	Parts Part

	// --- the verifier service (issue 7) ---
	// Trust gives the verifier that checks credentials shown at service
	// points and to the VC API; Registry is the dedup registry. Without
	// Trust the verifier service's routes answer 404.
	Trust    *trustsync.Service
	Registry *registry.Service
	// --- oid4vp: Presentations keeps the OpenID4VP presentation requests
	// (internal/bolt.PresentationStore); without it, those routes answer
	// 404.
	Presentations oid4vp.Store
	// Referrals receives referrals and their feedback (issue 7); without
	// it (or without Trust) their routes answer 404.
	Referrals *referral.Service
	// --- desk (issue 7): ServicePoints checks credentials at service
	// points (the scanning page and POST /api/v1/orgs/ORG/verify).
	ServicePoints *servicepoint.Service
	// --- end desk
	// --- end of the verifier service's options

	// Holders is the wallet (issue 8); without it the wallet's routes
	// answer 404.
	Holders *holder.Service
	// Fetch is the wallet's outbound client (offers, issuer metadata,
	// request objects, DID documents, status lists); a default one,
	// public addresses only, if nil.
	Fetch *fetch.Client
}

// Server is the HTTP handler of tally serve.
type Server struct {
	svc     *issuer.Service
	imports *issuer.Importer
	// printer prints cards; made at its first use (printer), since its
	// fonts are not needed by a service that prints nothing.
	printerOnce sync.Once
	printerV    *pdf.Printer
	printerErr  error
	ready       func(ctx context.Context) error
	log         *slog.Logger
	secure      bool
	cat         *catalogues
	pages       *pages
	static      http.Handler
	rand        io.Reader
	echo        *echo.Echo
	handler     http.Handler
	// vcOpenOrg is Options.VCAPIOpenOrg.
	vcOpenOrg string
	// nonces are the OpenID4VCI c_nonce values (oid4vci.go).
	nonces *oid4vci.Nonces

	parts Part

	// --- the verifier service (Options.Trust, Options.Registry) ---
	trust    *trustsync.Service
	registry *registry.Service
	// domains holds the registry pages' fresh keys and upload slot
	// (domains.go).
	domains domainsState
	// vpStore is Options.Presentations (oid4vp).
	vpStore oid4vp.Store
	// referrals (referrals.go); photos of referrals and cards are read by
	// the desk's scanner.
	referrals *referral.Service
	// --- desk (issue 7): the service points, and the QR decoder of
	// uploads and camera frames.
	desk    *servicepoint.Service
	scanner *scan.Decoder // uploads
	frames  *scan.Decoder // camera frames
	// --- end desk

	// holders is Options.Holders (wallet.go); fetch Options.Fetch.
	holders *holder.Service
	fetch   *fetch.Client
	// present keeps the OpenID4VP requests waiting for the holder's
	// answer (wallet_present.go).
	present presentState
	// walletDoors limits the wallet's recovery and reset doors per client
	// (wallet/account, wallet_account_limit.go).
	walletDoors *doorLimiter
	// walletOpens limits how many wallets one client address opens (each
	// costs two argon2id derivations and a record): generous, since a
	// camp's phones may share one address.
	walletOpens *doorLimiter
	// --- wallet/pwa: the files (the service worker), the app's icons.
	files fs.FS
	icons walletIcons
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.Issuer == nil || opts.Files == nil {
		return nil, errors.New("http: Issuer and Files are required")
	}
	s := &Server{svc: opts.Issuer, imports: opts.Importer, ready: opts.Ready, log: opts.Logger, secure: opts.Secure, rand: opts.Rand, vcOpenOrg: opts.VCAPIOpenOrg,
		trust: opts.Trust, registry: opts.Registry, parts: opts.Parts, vpStore: opts.Presentations, referrals: opts.Referrals}
	if s.parts == 0 {
		s.parts = PartAll
	}
	// --- desk (issue 7)
	s.desk = opts.ServicePoints
	// --- end desk
	s.holders, s.fetch = opts.Holders, opts.Fetch
	s.walletDoors = newDoorLimiter(defaultDoorLimits(), opts.Issuer.Now) // wallet/account
	s.walletOpens = newDoorLimiter(doorLimits{PerClient: 60, Window: 15 * time.Minute, MaxEntries: 100_000}, opts.Issuer.Now)
	s.files = opts.Files // wallet/pwa
	if s.fetch == nil {
		s.fetch = fetch.New(fetch.Options{})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	var err error
	if s.cat, err = loadCatalogues(opts.Files); err != nil {
		return nil, err
	}
	if s.pages, err = loadPages(opts.Files); err != nil {
		return nil, err
	}
	if s.nonces, err = oid4vci.NewNonces(s.rand, vciNonceTTL, opts.Issuer.Now); err != nil {
		return nil, err
	}
	// --- desk (issue 7)
	if s.scanner, err = scan.New(scan.Options{MaxBytes: maxPhotoUpload, Timeout: deskUploadTimeout}); err != nil {
		return nil, err
	}
	if s.frames, err = scan.New(scan.Options{MaxBytes: maxFrame}); err != nil {
		return nil, err
	}
	// --- end desk
	static, err := fs.Sub(opts.Files, "static")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix("/static/", http.FileServerFS(static))

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests, s.headers)
	for _, r := range s.Routes() {
		e.Add(r.Method, r.Path, s.guard(r))
	}
	s.echo = e

	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	// Wallets post to the OpenID4VCI endpoints from anywhere; they carry
	// no cookie, so a cross-origin post forges nothing.
	for _, p := range []string{"POST /orgs/{org}/token", "POST /orgs/{org}/nonce", "POST /orgs/{org}/credential"} {
		cop.AddInsecureBypassPattern(p)
	}
	// oid4vp: so do wallets to the OpenID4VP request_uri and response_uri.
	for _, p := range []string{"POST /verify/oid4vp/requests/{tx}", "POST /verify/oid4vp/responses/{tx}"} {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := e.NewContext(r, w)
		s.handleError(errCrossOrigin, c)
	}))
	s.handler = cop.Handler(e)
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// logRequests logs each request once: method, route pattern (never the
// path or query, which may name a person), status and duration.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := make([]byte, 8)
		_, _ = io.ReadFull(s.rand, id)
		reqID := hex.EncodeToString(id)
		c.Response().Header().Set("X-Request-Id", reqID)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []any{logRequest, reqID, logMethod, c.Request().Method, logRoute, c.Path(),
			logStatus, c.Response().Status, logDuration, time.Since(start).Milliseconds()}
		if p, ok := principalOf(c); ok {
			attrs = append(attrs, logPrincip, p.StaffID+p.TokenID)
		}
		s.log.InfoContext(c.Request().Context(), "request", attrs...)
		return nil
	}
}

// headers sets the security headers of every response and bounds the
// request body.
func (s *Server) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		r := c.Request()
		limit := int64(maxBody)
		if isUpload(c) {
			limit = maxUpload
		}
		if isTokenListUpload(c) { // domains (issue 7)
			limit = maxTokenListUpload
		}
		if n, ok := bodyLimits[c.Path()]; ok && r.Method == http.MethodPost {
			limit = n
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// bodyLimits are the POST routes whose bodies may pass maxBody: photos
// and PDFs of QR codes (the desk's, referrals', the web wallet's), camera
// frames, and wallet backups being restored.
var bodyLimits = map[string]int64{
	"/verify/check": maxPhotoUpload, "/verify/referrals": maxPhotoUpload, "/verify/scan/frame": maxFrame,
	"/wallet/receive": maxPhotoUpload, "/wallet/import": maxPhotoUpload, "/api/v1/wallet/cards": maxPhotoUpload,
	"/wallet/present": maxPhotoUpload, "/wallet/receive/frame": maxFrame, "/wallet/present/frame": maxFrame,
	"/wallet/settings/restore": maxWalletRestore, "/api/v1/wallet/restore": maxWalletRestore,
}

// isAPI tells whether a request is for the JSON API (or another machine
// endpoint), whose errors are JSON.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/orgs/") || strings.HasPrefix(p, "/status/") || p == "/healthz" || p == "/readyz" ||
		strings.HasPrefix(p, "/credentials/") || strings.HasPrefix(p, "/.well-known/") ||
		strings.HasPrefix(p, "/verify/oid4vp/requests/") || strings.HasPrefix(p, "/verify/oid4vp/responses/") ||
		strings.HasPrefix(p, "/presentations/") || // vcapi (issue 7)
		strings.HasPrefix(p, "/wallet/api/") // the wallet's own JSON (issue 8)
}

// printer returns the card printer, made at its first use.
func (s *Server) printer() (*pdf.Printer, error) {
	s.printerOnce.Do(func() { s.printerV, s.printerErr = pdf.NewPrinter() })
	return s.printerV, s.printerErr
}
