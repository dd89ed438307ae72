package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// TestServeTrust: tally serve loads --trust, checked with --trust-anchor,
// keeps it, and starts again offline; a list no anchor signed stops it
// with an error naming --trust.
func TestServeTrust(t *testing.T) {
	dir := t.TempDir()
	key := func(label, did string) *credentials.Key {
		seed := sha256.Sum256([]byte(label))
		k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	anchor := key("anchor", "did:web:consortium.example")
	iss, err := verifier.NewTrustedIssuer("Partner", credentials.Types(), key("partner", "did:web:partner.example"))
	if err != nil {
		t.Fatal(err)
	}
	list := verifier.NewTrustList("Consortium")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	signed, err := verifier.SignTrustList(list, anchor, time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	j, err := credentials.PublicJWK(anchor)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(j)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(cfg config.Config) error {
		m := &Main{Config: cfg, passwordParams: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, scryptN: credentials.LowestScryptN}
		err := m.Run(context.Background())
		m.Close()
		return err
	}
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(dir, "data")
	cfg.Trust, cfg.TrustAnchors = write("trust.jws", signed), write("anchor.jwk", jwk)
	if err := start(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Offline, cfg.MaxStatusAge = true, time.Hour
	if err := start(cfg); err != nil {
		t.Fatalf("restart offline: %v", err)
	}
	db, err := bolt.Open(cfg.DatabasePath())
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.NewTrustStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	lists, err := st.TrustLists(context.Background())
	db.Close()
	if err != nil || len(lists) != 1 || lists[0].ID != trustsync.ConfigListID || lists[0].Issuers != 1 || lists[0].LastError != "" {
		t.Fatalf("the --trust list kept: %+v %v", lists, err)
	}

	other := key("not an anchor", "did:web:other.example")
	bad, err := verifier.SignTrustList(verifier.NewTrustList("Other"), other, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Trust = write("other.jws", bad)
	if err := start(cfg); err == nil || !strings.Contains(err.Error(), "--trust") {
		t.Fatalf("a list signed by no anchor: %v", err)
	}
}
