package verifier_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/verifier"
)

// testNow is inside every sample's validity window.
var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// fixture is a real issuer (Ed25519, did:web) with its status lists served
// over real HTTP by an httptest server, and a trust list that names it.
type fixture struct {
	key   *credentials.Key
	trust *verifier.TrustList
	srv   *httptest.Server
	base  string

	mu    sync.Mutex
	lists map[string]*credentials.StatusList
	hits  int
	// signedAt is when the server signs the lists it serves (testNow if
	// zero); cacheControl is its Cache-Control header ("max-age=300" if
	// empty).
	signedAt     time.Time
	cacheControl string
	// bitstringDown makes the server fail every Bitstring Status List
	// request, so that only its Token Status Lists can be read;
	// tokenAccept is the Accept header of the last token list request.
	bitstringDown bool
	tokenAccept   string
}

// testKey derives a deterministic key from a label.
func testKey(t testing.TB, label, did string) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{key: testKey(t, "org-a", "did:web:org-a.example"), lists: map[string]*credentials.StatusList{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/token/{n}", f.serveTokenList)
	mux.HandleFunc("GET /status/{purpose}/{n}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.hits++
		if f.bitstringDown {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		l, ok := f.lists[r.PathValue("purpose")+"/"+r.PathValue("n")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		at, cc := f.signedAt, f.cacheControl
		if at.IsZero() {
			at = testNow
		}
		if cc == "" {
			cc = "max-age=300"
		}
		body, err := credentials.IssueStatusList(l, f.key, at)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", cc)
		_, _ = w.Write(body)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.base = f.srv.URL + "/status"
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		path := credentials.StatusListPath(p, 3)
		l, err := credentials.NewStatusList(f.base+"/"+path, f.key.DID, p, credentials.MinStatusListSize)
		if err != nil {
			t.Fatal(err)
		}
		f.lists[path] = l
	}
	f.trust = f.trustFor(t, credentials.Types()...)
	return f
}

// serveTokenList serves the Token Status List made from the revocation and
// suspension lists of the same number, as an issuer does.
func (f *fixture) serveTokenList(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	f.tokenAccept = r.Header.Get("Accept")
	n := r.PathValue("n")
	rev, ok1 := f.lists["revocation/"+n]
	susp, ok2 := f.lists["suspension/"+n]
	if !ok1 || !ok2 {
		http.NotFound(w, r)
		return
	}
	at, cc := f.signedAt, f.cacheControl
	if at.IsZero() {
		at = testNow
	}
	if cc == "" {
		cc = "max-age=300"
	}
	l, err := credentials.TokenStatusListOf(f.base+"/token/"+n, rev, susp)
	if err == nil {
		var body []byte
		if body, err = credentials.IssueTokenStatusList(l, f.key, at); err == nil {
			w.Header().Set("Content-Type", credentials.TokenStatusListMediaType)
			w.Header().Set("Cache-Control", cc)
			_, _ = w.Write(body)
			return
		}
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// trustFor is a trust list naming the fixture's issuer for the given types.
func (f *fixture) trustFor(t testing.TB, types ...credentials.Type) *verifier.TrustList {
	t.Helper()
	iss, err := verifier.NewTrustedIssuer("Organisation A", types, f.key)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = f.base
	list := verifier.NewTrustList("test")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	return list
}

func (f *fixture) setStatus(t testing.TB, purpose string, index int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.lists[credentials.StatusListPath(purpose, 3)].Set(index, true); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) clearStatus(t testing.TB, purpose string, index int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.lists[credentials.StatusListPath(purpose, 3)].Set(index, false); err != nil {
		t.Fatal(err)
	}
}

// serve makes the server sign its lists at signedAt and send cacheControl.
func (f *fixture) serve(signedAt time.Time, cacheControl string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signedAt, f.cacheControl = signedAt, cacheControl
}

// fetches is how many lists the server has served.
func (f *fixture) fetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// signedList is the fixture's list of purpose, signed at.
func (f *fixture) signedList(t testing.TB, purpose string, at time.Time) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	body, err := credentials.IssueStatusList(f.lists[credentials.StatusListPath(purpose, 3)], f.key, at)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func (f *fixture) verifier(t testing.TB, opts verifier.Options) *verifier.Verifier {
	t.Helper()
	if opts.Trust == nil {
		opts.Trust = f.trust
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Formats == nil {
		opts.Formats = []verifier.FormatParser{testDI}
	}
	v, err := verifier.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// testIndex is the status index the fixture's credentials get.
const testIndex = 94567

// sample reads a sample, gives it a status entry, and prepares it for key.
func sample(t testing.TB, name string, key *credentials.Key, base string) *credentials.Credential {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "samples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries(base, 3, testIndex)
	credentials.SetSubjectSeed(c.Subject, credentials.Seed("0123456789abcdef"))
	if err := credentials.Prepare(&c, key.DID, nil); err != nil {
		t.Fatal(err)
	}
	return &c
}

// issue secures c in format fm with key, issued at testNow.
func issue(t testing.TB, fm credentials.Format, c *credentials.Credential, key *credentials.Key) []byte {
	t.Helper()
	var out string
	var err error
	switch fm {
	case credentials.FormatQR:
		out, err = credentials.IssueCard(c, key, testNow)
	case credentials.FormatJWT:
		out, err = credentials.IssueJWT(c, key, testNow)
	case credentials.FormatSDJWT:
		out, err = credentials.IssueSDJWT(c, key, testNow, credentials.SDJWTOptions{})
	case credentials.FormatDataIntegrity:
		var b []byte
		b, err = testDI.Issue(c, key, testNow)
		out = string(b)
	}
	if err != nil {
		t.Fatalf("issue %s: %v", fm, err)
	}
	return []byte(out)
}

// clockNow is a clock stopped at testNow.
func clockNow() time.Time { return testNow }

// testDI is the Data Integrity processor the tests issue with and register
// with their verifiers.
var testDI = func() *dataintegrity.Processor {
	p, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		panic(err)
	}
	return p
}()
