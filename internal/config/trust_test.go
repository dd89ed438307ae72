package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The trust settings: --trust-anchor repeats or takes a list, in every
// form; --offline alone means true; a negative --max-status-age is named.
func TestTrustSettings(t *testing.T) {
	c, err := load(t, []string{"--trust", "t.jws", "--trust-anchor", "a.jwk", "--trust-anchor", "b.jwk,c.jwk", "--offline", "--max-status-age", "24h"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trust != "t.jws" || !slices.Equal(c.TrustAnchorFiles(), []string{"a.jwk", "b.jwk", "c.jwk"}) || !c.Offline || c.MaxStatusAge != 24*time.Hour {
		t.Fatalf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err = load(t, nil, map[string]string{"TALLY_TRUST_ANCHOR": "x.jwk, y.jwk", "TALLY_OFFLINE": "true"}, nil)
	if err != nil || !slices.Equal(c.TrustAnchorFiles(), []string{"x.jwk", "y.jwk"}) || !c.Offline {
		t.Fatalf("%+v %v", c, err)
	}
	c, err = load(t, []string{"--config", "c.json"}, nil, map[string]string{"c.json": `{"trustAnchors":["f.jwk","g.jwk"],"offline":true,"maxStatusAge":"1h"}`})
	if err != nil || !slices.Equal(c.TrustAnchorFiles(), []string{"f.jwk", "g.jwk"}) || !c.Offline || c.MaxStatusAge != time.Hour {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = load(t, []string{"--max-status-age", "-1h", "--trust-anchor", "a.jwk,,b.jwk"}, nil, nil)
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "--max-status-age") || !strings.Contains(err.Error(), "TALLY_TRUST_ANCHOR") {
		t.Fatalf("%v", err)
	}
}
