package config

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string, files map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := NewLoader(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return l.Load(func(k string) string { return env[k] }, func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	})
}

func TestLoadPrecedence(t *testing.T) {
	file := map[string]string{"c.json": `{"addr":"0.0.0.0:9000","data":"/file","sessionIdle":"10m","orgName":"From the file"}`}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(c Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c Config) bool { return c == Default() }, ""},
		{"file", []string{"--config", "c.json"}, nil, func(c Config) bool {
			return c.Addr == "0.0.0.0:9000" && c.DataDir == "/file" && c.SessionIdle == 10*time.Minute && c.OrgName == "From the file"
		}, ""},
		{"environment over file", []string{"--config", "c.json"}, map[string]string{"TALLY_ADDR": "127.0.0.1:7000"}, func(c Config) bool {
			return c.Addr == "127.0.0.1:7000" && c.DataDir == "/file"
		}, ""},
		{"flags over environment", []string{"--addr", "127.0.0.1:0", "--data", "/flag"}, map[string]string{"TALLY_ADDR": "127.0.0.1:7000", "TALLY_DATA": "/env"}, func(c Config) bool {
			return c.Addr == "127.0.0.1:0" && c.DataDir == "/flag"
		}, ""},
		{"file named by the environment", nil, map[string]string{"TALLY_CONFIG": "c.json"}, func(c Config) bool { return c.DataDir == "/file" }, ""},
		{"missing file", []string{"--config", "nope.json"}, nil, nil, "configuration file"},
		{"bad duration in the environment", nil, map[string]string{"TALLY_SESSION_TTL": "soon"}, nil, "TALLY_SESSION_TTL"},
		{"bad duration in a flag", []string{"--session-idle", "1 hour"}, nil, nil, "--session-idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.args, tc.env, file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("Load = %+v, %v", c, err)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown key", `{"adress":"x"}`, `unknown setting "adress"`},
		{"not an object", `[1]`, "not a JSON object"},
		{"number for a duration", `{"sessionTTL":3600}`, "give a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, []string{"--config", "c.json"}, nil, map[string]string{"c.json": tc.file})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"address without a port", func(c *Config) { c.Addr = "localhost" }, []string{"addr (--addr, TALLY_ADDR)"}},
		{"port out of range", func(c *Config) { c.Addr = "127.0.0.1:70000" }, []string{"addr"}},
		{"no data directory", func(c *Config) { c.DataDir = " " }, []string{"data (--data, TALLY_DATA)"}},
		{"base URL with a path", func(c *Config) { c.BaseURL = "https://x.example/tally" }, []string{"baseURL"}},
		{"base URL not http", func(c *Config) { c.BaseURL = "ftp://x.example" }, []string{"baseURL"}},
		{"http base URL under TLS", func(c *Config) { c.BaseURL = "http://x.example"; c.TLSCert, c.TLSKey = "c", "k" }, []string{"baseURL"}},
		{"certificate without key", func(c *Config) { c.TLSCert = "c" }, []string{"tlsKey"}},
		{"bad slug", func(c *Config) { c.OrgSlug = "Demo Org" }, []string{"org (--org"}},
		{"bad admin", func(c *Config) { c.AdminUsername = "a" }, []string{"admin (--admin"}},
		{"idle longer than the lifetime", func(c *Config) { c.SessionIdle = 13 * time.Hour }, []string{"sessionIdle"}},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, []string{"logLevel"}},
		{"VC API opened on every interface", func(c *Config) { c.VCAPIOpen = true; c.Addr = ":8080" }, []string{"vcAPIOpen (--vc-api-open, TALLY_VC_API_OPEN)"}},
		{"VC API opened on a public address", func(c *Config) { c.VCAPIOpen = true; c.Addr = "192.0.2.10:8080" }, []string{"vcAPIOpen"}},
		{"VC API opened behind a public base URL", func(c *Config) { c.VCAPIOpen = true; c.BaseURL = "https://tally.example.org" }, []string{"vcAPIOpen"}},
		{"every bad value named at once", func(c *Config) { c.Addr = ""; c.DataDir = ""; c.LogLevel = "" }, []string{"addr", "data", "logLevel"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// TestVCAPIOpenSetting: --vc-api-open is a flag without a value, true or
// false in the environment and the file, and valid on loopback only.
func TestVCAPIOpenSetting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		files map[string]string
		want  bool
	}{
		{"off by default", nil, nil, nil, false},
		{"flag alone", []string{"--vc-api-open"}, nil, nil, true},
		{"flag false over the environment", []string{"--vc-api-open=false"}, map[string]string{"TALLY_VC_API_OPEN": "true"}, nil, false},
		{"environment", nil, map[string]string{"TALLY_VC_API_OPEN": "1"}, nil, true},
		{"file, as a JSON boolean", []string{"--config", "c.json"}, nil, map[string]string{"c.json": `{"vcAPIOpen":true}`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.args, tc.env, tc.files)
			if err != nil || c.VCAPIOpen != tc.want {
				t.Fatalf("VCAPIOpen = %v, %v; want %v", c.VCAPIOpen, err, tc.want)
			}
		})
	}
	if _, err := load(t, nil, map[string]string{"TALLY_VC_API_OPEN": "yes please"}, nil); err == nil || !strings.Contains(err.Error(), "TALLY_VC_API_OPEN") {
		t.Fatalf("a bad value: %v", err)
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:0", "127.0.0.2:9000"} {
		c := Default()
		c.VCAPIOpen, c.Addr = true, addr
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	c := Default()
	c.VCAPIOpen, c.BaseURL = true, "http://127.0.0.1:8080"
	if err := c.Validate(); err != nil {
		t.Errorf("loopback base URL: %v", err)
	}
}
