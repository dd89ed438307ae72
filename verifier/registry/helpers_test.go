package registry_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// keyHex is a domain key file's content, as tally dedup-key new writes it.
const keyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

type fixture struct {
	svc *registry.Service
	db  *bolt.DB
	st  *bolt.RegistryStore
}

// newFixture is a registry on real bbolt in a temporary directory, with
// domain "consortium-x" added.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(st.Stores(), registry.Options{MasterKey: []byte("master passphrase for tests"), ScryptN: credentials.LowestScryptN,
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.AddDomain(context.Background(), registry.NewDomain{ID: "consortium-x", Name: "Consortium X", Kind: registry.KindConsortium,
		Members: []string{"org-a", "org-b"}, KeyFile: []byte(keyHex)})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, st: st}
}

// token derives a dedup token as DESIGN.md defines it, written here from
// the design rather than taken from the verifier, so that the two are
// checked against each other.
func token(key, issuer string, seed int) string {
	raw, _ := hex.DecodeString(strings.TrimSpace(key))
	mac := hmac.New(sha256.New, raw)
	fmt.Fprintf(mac, "tally-dedup-v1\x00%s\x00", issuer)
	mac.Write(fmt.Appendf(nil, "seed-%011d", seed)[:16])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil)[:16]))
}

func tok(i int) string { return token(keyHex, "did:web:org-a.example", i) }

func scan(i int, programme string, at time.Time) registry.Scan {
	return registry.Scan{Domain: "consortium-x", Token: tok(i), ServicePoint: "Point 3", Programme: programme, At: at}
}
