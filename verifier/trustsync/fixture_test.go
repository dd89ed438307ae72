package trustsync_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// testNow is inside the samples' validity window.
var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// clock is a clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKey(t testing.TB, label, did string) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issuerServer is a foreign issuer serving its revocation list over real
// HTTP, signed when served; down closes its listener (the network is
// down), up opens it again on the same address.
type issuerServer struct {
	t     testing.TB
	clk   *clock
	key   *credentials.Key
	addr  string
	base  string
	mu    sync.Mutex
	list  *credentials.StatusList
	susp  *credentials.StatusList
	hits  int
	srv   *http.Server
	ln    net.Listener
	trust func() []byte
}

func newIssuerServer(t testing.TB, clk *clock) *issuerServer {
	s := &issuerServer{t: t, clk: clk, key: testKey(t, "org-a", "did:web:org-a.example")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.base = "http://" + s.addr + "/status"
	if s.list, err = credentials.NewStatusList(s.base+"/"+credentials.StatusListPath(credentials.PurposeRevocation, 3), s.key.DID, credentials.PurposeRevocation, credentials.MinStatusListSize); err != nil {
		t.Fatal(err)
	}
	if s.susp, err = credentials.NewStatusList(s.base+"/"+credentials.StatusListPath(credentials.PurposeSuspension, 3), s.key.DID, credentials.PurposeSuspension, credentials.MinStatusListSize); err != nil {
		t.Fatal(err)
	}
	s.serve(ln)
	t.Cleanup(s.down)
	return s
}

func (s *issuerServer) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{purpose}/3", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits++
		l := s.list
		if r.PathValue("purpose") == credentials.PurposeSuspension {
			l = s.susp
		}
		body, err := credentials.IssueStatusList(l, s.key, s.clk.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /trust", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		f := s.trust
		s.mu.Unlock()
		if f == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(f())
	})
	s.ln = ln
	s.srv = &http.Server{Handler: mux}
	go func() { _ = s.srv.Serve(ln) }()
}

func (s *issuerServer) down() {
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

func (s *issuerServer) up() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("the address %s could not be listened on again: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *issuerServer) revoke(index int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.list.Set(index, true); err != nil {
		s.t.Fatal(err)
	}
}

// entry is the issuer's trust list entry.
func (s *issuerServer) entry(t testing.TB) *verifier.TrustedIssuer {
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), s.key)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = s.base
	return iss
}

// signedList is a trust list naming the issuer, signed by anchor at at,
// valid for validFor.
func (s *issuerServer) signedList(t testing.TB, anchor *credentials.Key, name string, at time.Time, validFor time.Duration) []byte {
	t.Helper()
	list := verifier.NewTrustList(name)
	if err := list.Add(s.entry(t)); err != nil {
		t.Fatal(err)
	}
	body, err := verifier.SignTrustList(list, anchor, at, validFor)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

const testIndex = 4242

// credential is a registration credential of the issuer, as a VC-JWT.
func (s *issuerServer) credential(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries(s.base, 3, testIndex)
	credentials.SetSubjectSeed(c.Subject, credentials.Seed("0123456789abcdef"))
	if err := credentials.Prepare(&c, s.key.DID, nil); err != nil {
		t.Fatal(err)
	}
	out, err := credentials.IssueJWT(&c, s.key, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func anchorJWK(t testing.TB, k *credentials.Key) json.RawMessage {
	t.Helper()
	j, err := credentials.PublicJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// openStores opens (or reopens) a real bbolt database in dir.
func openStores(t testing.TB, dir string) (*trustsync.Stores, func()) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.NewTrustStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	return st.Stores(), func() { db.Close() }
}

// reason is the reason a verification failed, 0 if it did not.
func reason(err error) verifier.Reason {
	var ve *verifier.Error
	if errors.As(err, &ve) {
		return ve.Reason
	}
	return 0
}

var ctx = context.Background()
