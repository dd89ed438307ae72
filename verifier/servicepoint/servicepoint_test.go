package servicepoint_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
)

var now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// seed is the dedup seed of the cards issued here.
var seed = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

type fixture struct {
	svc  *servicepoint.Service
	reg  *registry.Service
	path string
	db   *bolt.DB
	key  *credentials.Key
}

func newKey(t testing.TB, label string) *credentials.Key {
	t.Helper()
	s := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(s[:]), "did:web:"+label+".example")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFixture is the service on real bbolt in a temporary directory, with
// a verifier that trusts one issuer (Organisation A) and, at now, the
// registry with no domain.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), bolt.FileName), key: newKey(t, "org-a")}
	db, err := bolt.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	rs, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if f.reg, err = registry.New(rs.Stores(), registry.Options{MasterKey: []byte("master passphrase for tests"), ScryptN: credentials.LowestScryptN, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), f.key)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := trustsync.New(context.Background(), trustsync.Options{
		Local:    func(context.Context) ([]*verifier.TrustedIssuer, error) { return []*verifier.TrustedIssuer{iss}, nil },
		Verifier: verifier.Options{Now: func() time.Time { return now }, Offline: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := bolt.NewServicePointStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if f.svc, err = servicepoint.New(trust, f.reg, ss, servicepoint.Options{Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	return f
}

// card is a registration card of Fatima's signed by key, valid until
// until.
func card(t testing.TB, key *credentials.Key, until time.Time) []byte {
	t.Helper()
	var c credentials.Credential
	if err := json.Unmarshal([]byte(`{"type":"RegistrationCredential","validFrom":"2026-11-01T00:00:00Z",
		"credentialSubject":{"registrationId":"KE-DAD-2026-000123","fullName":"Fatima Hassan Abdi","dateOfBirth":"1991-03-14","gender":"female"}}`), &c); err != nil {
		t.Fatal(err)
	}
	c.ValidUntil = until
	credentials.SetSubjectSeed(c.Subject, bytes.Clone(seed))
	if err := credentials.Prepare(&c, key.DID, nil); err != nil {
		t.Fatal(err)
	}
	out, err := credentials.IssueCard(&c, key, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func (f *fixture) point(t testing.TB, sp, prog string) servicepoint.Point {
	t.Helper()
	p, err := f.svc.Point(context.Background(), "org-a", sp, prog)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckNewThenSeenBefore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	raw := card(t, f.key, now.AddDate(1, 0, 0))
	p := f.point(t, "Dadaab HSP 1", "MPCA-2026")
	if p.Domain != "org-a" {
		t.Fatalf("domain %q, want the organisation's own, made by the first scan", p.Domain)
	}
	st, _ := f.svc.Settings(ctx, "org-a")
	if st.Domain != "org-a" || !st.OwnDomainMade.Equal(now) {
		t.Fatalf("settings %+v", st)
	}
	a, err := f.svc.Check(ctx, raw, p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != servicepoint.Valid || a.Dedup == nil || !a.Dedup.New || a.Person == nil ||
		a.Person.FullName != "Fatima Hassan Abdi" || a.Person.BirthYear != 1991 || a.IssuerName != "Organisation A" ||
		a.Type != "RegistrationCredential" || a.Status == nil || a.Status.HasStatus {
		t.Fatalf("first scan: %+v", a)
	}
	js, _ := json.Marshal(a)
	for _, secret := range []string{"1991-03-14", "KE-DAD-2026-000123", "female", base64.RawURLEncoding.EncodeToString(seed)} {
		if bytes.Contains(js, []byte(secret)) {
			t.Fatalf("the answer holds %q: %s", secret, js)
		}
	}
	p2 := f.point(t, "Ifo clinic", "")
	a, err = f.svc.Check(ctx, raw, p2)
	if err != nil {
		t.Fatal(err)
	}
	d := a.Dedup
	if a.Verdict != servicepoint.Warning || d == nil || d.New || d.SeenBefore != 1 || d.FirstServicePoint != "Dadaab HSP 1" ||
		d.FirstProgramme != "MPCA-2026" || !d.FirstSeen.Equal(now) {
		t.Fatalf("second scan: %+v %+v", a, d)
	}
}

func TestInvalidNotRecorded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.point(t, "Dadaab HSP 1", "")
	for name, raw := range map[string][]byte{
		"expired":   card(t, f.key, now.AddDate(0, 0, -2)),
		"untrusted": card(t, newKey(t, "stranger"), now.AddDate(1, 0, 0)),
		"garbage":   []byte("NOT A CARD AT ALL"),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := f.svc.Check(ctx, raw, p)
			if err != nil {
				t.Fatal(err)
			}
			if a.Verdict != servicepoint.Invalid || a.ReasonCode == "" || a.Person != nil || a.Dedup != nil {
				t.Fatalf("%+v", a)
			}
		})
	}
	l, err := f.reg.Export(ctx, p.Domain)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rows) != 0 {
		t.Fatalf("invalid credentials were recorded: %+v", l.Rows)
	}
	a, _ := f.svc.Check(ctx, card(t, f.key, now.AddDate(0, 0, -2)), p)
	if a.Reason != verifier.Expired {
		t.Fatalf("reason %v, want expired", a.Reason)
	}
}

func TestConcurrentDoubleScan(t *testing.T) {
	f := newFixture(t)
	raw := card(t, f.key, now.AddDate(1, 0, 0))
	p := f.point(t, "Dadaab HSP 1", "")
	const n = 8
	var wg sync.WaitGroup
	answers := make([]*servicepoint.Answer, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { answers[i], errs[i] = f.svc.Check(context.Background(), raw, p) })
	}
	wg.Wait()
	news := 0
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if a.Dedup.New {
			news++
		}
	}
	if news != 1 {
		t.Fatalf("%d scans of one card were new, want exactly 1", news)
	}
}

func TestConcurrentFirstScansOneDomain(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	domains := make([]string, 6)
	for i := range domains {
		wg.Go(func() {
			p, err := f.svc.Point(context.Background(), "org-a", "Dadaab HSP 1", "")
			if err != nil {
				t.Error(err)
				return
			}
			domains[i] = p.Domain
		})
	}
	wg.Wait()
	for _, d := range domains {
		if d != "org-a" {
			t.Fatalf("domains %v", domains)
		}
	}
	ds, _ := f.reg.Domains(context.Background())
	if len(ds) != 1 {
		t.Fatalf("%d domains, want 1", len(ds))
	}
}

// TestNothingSecretStored reads the raw bolt file: neither the credential
// nor its seed, nor the person's name, is in it.
func TestNothingSecretStored(t *testing.T) {
	f := newFixture(t)
	raw := card(t, f.key, now.AddDate(1, 0, 0))
	for _, sp := range []string{"Dadaab HSP 1", "Ifo clinic"} {
		if _, err := f.svc.Check(context.Background(), raw, f.point(t, sp, "MPCA-2026")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(file, []byte("Ifo clinic")) {
		t.Fatal("the scan is not in the file: the test reads the wrong file")
	}
	for name, secret := range map[string][]byte{
		"raw credential":   raw[:40],
		"seed":             seed,
		"seed (hex)":       []byte(hex.EncodeToString(seed)),
		"seed (base64url)": []byte(base64.RawURLEncoding.EncodeToString(seed)),
		"name":             []byte("Fatima"),
		"birth date":       []byte("1991"),
	} {
		if bytes.Contains(file, secret) {
			t.Errorf("the store holds the %s", name)
		}
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.point(t, "Dadaab HSP 1", "")
	for name, tc := range map[string]struct {
		raw   []byte
		p     servicepoint.Point
		field string
	}{
		"empty":            {nil, p, "credential"},
		"blank":            {[]byte(" \n "), p, "credential"},
		"too large":        {bytes.Repeat([]byte("A"), verifier.MaxCredentialSize+1), p, "credential"},
		"no service point": {[]byte("X"), servicepoint.Point{Org: "org-a", Domain: "org-a"}, "servicePoint"},
		"bad programme":    {[]byte("X"), servicepoint.Point{Org: "org-a", Domain: "org-a", ServicePoint: "A", Programme: "no spaces"}, "programme"},
		"control chars":    {[]byte("X"), servicepoint.Point{Org: "org-a", Domain: "org-a", ServicePoint: "A\x00B"}, "servicePoint"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Check(ctx, tc.raw, tc.p)
			var ie *servicepoint.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, servicepoint.ErrInvalid) {
				t.Fatalf("%v, want an input error on %s", err, tc.field)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.reg.AddDomain(ctx, registry.NewDomain{ID: "dadaab", Name: "Dadaab consortium", Kind: registry.KindConsortium,
		Members: []string{"org-a", "org-b"}, KeyFile: []byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.AddDomain(ctx, registry.NewDomain{ID: "elsewhere", Name: "Not ours", Kind: registry.KindOwn,
		Members: []string{"org-c"}, KeyFile: []byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")}); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.SaveSettings(ctx, "org-a", servicepoint.SettingsInput{Domain: "dadaab", ServicePoints: []string{" Gate A ", "", "Clinic"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Domain != "dadaab" || len(st.ServicePoints) != 2 || st.ServicePoints[0] != "Gate A" {
		t.Fatalf("%+v", st)
	}
	if _, err := f.svc.Point(ctx, "org-a", "Somewhere else", ""); !errors.Is(err, servicepoint.ErrInvalid) {
		t.Fatalf("a service point not in the list: %v", err)
	}
	if p := f.point(t, "Clinic", ""); p.Domain != "dadaab" {
		t.Fatalf("domain %s", p.Domain)
	}
	for name, in := range map[string]servicepoint.SettingsInput{
		"not a member":   {Domain: "elsewhere"},
		"unknown domain": {Domain: "nowhere"},
		"twice":          {ServicePoints: []string{"A", "A"}},
		"too long":       {ServicePoints: []string{string(bytes.Repeat([]byte("x"), 65))}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := f.svc.SaveSettings(ctx, "org-a", in); !errors.Is(err, servicepoint.ErrInvalid) {
				t.Fatalf("%v", err)
			}
			got, _ := f.svc.Settings(ctx, "org-a")
			if got.Domain != "dadaab" || len(got.ServicePoints) != 2 {
				t.Fatalf("a refused change changed %+v", got)
			}
		})
	}
}

// FuzzCheck: whatever is shown, Check answers or refuses the input; it
// never records anything that is not a valid credential.
func FuzzCheck(f *testing.F) {
	key := newKey(f, "org-a")
	f.Add(card(f, key, now.AddDate(1, 0, 0)))
	f.Add(card(f, key, now.AddDate(0, 0, -1)))
	f.Add([]byte("eyJhbGciOiJFZERTQSJ9.e30.AAAA"))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"]}`))
	f.Add([]byte("6BF590B20FFWJWG"))
	fx := newFixture(f)
	p := fx.point(f, "Gate A", "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		before, err := fx.reg.Export(ctx, p.Domain)
		if err != nil {
			t.Fatal(err)
		}
		a, err := fx.svc.Check(ctx, raw, p)
		if err != nil {
			if !errors.Is(err, servicepoint.ErrInvalid) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		after, err := fx.reg.Export(ctx, p.Domain)
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict == servicepoint.Invalid && len(after.Rows) != len(before.Rows) {
			t.Fatal("an invalid credential was recorded")
		}
		if a.Verdict == servicepoint.Invalid && (a.Person != nil || a.Dedup != nil || a.ReasonCode == "") {
			t.Fatalf("invalid answer %+v", a)
		}
	})
}
