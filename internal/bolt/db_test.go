package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

// The DB is every store the issuer declares.
var (
	_ issuer.OrgStore     = (*bolt.DB)(nil)
	_ issuer.OrgCreator   = (*bolt.DB)(nil)
	_ issuer.StaffStore   = (*bolt.DB)(nil)
	_ issuer.TokenStore   = (*bolt.DB)(nil)
	_ issuer.SessionStore = (*bolt.DB)(nil)
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func seed(t *testing.T, db *bolt.DB, slug, admin string) {
	t.Helper()
	org := issuer.Organisation{Slug: slug, Name: slug, DID: "did:web:example.org:orgs:" + slug, Created: t0}
	key := issuer.OrgKey{Org: slug, ID: org.DID + "#k1", Sealed: []byte(`{}`), Created: t0}
	st := issuer.Staff{ID: admin + "-id", Org: slug, Name: admin, Username: admin, Role: issuer.RoleAdmin, PasswordHash: "$argon2id$x", Created: t0}
	if err := db.CreateOrganisation(context.Background(), org, key, st); err != nil {
		t.Fatal(err)
	}
}

func TestOrganisations(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, "org-a", "alice")
	seed(t, db, "org-b", "bob")

	orgs, err := db.Organisations(ctx)
	if err != nil || len(orgs) != 2 || orgs[0].Slug != "org-a" || orgs[1].Slug != "org-b" {
		t.Fatalf("Organisations = %+v, %v", orgs, err)
	}
	keys, err := db.OrgKeys(ctx, "org-a")
	if err != nil || len(keys) != 1 || keys[0].Org != "org-a" {
		t.Fatalf("OrgKeys = %+v, %v", keys, err)
	}
	// The admin's password hash survives the round trip.
	st, err := db.StaffByUsername(ctx, "alice")
	if err != nil || st.PasswordHash != "$argon2id$x" || st.Org != "org-a" {
		t.Fatalf("StaffByUsername = %+v, %v", st, err)
	}

	tests := []struct {
		name      string
		slug      string
		admin     string
		wantErr   error
		wantCount int
	}{
		{"slug taken", "org-a", "carol", issuer.ErrConflict, 2},
		{"admin user name taken: nothing of the organisation is kept", "org-c", "alice", issuer.ErrConflict, 2},
		{"new", "org-c", "carol", nil, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := issuer.Organisation{Slug: tc.slug, Name: tc.slug, Created: t0}
			key := issuer.OrgKey{Org: tc.slug, ID: "k", Created: t0}
			st := issuer.Staff{ID: tc.admin + "-new", Org: tc.slug, Username: tc.admin, Role: issuer.RoleAdmin}
			err := db.CreateOrganisation(ctx, org, key, st)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("CreateOrganisation: %v, want %v", err, tc.wantErr)
			}
			orgs, _ := db.Organisations(ctx)
			if len(orgs) != tc.wantCount {
				t.Fatalf("%d organisations, want %d", len(orgs), tc.wantCount)
			}
		})
	}
	if _, err := db.Organisation(ctx, "nope"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("missing organisation: %v", err)
	}
}

func TestStaff(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, "org-a", "alice")
	seed(t, db, "org-b", "bob")
	tests := []struct {
		name    string
		staff   issuer.Staff
		wantErr error
	}{
		{"new registrar", issuer.Staff{ID: "s1", Org: "org-a", Username: "rita", Role: issuer.RoleRegistrar}, nil},
		{"user name taken in another organisation", issuer.Staff{ID: "s2", Org: "org-a", Username: "bob"}, issuer.ErrConflict},
		{"id taken", issuer.Staff{ID: "s1", Org: "org-a", Username: "rita2"}, issuer.ErrConflict},
		{"no such organisation", issuer.Staff{ID: "s3", Org: "org-z", Username: "zed"}, issuer.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.CreateStaff(ctx, tc.staff)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("CreateStaff: %v, want %v", err, tc.wantErr)
			}
		})
	}
	// A refused staff member left no user name behind.
	if _, err := db.StaffByUsername(ctx, "rita2"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("rita2: %v", err)
	}
	list, err := db.ListStaff(ctx, "org-a")
	if err != nil || len(list) != 2 || list[0].Username != "alice" || list[1].Username != "rita" {
		t.Fatalf("ListStaff = %+v, %v", list, err)
	}
	if st, err := db.StaffByID(ctx, "s1"); err != nil || st.Role != issuer.RoleRegistrar {
		t.Fatalf("StaffByID = %+v, %v", st, err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, "org-a", "alice")
	tok := issuer.Token{ID: "t1", Org: "org-a", Role: issuer.RoleVerifier, Hash: []byte("h1"), Created: t0}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		tok     issuer.Token
		wantErr error
	}{
		{"same hash", tok, issuer.ErrConflict},
		{"no such organisation", issuer.Token{ID: "t2", Org: "org-z", Hash: []byte("h2")}, issuer.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.CreateToken(ctx, tc.tok); !errors.Is(err, tc.wantErr) {
				t.Fatalf("CreateToken: %v, want %v", err, tc.wantErr)
			}
		})
	}
	got, err := db.TokenByHash(ctx, []byte("h1"))
	if err != nil || got.ID != "t1" || got.Role != issuer.RoleVerifier {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := db.TokenByHash(ctx, []byte("h2")); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	idle := 30 * time.Minute
	sessions := []issuer.Session{
		{Hash: []byte("live"), StaffID: "a", LastSeen: t0, Expires: t0.Add(time.Hour)},
		{Hash: []byte("expired"), StaffID: "b", LastSeen: t0, Expires: t0},
		{Hash: []byte("idle"), StaffID: "c", LastSeen: t0.Add(-idle), Expires: t0.Add(time.Hour)},
		{Hash: []byte("zlast"), StaffID: "d", LastSeen: t0, Expires: t0.Add(time.Hour)},
	}
	for _, s := range sessions {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.TouchSession(ctx, []byte("live"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := db.DeleteExpiredSessions(ctx, t0, idle)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	for _, tc := range []struct {
		hash string
		want error
	}{{"live", nil}, {"zlast", nil}, {"expired", issuer.ErrNotFound}, {"idle", issuer.ErrNotFound}} {
		t.Run(tc.hash, func(t *testing.T) {
			s, err := db.Session(ctx, []byte(tc.hash))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Session: %v, want %v", err, tc.want)
			}
			if tc.hash == "live" && !s.LastSeen.Equal(t0.Add(time.Minute)) {
				t.Fatalf("LastSeen = %v", s.LastSeen)
			}
		})
	}
	if err := db.DeleteSession(ctx, []byte("live")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, []byte("live")); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), bolt.FileName)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if db.Bolt() == nil {
		t.Fatal("no bbolt handle")
	}
	// bbolt's flock is per open file description, so a second Open in the
	// same process waits and times out as another process would.
	if _, err := bolt.Open(path); !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}
