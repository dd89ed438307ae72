package oid4vp_test

import (
	"flag"
	"net/url"
	"testing"

	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/internal/oid4vp"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// Seeds of the parsers, shared by the fuzz targets and their corpora.
var (
	querySeeds = map[string]fuzzcorpus.Seed{
		"preset":       {[]byte(`{"credentials":[{"id":"registration","format":"dc+sd-jwt","meta":{"vct_values":["https://tally-id.github.io/vct/RegistrationCredential"]},"claims":[{"path":["fullName"]},{"path":["dedupSeed"]}]}]}`)},
		"claim-sets":   {[]byte(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{},"claims":[{"id":"a","path":["a"]},{"id":"b","path":["b",null,0]}],"claim_sets":[["a","b"],["a"]]}]}`)},
		"sets":         {[]byte(`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{}},{"id":"b","format":"mso_mdoc","meta":{}}],"credential_sets":[{"options":[["a"],["b"]],"required":false}]}`)},
		"values":       {[]byte(`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{},"claims":[{"path":["age"],"values":[18,true,"x"]}]}]}`)},
		"bad-id":       {[]byte(`{"credentials":[{"id":"a b","format":"dc+sd-jwt","meta":{}}]}`)},
		"negative":     {[]byte(`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{},"claims":[{"path":["a",-1]}]}]}`)},
		"dangling-set": {[]byte(`{"credentials":[{"id":"a","format":"f","meta":{}}],"credential_sets":[{"options":[["z"]]}]}`)},
		"empty":        {[]byte(`{}`)},
	}
	responseSeeds = map[string]fuzzcorpus.Seed{
		"good":     {"vp_token=%7B%22registration%22%3A%5B%22eyJ~d~kb%22%5D%7D&state=abc"},
		"error":    {"error=access_denied&error_description=no&state=abc"},
		"both":     {"error=access_denied&vp_token=%7B%7D"},
		"string":   {"vp_token=eyJhbGciOi~&state=abc"},
		"dup-key":  {"vp_token=%7B%22a%22%3A%5B%22x%22%5D%2C%22a%22%3A%5B%22y%22%5D%7D"},
		"repeated": {"state=a&state=b"},
		"jwt":      {"response=eyJ.a.b.c.d"},
	}
)

// TestFuzzCorpus keeps the seed corpora of this package's fuzz targets in
// testdata/fuzz.
func TestFuzzCorpus(t *testing.T) {
	keep := func(name string, seeds map[string]fuzzcorpus.Seed) {
		fuzzcorpus.Keep(t, name, *updateCorpus, "go test ./internal/oid4vp -run TestFuzzCorpus -update-corpus", seeds)
	}
	keep("FuzzParseQuery", querySeeds)
	keep("FuzzParseResponse", responseSeeds)
}

// FuzzParseQuery: no input panics the DCQL parser, and what it accepts
// is a query that checks, names credentials by valid ids, and survives a
// round trip.
func FuzzParseQuery(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s[0].([]byte))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := oid4vp.ParseQuery(b)
		if err != nil {
			return
		}
		if len(q.Credentials) == 0 || q.Check() != nil {
			t.Fatalf("accepted %q", b)
		}
		for _, c := range q.Credentials {
			if c.ID == "" || c.Format == "" {
				t.Fatalf("accepted a credential query without id or format: %q", b)
			}
			for _, cl := range c.Claims {
				for _, p := range cl.Path {
					switch v := p.(type) {
					case nil, string:
					case int:
						if v < 0 {
							t.Fatalf("negative index accepted: %q", b)
						}
					default:
						t.Fatalf("path component %T accepted: %q", p, b)
					}
				}
			}
		}
	})
}

// FuzzParseResponse: no form panics the response parser, and what it
// accepts is either an error response or a VP Token of non-empty arrays
// of non-empty presentations.
func FuzzParseResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add(s[0].(string))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, perr := oid4vp.ParseResponse(form)
		if perr != nil {
			if perr.Code != "invalid_request" || perr.Status != 400 {
				t.Fatalf("error %+v", perr)
			}
			return
		}
		if r.Error == "" && len(r.VPToken) == 0 {
			t.Fatalf("accepted %q with neither error nor vp_token", raw)
		}
		for id, list := range r.VPToken {
			if id == "" || len(list) == 0 {
				t.Fatalf("accepted %q", raw)
			}
			for _, p := range list {
				if p == "" {
					t.Fatalf("accepted an empty presentation in %q", raw)
				}
			}
		}
	})
}
