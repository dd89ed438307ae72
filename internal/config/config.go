// Package config is the configuration of tally's services (tally serve): a
// plain Config with defaults, loaded from flags, then TALLY_* environment
// variables, then an optional JSON file, in that order of precedence, and
// checked by Validate, which names every bad value. Only the command line
// (internal/cli) loads it.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is what tally serve runs with.
type Config struct {
	// Addr is the address to listen on, HOST:PORT.
	Addr string
	// DataDir holds tally.db and, unless MasterKeyFile says otherwise, the
	// master key.
	DataDir string
	// BaseURL is the public URL of this instance (https://tally.example.org),
	// from which organisations' did:web DIDs are made at their creation.
	// Empty: http://ADDR, as listened on.
	BaseURL string
	// TLSCert and TLSKey are PEM files; with both set, tally serves HTTPS
	// and marks its cookies Secure.
	TLSCert string
	TLSKey  string
	// MasterKeyFile holds the passphrase that seals organisations' private
	// keys in tally.db. Empty: DataDir/master.key, made at first start.
	MasterKeyFile string
	// OrgSlug, OrgName and AdminUsername name the organisation and its
	// administrator that the first start creates. Later starts ignore them.
	OrgSlug       string
	OrgName       string
	AdminUsername string
	// SessionTTL is the longest a staff member's session lasts.
	SessionTTL time.Duration
	// SessionIdle ends a session unused this long.
	SessionIdle time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// VCAPIOpen opens the W3C VC API issuer routes (/credentials/issue,
	// /credentials/status) to anyone, without credentials, acting for the
	// first organisation: for running conformance test suites against a
	// local instance. Validate refuses it unless Addr (and BaseURL, if
	// set) is a loopback address.
	VCAPIOpen bool

	// --- trust (issue 7): the verifier's trust lists and offline work ---

	// Trust is a trust list file (signed by a trust anchor, or plain JSON)
	// loaded at start, besides the lists a consortium administrator added.
	Trust string
	// TrustAnchors are files holding trust anchors' public keys (JWK),
	// comma-separated (a string keeps Config comparable): signed trust
	// lists must be signed by one of them. See TrustAnchorFiles.
	TrustAnchors string
	// Offline makes the verifier fetch nothing from the network: status
	// comes from the lists kept (and the instance's own, read in-process).
	Offline bool
	// MaxStatusAge is the status age policy: 0 accepts a credential whose
	// status lists are stale, with a warning; a positive value refuses it
	// when a list used was signed longer ago.
	MaxStatusAge time.Duration
	// --- end trust ---
}

// Default returns the configuration of a fresh install: a demo
// organisation, on the loopback interface, data in ./tally-data.
func Default() Config {
	return Config{
		Addr:          "127.0.0.1:8080",
		DataDir:       "tally-data",
		OrgSlug:       "demo",
		OrgName:       "Demo organisation",
		AdminUsername: "admin",
		SessionTTL:    12 * time.Hour,
		SessionIdle:   30 * time.Minute,
		LogLevel:      "info",
	}
}

// TrustAnchorFiles lists the files of TrustAnchors.
func (c Config) TrustAnchorFiles() []string {
	var out []string
	for _, f := range strings.Split(c.TrustAnchors, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// TLS reports whether the server serves HTTPS.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// DatabasePath is the bbolt file in the data directory.
func (c Config) DatabasePath() string { return filepath.Join(c.DataDir, "tally.db") }

// MasterKeyPath is the master key file: MasterKeyFile, or master.key in
// the data directory.
func (c Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$`)

// Validate checks every value and names each bad one, with its flag and
// environment variable, in one error.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		s := settingOf(key)
		errs = append(errs, fmt.Errorf("%s (--%s, %s): %s", key, s.flag, s.env, fmt.Sprintf(format, args...)))
	}
	if host, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not HOST:PORT, like 127.0.0.1:8080", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.ContainsAny(host, " /") {
		bad("addr", "%q has no valid port (0 to 65535)", c.Addr)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data", "give a directory")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
			bad("baseURL", "%q is not an http or https URL like https://tally.example.org", c.BaseURL)
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("baseURL", "%q must be the scheme and host only, with no path, query or user", c.BaseURL)
		case c.TLS() && u.Scheme != "https":
			bad("baseURL", "%q is http but TLS is on: use https", c.BaseURL)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		if c.TLSCert == "" {
			bad("tlsCert", "give the certificate file too, or neither")
		} else {
			bad("tlsKey", "give the private key file too, or neither")
		}
	}
	if !slugPattern.MatchString(c.OrgSlug) {
		bad("org", "%q is not 1 to 40 lower-case letters, digits and inner hyphens", c.OrgSlug)
	}
	if strings.TrimSpace(c.OrgName) == "" || len(c.OrgName) > 200 {
		bad("orgName", "give a name of at most 100 characters")
	}
	if !usernamePattern.MatchString(c.AdminUsername) {
		bad("admin", "%q is not 3 to 64 lower-case letters, digits, dots, hyphens and underscores", c.AdminUsername)
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		bad("sessionTTL", "%v is not between 1m and 720h", c.SessionTTL)
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > c.SessionTTL {
		bad("sessionIdle", "%v is not between 1m and the session lifetime (%v)", c.SessionIdle, c.SessionTTL)
	}
	if c.VCAPIOpen {
		if host, _, err := net.SplitHostPort(c.Addr); err == nil && !isLoopback(host) {
			bad("vcAPIOpen", "the VC API is opened without credentials only on a loopback address (--addr 127.0.0.1:PORT), not on %q", c.Addr)
		}
		if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || !isLoopback(u.Hostname())) {
			bad("vcAPIOpen", "the VC API is opened without credentials only on a loopback address, and the base URL %q names another host", c.BaseURL)
		}
	}
	// --- trust ---
	for _, f := range strings.Split(c.TrustAnchors, ",") {
		if c.TrustAnchors != "" && strings.TrimSpace(f) == "" {
			bad("trustAnchors", "a file name in %q is empty", c.TrustAnchors)
		}
	}
	if c.MaxStatusAge < 0 {
		bad("maxStatusAge", "%v is negative: give 0 (accept stale status with a warning) or a duration like 24h", c.MaxStatusAge)
	}
	// --- end trust ---
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("logLevel", "%q is not debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host (a name or an IP address, without a
// port) is the local machine's loopback: localhost, 127.0.0.0/8 or ::1.
// An empty host (every interface) is not.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
