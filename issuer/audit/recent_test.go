package audit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
)

// TestEntriesBefore: newest first, below a number, stopping when asked;
// the same from a store that walks forward only and from bbolt's, which
// walks backward.
func TestEntriesBefore(t *testing.T) {
	ctx := context.Background()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "tally.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bs, err := bolt.NewAuditStore(db)
	if err != nil {
		t.Fatal(err)
	}
	for name, store := range map[string]audit.Store{"forward only": &memStore{}, "bbolt": bs} {
		t.Run(name, func(t *testing.T) {
			log := audit.NewLog(store, audit.Options{Now: testClock()})
			for range 4 {
				for _, e := range sampleEntries() {
					if _, err := log.Append(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
			}
			n := uint64(4 * len(sampleEntries()))
			walk := func(before uint64, stopAfter int) []uint64 {
				var seqs []uint64
				err := log.EntriesBefore(ctx, before, func(e audit.Entry) bool {
					seqs = append(seqs, e.Seq)
					return len(seqs) < stopAfter
				})
				if err != nil {
					t.Fatal(err)
				}
				return seqs
			}
			if got := walk(0, 3); !slices.Equal(got, []uint64{n, n - 1, n - 2}) {
				t.Fatalf("newest three: %v", got)
			}
			if got := walk(5, 100); !slices.Equal(got, []uint64{4, 3, 2, 1}) {
				t.Fatalf("before 5: %v", got)
			}
			if got := walk(n+10, 1); !slices.Equal(got, []uint64{n}) {
				t.Fatalf("before a number past the end: %v", got)
			}
			if got := walk(1, 10); len(got) != 0 {
				t.Fatalf("before 1: %v", got)
			}
		})
	}
}

// TestSignedAnchorLine: a signed anchor's token is read as a line of an
// anchor file, with its organisation and its anchor.
func TestSignedAnchorLine(t *testing.T) {
	ctx := context.Background()
	log := audit.NewLog(&memStore{}, audit.Options{Now: testClock()})
	for _, e := range sampleEntries() {
		if _, err := log.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := log.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	claims := sum.Head.SignedClaims("dadaab", sum.Entries, sum.Head.Time)
	token := fakeJWS(t, claims)
	plain, _ := sum.Head.MarshalJSON()
	lines, err := audit.ParseAnchorLines([]byte(string(plain) + "\n" + token + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Token != "" || lines[1].Token != token || lines[1].Org != "dadaab" ||
		lines[1].Anchor.Hash != sum.Head.Hash || lines[1].Anchor.Seq != sum.Head.Seq || lines[1].Entries != sum.Entries {
		t.Fatalf("%+v", lines)
	}
	if _, err := log.Verify(ctx, lines[1].Anchor); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"a.b", "a.!!.c", fakeJWS(t, map[string]any{"type": "tally-audit-anchor", "v": 1, "seq": 1})} {
		if _, err := audit.ParseAnchorLines([]byte(bad)); err == nil {
			t.Errorf("%q was read as an anchor", bad)
		}
	}
}

// fakeJWS makes a compact JWS with payload v and a signature of zeros:
// ParseAnchorLines does not check signatures.
func fakeJWS(t *testing.T, v any) string {
	t.Helper()
	payload, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"EdDSA","typ":"tally-audit-anchor+jwt"}`)) + "." + enc(payload) + "." + enc(make([]byte, 64))
}
