package issuer_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

// fixture is a Service on real bbolt with a clock the test moves.
type fixture struct {
	svc *issuer.Service
	db  *bolt.DB
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc, err = issuer.New(db.Stores(), issuer.Options{
		MasterKey: []byte("river lantern cobalt pepper"),
		Now:       func() time.Time { return f.now },
		Password:  issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		ScryptN:   credentials.LowestScryptN,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) org(t *testing.T, slug, admin string) string {
	t.Helper()
	_, _, pw, err := f.svc.CreateOrganisation(context.Background(), issuer.NewOrganisation{
		Slug: slug, Name: "Org " + slug, Host: "tally.example:8443",
		Admin: issuer.NewStaff{Name: "Admin " + admin, Username: admin},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

func fields(err error) []string {
	var ie *issuer.InvalidError
	if !errors.As(err, &ie) {
		return nil
	}
	var names []string
	for _, f := range ie.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestCreateOrganisation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.org(t, "demo", "admin")

	org, err := f.svc.Organisation(ctx, "demo")
	if err != nil || org.DID != "did:web:tally.example%3A8443:orgs:demo" {
		t.Fatalf("organisation = %+v, %v", org, err)
	}
	doc, err := f.svc.DIDDocument(ctx, "demo")
	if err != nil || doc.ID != org.DID || len(doc.VerificationMethod) != 1 {
		t.Fatalf("DID document = %+v, %v", doc, err)
	}
	key, err := f.svc.SigningKey(ctx, "demo")
	if err != nil || key.Signer == nil || key.ID != doc.VerificationMethod[0].ID {
		t.Fatalf("SigningKey = %+v, %v", key, err)
	}

	tests := []struct {
		name       string
		in         issuer.NewOrganisation
		wantFields []string
		wantErr    error
	}{
		{"everything missing", issuer.NewOrganisation{Host: "h.example"}, []string{"slug", "name", "admin.name", "admin.username"}, issuer.ErrInvalid},
		{"bad slug", issuer.NewOrganisation{Slug: "-Bad", Name: "x", Host: "h.example", Admin: issuer.NewStaff{Name: "a", Username: "abc"}}, []string{"slug"}, issuer.ErrInvalid},
		{"control characters in a name", issuer.NewOrganisation{Slug: "ok", Name: "x\x00y", Host: "h.example", Admin: issuer.NewStaff{Name: "a", Username: "abc"}}, []string{"name"}, issuer.ErrInvalid},
		{"no host", issuer.NewOrganisation{Slug: "ok", Name: "x", Admin: issuer.NewStaff{Name: "a", Username: "abc"}}, []string{"host"}, issuer.ErrInvalid},
		{"slug taken", issuer.NewOrganisation{Slug: "demo", Name: "x", Host: "h.example", Admin: issuer.NewStaff{Name: "a", Username: "abc"}}, nil, issuer.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := f.svc.CreateOrganisation(ctx, tc.in)
			if !errors.Is(err, tc.wantErr) || !slices.Equal(fields(err), tc.wantFields) {
				t.Fatalf("error %v (fields %v), want %v %v", err, fields(err), tc.wantErr, tc.wantFields)
			}
			orgs, _ := f.svc.Organisations(ctx)
			if len(orgs) != 1 {
				t.Fatalf("%d organisations after a refused one", len(orgs))
			}
		})
	}
}

func TestWrongMasterKey(t *testing.T) {
	f := newFixture(t)
	f.org(t, "demo", "admin")
	other, err := issuer.New(f.db.Stores(), issuer.Options{
		MasterKey: []byte("another master passphrase"), ScryptN: credentials.LowestScryptN,
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.SigningKey(context.Background(), "demo"); !errors.Is(err, credentials.ErrWrongPassphrase) {
		t.Fatalf("SigningKey with another master key: %v", err)
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pw := f.org(t, "demo", "admin")

	tests := []struct {
		name, username, password string
		ok                       bool
	}{
		{"right", "admin", pw, true},
		{"user name in another case, with spaces", " ADMIN ", pw, true},
		{"wrong password", "admin", pw + "x", false},
		{"unknown user", "nobody", pw, false},
		{"empty", "", "", false},
		{"huge password", "admin", strings.Repeat("x", 10000), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, p, err := f.svc.SignIn(ctx, tc.username, tc.password)
			if tc.ok != (err == nil) {
				t.Fatalf("SignIn: %v", err)
			}
			if !tc.ok {
				if !errors.Is(err, issuer.ErrUnauthenticated) || err.Error() != "the user name or the password is wrong: sign in first" {
					t.Fatalf("SignIn error %q", err)
				}
				return
			}
			if p.Role != issuer.RoleAdmin || p.Org != "demo" || p.Username != "admin" {
				t.Fatalf("principal %+v", p)
			}
			got, err := f.svc.SessionPrincipal(ctx, id)
			if err != nil || got != p {
				t.Fatalf("SessionPrincipal = %+v, %v", got, err)
			}
		})
	}
}

func TestSessionEnds(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps []time.Duration // activity, each after the one before
		ok    bool
	}{
		{"active within the idle timeout", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"past its lifetime though active", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pw := f.org(t, "demo", "admin")
			id, _, err := f.svc.SignIn(ctx, "admin", pw)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.steps {
				f.now = f.now.Add(d)
				_, err = f.svc.SessionPrincipal(ctx, id)
			}
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, issuer.ErrUnauthenticated)) {
				t.Fatalf("after %v: %v", tc.steps, err)
			}
		})
	}
	t.Run("signed out", func(t *testing.T) {
		f := newFixture(t)
		pw := f.org(t, "demo", "admin")
		id, _, _ := f.svc.SignIn(ctx, "admin", pw)
		if err := f.svc.SignOut(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SessionPrincipal(ctx, id); !errors.Is(err, issuer.ErrUnauthenticated) {
			t.Fatalf("after sign-out: %v", err)
		}
	})
}

func TestCreateStaff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.org(t, "demo", "admin")
	f.org(t, "other", "boss")

	st, pw, err := f.svc.CreateStaff(ctx, issuer.Principal{}, "demo", issuer.NewStaff{Name: "Rita Registrar", Username: "Rita", Role: issuer.RoleRegistrar})
	if err != nil || st.Username != "rita" || st.Org != "demo" {
		t.Fatalf("CreateStaff = %+v, %v", st, err)
	}
	if _, p, err := f.svc.SignIn(ctx, "rita", pw); err != nil || p.Role != issuer.RoleRegistrar {
		t.Fatalf("the new registrar signs in: %+v, %v", p, err)
	}

	tests := []struct {
		name       string
		org        string
		in         issuer.NewStaff
		wantErr    error
		wantFields []string
	}{
		{"nothing", "demo", issuer.NewStaff{}, issuer.ErrInvalid, []string{"name", "username", "role"}},
		{"unknown role", "demo", issuer.NewStaff{Name: "X", Username: "xavier", Role: "root"}, issuer.ErrInvalid, []string{"role"}},
		{"user name with spaces", "demo", issuer.NewStaff{Name: "X", Username: "x y z", Role: issuer.RoleAuditor}, issuer.ErrInvalid, []string{"username"}},
		{"name too long", "demo", issuer.NewStaff{Name: strings.Repeat("é", 101), Username: "xavier", Role: issuer.RoleAuditor}, issuer.ErrInvalid, []string{"name"}},
		{"user name taken in another organisation", "demo", issuer.NewStaff{Name: "B", Username: "boss", Role: issuer.RoleAuditor}, issuer.ErrInvalid, []string{"username"}},
		{"no such organisation", "nope", issuer.NewStaff{Name: "B", Username: "bertha", Role: issuer.RoleAuditor}, issuer.ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.CreateStaff(ctx, issuer.Principal{}, tc.org, tc.in)
			if !errors.Is(err, tc.wantErr) || !slices.Equal(fields(err), tc.wantFields) {
				t.Fatalf("error %v (fields %v), want %v %v", err, fields(err), tc.wantErr, tc.wantFields)
			}
			list, _ := f.svc.ListStaff(ctx, "demo")
			if len(list) != 2 {
				t.Fatalf("%d staff after a refused one", len(list))
			}
		})
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.org(t, "demo", "admin")
	text, tok, err := f.svc.NewToken(ctx, "demo", issuer.RoleVerifier, "gate scanner")
	if err != nil || !strings.HasPrefix(text, issuer.TokenPrefix) || strings.Contains(string(tok.Hash), text) {
		t.Fatalf("NewToken = %q, %+v, %v", text, tok, err)
	}
	p, err := f.svc.TokenPrincipal(ctx, text)
	if err != nil || p.Org != "demo" || p.Role != issuer.RoleVerifier || p.TokenID != tok.ID || p.StaffID != "" {
		t.Fatalf("TokenPrincipal = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "tally_", text + "x", strings.TrimPrefix(text, issuer.TokenPrefix)} {
		if _, err := f.svc.TokenPrincipal(ctx, bad); !errors.Is(err, issuer.ErrUnauthenticated) {
			t.Fatalf("TokenPrincipal(%q): %v", bad, err)
		}
	}
	for _, tc := range []struct {
		name    string
		org     string
		role    issuer.Role
		wantErr error
	}{
		{"no role", "demo", "", issuer.ErrInvalid},
		{"unknown role", "demo", "root", issuer.ErrInvalid},
		{"no such organisation", "nope", issuer.RoleAdmin, issuer.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := f.svc.NewToken(ctx, tc.org, tc.role, ""); !errors.Is(err, tc.wantErr) {
				t.Fatalf("NewToken: %v, want %v", err, tc.wantErr)
			}
		})
	}
}
