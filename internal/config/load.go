package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setting is one configuration value: its JSON key, flag, environment
// variable, and how to set it from text.
type setting struct {
	key, flag, env, usage string
	set                   func(c *Config, v string) error
	get                   func(c Config) string
	// boolean settings are flags given without a value (--vc-api-open),
	// and true or false elsewhere.
	boolean bool
	// repeated settings are lists: the flag may be given more than once,
	// and every form takes a comma-separated list.
	repeated bool
}

func str(p func(c *Config) *string) (func(*Config, string) error, func(Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil },
		func(c Config) string { return *p(&c) }
}

func dur(p func(c *Config) *time.Duration) (func(*Config, string) error, func(Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration like 30m or 12h", v)
			}
			*p(c) = d
			return nil
		},
		func(c Config) string { return p(&c).String() }
}

func boolean(p func(c *Config) *bool) (func(*Config, string) error, func(Config) string) {
	return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*p(c) = b
			return nil
		},
		func(c Config) string { return strconv.FormatBool(*p(&c)) }
}

// boolFlag is a boolean setting's flag: given alone it means true.
type boolFlag struct{ v *string }

func (f boolFlag) String() string {
	if f.v == nil {
		return ""
	}
	return *f.v
}

func (f boolFlag) Set(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*f.v = v
	return nil
}

func (f boolFlag) IsBoolFlag() bool { return true }

func settings() []setting {
	s := func(key, flagName, env, usage string, set func(*Config, string) error, get func(Config) string) setting {
		return setting{key: key, flag: flagName, env: env, usage: usage, set: set, get: get}
	}
	var out []setting
	add := func(x setting) { out = append(out, x) }
	set, get := str(func(c *Config) *string { return &c.Addr })
	add(s("addr", "addr", "TALLY_ADDR", "address to listen on, HOST:PORT", set, get))
	set, get = str(func(c *Config) *string { return &c.DataDir })
	add(s("data", "data", "TALLY_DATA", "data directory (tally.db, master.key)", set, get))
	set, get = str(func(c *Config) *string { return &c.BaseURL })
	add(s("baseURL", "base-url", "TALLY_BASE_URL", "public URL of this instance, such as https://tally.example.org (default http://ADDR)", set, get))
	set, get = str(func(c *Config) *string { return &c.TLSCert })
	add(s("tlsCert", "tls-cert", "TALLY_TLS_CERT", "TLS certificate file (PEM); with --tls-key, serve HTTPS", set, get))
	set, get = str(func(c *Config) *string { return &c.TLSKey })
	add(s("tlsKey", "tls-key", "TALLY_TLS_KEY", "TLS private key file (PEM)", set, get))
	set, get = str(func(c *Config) *string { return &c.MasterKeyFile })
	add(s("masterKeyFile", "master-key-file", "TALLY_MASTER_KEY_FILE", "file holding the passphrase that seals organisation keys (default DATA/master.key, made at first start)", set, get))
	set, get = str(func(c *Config) *string { return &c.OrgSlug })
	add(s("org", "org", "TALLY_ORG", "short name of the organisation the first start creates", set, get))
	set, get = str(func(c *Config) *string { return &c.OrgName })
	add(s("orgName", "org-name", "TALLY_ORG_NAME", "display name of the organisation the first start creates", set, get))
	set, get = str(func(c *Config) *string { return &c.AdminUsername })
	add(s("admin", "admin", "TALLY_ADMIN", "user name of the administrator the first start creates", set, get))
	set, get = dur(func(c *Config) *time.Duration { return &c.SessionTTL })
	add(s("sessionTTL", "session-ttl", "TALLY_SESSION_TTL", "longest a staff session lasts", set, get))
	set, get = dur(func(c *Config) *time.Duration { return &c.SessionIdle })
	add(s("sessionIdle", "session-idle", "TALLY_SESSION_IDLE", "a staff session unused this long ends", set, get))
	set, get = str(func(c *Config) *string { return &c.LogLevel })
	add(s("logLevel", "log-level", "TALLY_LOG_LEVEL", "debug, info, warn or error", set, get))
	// --- vcapi ---
	set, get = boolean(func(c *Config) *bool { return &c.VCAPIOpen })
	open := s("vcAPIOpen", "vc-api-open", "TALLY_VC_API_OPEN", "open /credentials/issue and /credentials/status without credentials, for conformance test suites (loopback --addr only)", set, get)
	open.boolean = true
	add(open)
	// --- trust ---
	set, get = str(func(c *Config) *string { return &c.Trust })
	add(s("trust", "trust", "TALLY_TRUST", "trust list file (signed JWS, or plain JSON) loaded at start", set, get))
	anchors := s("trustAnchors", "trust-anchor", "TALLY_TRUST_ANCHOR", "file holding a trust anchor's public key (JWK); repeat, or give a comma-separated list",
		func(c *Config, v string) error { c.TrustAnchors = v; return nil },
		func(c Config) string { return c.TrustAnchors })
	anchors.repeated = true
	add(anchors)
	set, get = boolean(func(c *Config) *bool { return &c.Offline })
	offline := s("offline", "offline", "TALLY_OFFLINE", "fetch nothing from the network: verify from the status lists kept (and this instance's own)", set, get)
	offline.boolean = true
	add(offline)
	set, get = dur(func(c *Config) *time.Duration { return &c.MaxStatusAge })
	add(s("maxStatusAge", "max-status-age", "TALLY_MAX_STATUS_AGE", "refuse a credential whose status lists were signed longer ago than this (0: accept, with a warning)", set, get))
	// --- end trust ---
	return out
}

// listFlag is a repeated setting's flag: each use adds to the list.
type listFlag struct{ v *string }

func (f listFlag) String() string {
	if f.v == nil {
		return ""
	}
	return *f.v
}

func (f listFlag) Set(v string) error {
	if *f.v != "" {
		v = *f.v + "," + v
	}
	*f.v = v
	return nil
}

func settingOf(key string) setting {
	for _, s := range settings() {
		if s.key == key {
			return s
		}
	}
	return setting{key: key, flag: key, env: "?"}
}

// Loader loads a Config from flags it registers on a flag set, the
// environment and a file.
type Loader struct {
	fs   *flag.FlagSet
	keys map[string]bool
	file *string
	vals map[string]*string
}

// NewLoader registers flags on fs for the settings named by keys (the
// JSON keys of Config; every setting if none), and --config FILE. Parse
// fs, then call Load.
func NewLoader(fs *flag.FlagSet, keys ...string) *Loader {
	l := &Loader{fs: fs, keys: map[string]bool{}, vals: map[string]*string{}}
	def := Default()
	for _, s := range settings() {
		if len(keys) > 0 && !contains(keys, s.key) {
			continue
		}
		l.keys[s.key] = true
		if s.repeated {
			v := s.get(def)
			l.vals[s.flag] = &v
			fs.Var(listFlag{&v}, s.flag, s.usage+" ["+s.env+"]")
			continue
		}
		if s.boolean {
			v := s.get(def)
			l.vals[s.flag] = &v
			fs.Var(boolFlag{&v}, s.flag, s.usage+" ["+s.env+"]")
			continue
		}
		l.vals[s.flag] = fs.String(s.flag, s.get(def), s.usage+" ["+s.env+"]")
	}
	l.file = fs.String("config", "", "JSON configuration file; flags and TALLY_* variables override it [TALLY_CONFIG]")
	return l
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Load returns the defaults, overridden by the file (--config or
// TALLY_CONFIG), then by TALLY_* variables, then by the flags given.
// readFile reads the configuration file. It does not call Validate.
func (l *Loader) Load(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	c := Default()
	path := *l.file
	if path == "" {
		path = getenv("TALLY_CONFIG")
	}
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return c, fmt.Errorf("configuration file: %w", err)
		}
		if err := c.applyFile(data); err != nil {
			return c, fmt.Errorf("configuration file %s: %w", path, err)
		}
	}
	for _, s := range settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	var err error
	l.fs.Visit(func(f *flag.Flag) {
		for _, s := range settings() {
			if s.flag == f.Name && l.keys[s.key] && err == nil {
				if e := s.set(&c, *l.vals[s.flag]); e != nil {
					err = fmt.Errorf("--%s: %w", s.flag, e)
				}
			}
		}
	})
	return c, err
}

// applyFile sets the values a JSON object names; an unknown key is an
// error, so that a misspelt setting is not silently ignored.
func (c *Config) applyFile(data []byte) error {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	for k, raw := range m {
		s := settingOf(k)
		if s.set == nil {
			return fmt.Errorf("unknown setting %q", k)
		}
		var v string
		var b bool
		var list []string
		if s.boolean && json.Unmarshal(raw, &b) == nil {
			v = strconv.FormatBool(b)
		} else if s.repeated && json.Unmarshal(raw, &list) == nil {
			v = strings.Join(list, ",")
		} else if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: give a string (durations like \"30m\")", k)
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}
