package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"

	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/web"
)

// The walker's dedup domain (domains, issue 7): a consortium of demo and
// agency-b, with scans of its own and a list agency-b sent.
const (
	walkDomain   = "camp-2026"
	walkPeer     = "agency-b"
	walkKeyHex   = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
	multipartB   = "tallyboundary7"
	multipartCT  = "multipart/form-data; boundary=" + multipartB
	csvType      = "text/csv"
	domainsJSONT = "application/json"
)

// dtoken is a made-up dedup token: 16 bytes in lower-case base32.
func dtoken(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "person %d", i))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// tokenList is a token list of domain: tokens from..to-1, in programme
// and month, each scanned count times.
func tokenList(domain string, from, to int, programme, month string, count int) string {
	var b strings.Builder
	b.WriteString(registry.ListHeader + "\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%d\n", domain, dtoken(i), programme, month, count)
	}
	return b.String()
}

// multipartBody is a multipart form with the walker's boundary: fields,
// then files as name, file name, content.
func multipartBody(fields []string, files ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", multipartB, fields[i], fields[i+1])
	}
	for i := 0; i+2 < len(files); i += 3 {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q; filename=%q\r\nContent-Type: text/csv\r\n\r\n%s\r\n", multipartB, files[i], files[i+1], files[i+2])
	}
	fmt.Fprintf(&b, "--%s--\r\n", multipartB)
	return b.String()
}

// domainsFixture adds the walker's domain to e's registry, with 30 scans
// of its own in March 2026 and agency-b's list (tokens 20 to 49).
func domainsFixture(e *env) {
	ctx := context.Background()
	if _, err := e.registry.DomainInfo(ctx, walkDomain); err == nil {
		return
	}
	_, err := e.registry.AddDomain(ctx, registry.NewDomain{ID: walkDomain, Name: "Camp 2026 consortium", Kind: registry.KindConsortium,
		Members: []string{"demo", walkPeer, "other"}, KeyFile: []byte(walkKeyHex)})
	if err != nil {
		e.t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	var scans []registry.Scan
	for i := range 30 {
		scans = append(scans, registry.Scan{Domain: walkDomain, Token: dtoken(i), ServicePoint: "Point 1", Programme: "MPCA-2026", At: at.Add(time.Duration(i) * time.Minute)})
	}
	if _, err := e.registry.RecordMany(ctx, walkDomain, scans); err != nil {
		e.t.Fatal(err)
	}
	l, err := registry.ParseList(strings.NewReader(tokenList(walkDomain, 20, 50, "HEALTH", "2026-03", 1)), walkDomain)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.registry.ImportPeerList(ctx, walkPeer, l); err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, walkKeyHex)
}

var onceRE = regexp.MustCompile(`name="once" value="([A-Za-z0-9_-]+)"`)

// freshDomain adds a domain with a fresh key through the page, as demo's
// consortium administrator, and returns the one-time download's id.
func freshDomain(e *env, id string) string {
	res := e.do(http.MethodPost, "/admin/domains", formType, form("id", id, "name", "Fresh "+id, "kind", "own", "keySource", "new"),
		e.asStaff("demo", issuer.RoleConsortium))
	page := readBody(e.t, res)
	m := onceRE.FindStringSubmatch(page)
	if res.StatusCode != http.StatusCreated || m == nil {
		e.t.Fatalf("%d, no download: %.400s", res.StatusCode, page)
	}
	return m[1]
}

// domainsCases are the walker's cases of the registry's routes.
func domainsCases(e *env) map[string]routeCase {
	domainsFixture(e)
	good := func(n int) string { return tokenList(walkDomain, 40, 60+n%5, "HEALTH", "2026-03", 1+n%3) }
	badCSV := []badInput{
		{"a token that is not one", csvType, strings.Replace(tokenList(walkDomain, 0, 3, "HEALTH", "2026-03", 1), dtoken(1), "not-a-token", 1), http.StatusBadRequest, []string{"file"}, nil},
		{"another domain's rows", csvType, tokenList("elsewhere", 0, 3, "HEALTH", "2026-03", 1), http.StatusBadRequest, []string{"file"}, nil},
		{"not a token list", csvType, "name,date of birth\nFatima,1991-03-14\n", http.StatusBadRequest, []string{"file"}, nil},
		{"empty", csvType, "", http.StatusBadRequest, []string{"file"}, nil},
		{"a month that is not one", csvType, tokenList(walkDomain, 0, 3, "HEALTH", "March", 1), http.StatusBadRequest, []string{"file"}, nil},
	}
	var pageBad []badInput
	for _, b := range badCSV {
		pageBad = append(pageBad, badInput{b.name, multipartCT, multipartBody([]string{"peer", walkPeer}, "file", "list.csv", b.body), b.status, b.fields, nil})
	}
	pageBad = append(pageBad,
		badInput{"nothing", multipartCT, multipartBody(nil), http.StatusBadRequest, []string{"peer", "file"}, nil},
		badInput{"not a multipart form", formType, form("peer", walkPeer), http.StatusBadRequest, []string{"file"}, nil},
		badInput{"not a member", multipartCT, multipartBody([]string{"peer", "agency-z"}, "file", "list.csv", good(1)), http.StatusBadRequest, []string{"peer"}, nil},
		badInput{"own organisation", multipartCT, multipartBody([]string{"peer", "demo"}, "file", "list.csv", good(1)), http.StatusBadRequest, []string{"peer"}, nil},
	)
	apiBad := append([]badInput{
		{"not CSV", domainsJSONT, `{"rows":[]}`, http.StatusBadRequest, []string{"body"}, nil},
		{"oversized", csvType, registry.ListHeader + "\n" + strings.Repeat(walkDomain+","+dtoken(1)+",HEALTH,2026-03,1\n", (32<<20)/50), http.StatusRequestEntityTooLarge, nil, nil},
	}, badCSV...)
	createForm := func(kv ...string) string {
		base := map[string]string{"id": "x-1", "name": "X", "kind": "consortium", "keySource": "new"}
		for i := 0; i+1 < len(kv); i += 2 {
			base[kv[i]] = kv[i+1]
		}
		var fields []string
		for _, k := range []string{"id", "name", "kind", "members", "keySource"} {
			fields = append(fields, k, base[k])
		}
		return form(fields...)
	}
	return map[string]routeCase{
		"GET /admin/domains": {status: http.StatusOK},
		"POST /admin/domains": {
			contentType: formType, status: http.StatusCreated,
			good: func(n int) string { return createForm("id", fmt.Sprintf("fresh-%d", n), "members", walkPeer) },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"id", "name", "kind", "keySource"}, nil},
				{"id taken", formType, createForm("id", walkDomain), http.StatusBadRequest, []string{"id"}, nil},
				{"id with spaces", formType, createForm("id", "camp 2026"), http.StatusBadRequest, []string{"id"}, nil},
				{"a member that cannot be one", formType, createForm("members", "agency b;drop"), http.StatusBadRequest, []string{"members"}, nil},
				{"join without a key file", formType, createForm("keySource", "file"), http.StatusBadRequest, []string{"key"}, nil},
				{"a key file that is not one", multipartCT, multipartBody([]string{"id", "x-2", "name", "X", "kind", "consortium", "keySource", "file"}, "key", "x.key", "0123"),
					http.StatusBadRequest, []string{"key"}, nil},
				{"a key file and a new key", multipartCT, multipartBody([]string{"id", "x-3", "name", "X", "kind", "consortium", "keySource", "new"}, "key", "x.key", walkKeyHex),
					http.StatusBadRequest, []string{"key"}, nil},
			},
		},
		"POST /admin/domain-key": {
			contentType: formType, status: http.StatusOK, otherStatus: http.StatusNotFound,
			good: func(n int) string { return form("once", freshDomain(e, fmt.Sprintf("once-%d", n))) },
			bad: []badInput{
				{"no download", formType, "", http.StatusNotFound, nil, nil},
				{"an unknown download", formType, form("once", "AAAAAAAAAAAAAAAAAAAAAA"), http.StatusNotFound, nil, nil},
			},
		},
		"GET /admin/domains/:domain":            {status: http.StatusOK},
		"GET /admin/domains/:domain/tokens.csv": {status: http.StatusOK},
		"POST /admin/domains/:domain/peers": {
			contentType: multipartCT, status: http.StatusSeeOther,
			good: func(n int) string { return multipartBody([]string{"peer", walkPeer}, "file", "list.csv", good(n)) },
			bad:  pageBad,
		},
		"GET /admin/domains/:domain/peers/:peer":            {status: http.StatusOK},
		"GET /admin/domains/:domain/peers/:peer/report.csv": {status: http.StatusOK},
		"GET /api/v1/domains":                               {status: http.StatusOK},
		"POST /api/v1/domains": {
			contentType: domainsJSONT, status: http.StatusCreated,
			good: func(n int) string {
				return fmt.Sprintf(`{"id":"api-%d","name":"API %d","kind":"consortium","members":[%q]}`, n, n, walkPeer)
			},
			bad: []badInput{
				{"not JSON", formType, form("id", "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", domainsJSONT, `{"id":"x","name":"X","kind":"own","secret":"y"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", domainsJSONT, `{}`, http.StatusBadRequest, []string{"id", "name", "kind"}, nil},
				{"id taken", domainsJSONT, fmt.Sprintf(`{"id":%q,"name":"X","kind":"own"}`, walkDomain), http.StatusBadRequest, []string{"id"}, nil},
				{"a key that is not one", domainsJSONT, `{"id":"x-4","name":"X","kind":"consortium","key":"0123"}`, http.StatusBadRequest, []string{"key"}, nil},
				{"a member that cannot be one", domainsJSONT, `{"id":"x-5","name":"X","kind":"consortium","members":["a b"]}`, http.StatusBadRequest, []string{"members"}, nil},
				{"unknown kind", domainsJSONT, `{"id":"x-6","name":"X","kind":"shared"}`, http.StatusBadRequest, []string{"kind"}, nil},
			},
		},
		"GET /api/v1/domains/:domain":            {status: http.StatusOK},
		"GET /api/v1/domains/:domain/tokens.csv": {status: http.StatusOK},
		"PUT /api/v1/domains/:domain/peers/:peer": {
			contentType: csvType, status: http.StatusOK,
			good: good,
			bad:  apiBad,
		},
		"GET /api/v1/domains/:domain/peers/:peer/report":     {status: http.StatusOK},
		"GET /api/v1/domains/:domain/peers/:peer/report.csv": {status: http.StatusOK},
	}
}

// registryState is a fingerprint of the whole dedup registry: domains,
// tokens and peer lists.
func (e *env) registryState() string {
	h := sha256.New()
	err := e.db.Bolt().View(func(tx *bbolt.Tx) error {
		for _, name := range []string{"registry_domains", "registry_tokens", "registry_peer_lists"} {
			b := tx.Bucket([]byte(name))
			var walk func(b *bbolt.Bucket) error
			walk = func(b *bbolt.Bucket) error {
				return b.ForEach(func(k, v []byte) error {
					h.Write(k)
					h.Write(v)
					if v == nil {
						return walk(b.Bucket(k))
					}
					return nil
				})
			}
			if err := walk(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDomainsBadInputChangesNothing: every bad input of the registry's
// routes leaves the registry as it was (the route walker checks the
// organisations' data; the registry belongs to the instance).
func TestDomainsBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	for key, rc := range domainsCases(e) {
		method, pattern, _ := strings.Cut(key, " ")
		path := e.path(pattern, "demo")
		for _, bad := range rc.bad {
			t.Run(key+" "+bad.name, func(t *testing.T) {
				before := e.registryState()
				res := e.do(method, path, bad.contentType, bad.body, e.asStaff("demo", issuer.RoleConsortium))
				if res.StatusCode != bad.status {
					t.Fatalf("%d, want %d", res.StatusCode, bad.status)
				}
				if e.registryState() != before {
					t.Fatal("a refused request changed the registry")
				}
			})
		}
	}
}

// TestDomainsFreshKeyOnce: a fresh key is downloaded once, by its
// organisation, and is the key the registry derives tokens with; a
// consortium member joins with it.
func TestDomainsFreshKeyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	once := freshDomain(e, "fresh-key")
	// Another organisation's consortium administrator cannot take it.
	if res := e.do(http.MethodPost, "/admin/domain-key", formType, form("once", once), e.asStaff("other", issuer.RoleConsortium)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("other's download: %d", res.StatusCode)
	}
	// Two downloads at once: one gets the key.
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/admin/domain-key", strings.NewReader(form("once", once)))
			req.Header.Set("Content-Type", formType)
			req.AddCookie(&http.Cookie{Name: "tally_session", Value: e.session["demo/"+string(issuer.RoleConsortium)]})
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{}
				return
			}
			defer res.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			answers <- answer{res.StatusCode, b.String()}
		}()
	}
	a, b := <-answers, <-answers
	if a.status == http.StatusNotFound {
		a, b = b, a
	}
	if a.status != http.StatusOK || b.status != http.StatusNotFound {
		t.Fatalf("downloads answered %d and %d, want 200 and 404", a.status, b.status)
	}
	e.secrets = append(e.secrets, strings.TrimSpace(a.body))
	k, err := e.registry.Key(ctx, "fresh-key")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(a.body); got != hex.EncodeToString(k.Secret[:]) {
		t.Fatalf("the download %q is not the sealed key", got)
	}
	// A member joins with the key file.
	res := e.do(http.MethodPost, "/admin/domains", multipartCT,
		multipartBody([]string{"id", "joined", "name", "Joined", "kind", "consortium", "members", "agency-b, agency-c", "keySource", "file"}, "key", "fresh-key.key", a.body),
		e.asStaff("demo", issuer.RoleConsortium))
	page := readBody(t, res)
	if res.StatusCode != http.StatusCreated || onceRE.MatchString(page) || strings.Contains(page, strings.TrimSpace(a.body)) {
		t.Fatalf("join: %d, or it offers or shows the key: %.300s", res.StatusCode, page)
	}
	j, err := e.registry.Key(ctx, "joined")
	if err != nil || j.Secret != k.Secret {
		t.Fatalf("the joined domain's key differs (%v)", err)
	}
	info, err := e.registry.DomainInfo(ctx, "joined")
	if err != nil || strings.Join(info.Members, ",") != "demo,agency-b,agency-c" {
		t.Fatalf("members %v (%v)", info.Members, err)
	}
	// No page shows a key.
	for _, p := range []string{"/admin/domains", "/admin/domains/joined", "/admin/domains/fresh-key"} {
		if body := readBody(t, e.do(http.MethodGet, p, "", "", e.asStaff("demo", issuer.RoleConsortium))); strings.Contains(body, strings.TrimSpace(a.body)) {
			t.Fatalf("%s shows the key", p)
		}
	}
}

// TestDomainsReconciliation: a peer's list uploaded on the page gives the
// report: the chart, the table, the CSV and the JSON, with counts and no
// token; in Arabic the chart runs right to left.
func TestDomainsReconciliation(t *testing.T) {
	e := newEnv(t)
	domainsFixture(e)
	as := e.asStaff("demo", issuer.RoleConsortium)
	// agency-b sends tokens 20..49 in HEALTH, March, and 100..109 in April.
	list := tokenList(walkDomain, 20, 50, "HEALTH", "2026-03", 2) + strings.TrimPrefix(tokenList(walkDomain, 100, 110, "HEALTH", "2026-04", 1), registry.ListHeader+"\n")
	res := e.do(http.MethodPost, "/admin/domains/"+walkDomain+"/peers", multipartCT, multipartBody([]string{"peer", walkPeer}, "file", "b.csv", list), as)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/admin/domains/"+walkDomain+"/peers/"+walkPeer) {
		t.Fatalf("upload: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := readBody(t, e.do(http.MethodGet, res.Header.Get("Location"), "", "", as))
	for _, want := range []string{"<svg", "MPCA-2026", "HEALTH", "2026-03", ">10<", "in both (of 30 and 30)", "The list was imported."} {
		if !strings.Contains(page, want) {
			t.Errorf("the report page lacks %q", want)
		}
	}
	for i := range 110 {
		if strings.Contains(page, dtoken(i)) {
			t.Fatal("the report page shows a token")
		}
	}
	ar := readBody(t, e.do(http.MethodGet, "/admin/domains/"+walkDomain+"/peers/"+walkPeer+"?lang=ar", "", "", as))
	if !strings.Contains(ar, `dir="rtl"`) || !strings.Contains(ar, `direction="rtl"`) || !strings.Contains(ar, "لدى كلتيهما") {
		t.Error("the Arabic report is not right to left, or not in Arabic")
	}
	csv := readBody(t, e.do(http.MethodGet, "/admin/domains/"+walkDomain+"/peers/"+walkPeer+"/report.csv", "", "", e.asStaff("demo", issuer.RoleAdmin)))
	if want := registry.ReportHeader + "\n2026-03,MPCA-2026,HEALTH,30,30,10\n"; csv != want {
		t.Fatalf("report CSV %q, want %q", csv, want)
	}
	var rep struct {
		Report struct {
			A, B                      string
			TokensA, TokensB, Overlap int
			Rows                      []map[string]any
		}
	}
	res = e.do(http.MethodGet, "/api/v1/domains/"+walkDomain+"/peers/"+walkPeer+"/report", "", "", e.asToken("demo", issuer.RoleConsortium))
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	if rep.Report.A != "demo" || rep.Report.B != walkPeer || rep.Report.TokensA != 30 || rep.Report.TokensB != 40 || rep.Report.Overlap != 10 || len(rep.Report.Rows) != 1 {
		t.Fatalf("report %+v", rep.Report)
	}
	// The own list round-trips: what the export says is what the registry holds.
	exp := e.do(http.MethodGet, "/api/v1/domains/"+walkDomain+"/tokens.csv", "", "", e.asToken("demo", issuer.RoleConsortium))
	l, err := registry.ParseList(exp.Body, walkDomain)
	if err != nil || len(l.Rows) != 30 || exp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export: %d rows, %v, %q", len(l.Rows), err, exp.Header.Get("Cache-Control"))
	}
	// A report with a member that sent nothing, or no member at all, is 404.
	for _, p := range []string{"other", "agency-z", "a%20b"} {
		if res := e.do(http.MethodGet, "/api/v1/domains/"+walkDomain+"/peers/"+p+"/report", "", "", e.asToken("demo", issuer.RoleConsortium)); res.StatusCode != http.StatusNotFound {
			t.Errorf("report of %s: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/api/v1/domains/nope", "/api/v1/domains/nope/tokens.csv", "/admin/domains/nope", "/admin/domains/nope/peers/" + walkPeer} {
		if res := e.do(http.MethodGet, p, "", "", as); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	// Through the API, a list under a name that is not a member is refused.
	res = e.do(http.MethodPut, "/api/v1/domains/"+walkDomain+"/peers/agency-z", csvType, list, e.asToken("demo", issuer.RoleConsortium))
	if _, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || strings.Join(fields, ",") != "peer" {
		t.Fatalf("unknown peer: %d %v", res.StatusCode, fields)
	}
	res = e.do(http.MethodPut, "/api/v1/domains/nope/peers/"+walkPeer, csvType, list, e.asToken("demo", issuer.RoleConsortium))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown domain: %d", res.StatusCode)
	}
}

// TestDomainsOpenAPIAnswers: the registry API's real answers match
// docs/openapi.yaml.
func TestDomainsOpenAPIAnswers(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	domainsFixture(e)
	as := e.asToken("demo", issuer.RoleConsortium)
	d := "/api/v1/domains/" + walkDomain
	tests := []struct {
		method, path, doc, ct, body string
		status                      int
	}{
		{"GET", "/api/v1/domains", "/api/v1/domains", "", "", 200},
		{"POST", "/api/v1/domains", "/api/v1/domains", domainsJSONT, `{"id":"openapi-1","name":"Fresh","kind":"own"}`, 201},
		{"POST", "/api/v1/domains", "/api/v1/domains", domainsJSONT, `{"id":"openapi-2","name":"Joined","kind":"consortium","members":["b"],"key":"` + walkKeyHex + `"}`, 201},
		{"POST", "/api/v1/domains", "/api/v1/domains", domainsJSONT, `{}`, 400},
		{"GET", d, "/api/v1/domains/{domain}", "", "", 200},
		{"GET", "/api/v1/domains/nope", "/api/v1/domains/{domain}", "", "", 404},
		{"PUT", d + "/peers/" + walkPeer, "/api/v1/domains/{domain}/peers/{peer}", csvType, tokenList(walkDomain, 0, 5, "HEALTH", "2026-03", 1), 200},
		{"PUT", d + "/peers/" + walkPeer, "/api/v1/domains/{domain}/peers/{peer}", csvType, "x", 400},
		{"GET", d + "/peers/" + walkPeer + "/report", "/api/v1/domains/{domain}/peers/{peer}/report", "", "", 200},
		{"GET", d + "/peers/nobody/report", "/api/v1/domains/{domain}/peers/{peer}/report", "", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+fmt.Sprint(tc.status), func(t *testing.T) {
			res := e.do(tc.method, tc.path, tc.ct, tc.body, as)
			body := readBody(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %.300s", res.StatusCode, tc.status, body)
			}
			op := lookup(doc, "#/paths/"+strings.ReplaceAll(tc.doc, "/", "~1")+"/"+strings.ToLower(tc.method))
			responses, _ := op["responses"].(map[string]any)
			r, ok := responses[fmt.Sprint(tc.status)].(map[string]any)
			if !ok {
				t.Fatalf("docs/openapi.yaml does not say %s %s may answer %d", tc.method, tc.doc, tc.status)
			}
			if ref, ok := r["$ref"].(string); ok {
				r = lookup(doc, ref)
			}
			content, _ := r["content"].(map[string]any)
			c, _ := content["application/json"].(map[string]any)
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			for _, problem := range conforms(doc, c["schema"], v, "body") {
				t.Error(problem)
			}
			if strings.Contains(body, "openapi-2") && strings.Contains(body, walkKeyHex) {
				t.Error("a joined domain's answer shows its key")
			}
		})
	}
}

// TestDomainsWithoutVerifierService: on a server without the verifier
// service (no Trust), the registry's routes answer 404.
func TestDomainsWithoutVerifierService(t *testing.T) {
	e := newEnv(t)
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, Registry: e.registry})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for _, p := range []string{"/admin/domains", "/api/v1/domains"} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+e.token["demo/"+string(issuer.RoleConsortium)])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}
