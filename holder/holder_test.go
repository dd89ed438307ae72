package holder_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
)

// fastKDF keeps the tests quick; the cost is a parameter like any other.
var fastKDF = holder.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t testing.TB) (*holder.Service, *clock, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tally.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := bolt.NewHolderStore(db)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	s, err := holder.New(st, holder.Options{Now: c.now, KDF: fastKDF, BackupKDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, path
}

func TestOpenSignInAndSeal(t *testing.T) {
	ctx := context.Background()
	s, _, path := newService(t)
	o, err := s.Open(ctx, "480915", "ar")
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Wallet(o.Session)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.AddCredential(ctx, holder.Credential{Format: "dc+sd-jwt", Raw: "eyJ.Fatima-Haddad-raw~", Issuer: "did:web:a.example", Name: "Registration of Fatima Haddad", Source: "oid4vci"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.LogShare(ctx, holder.Share{Verifier: "decentralized_identifier:did:web:b.example", Purpose: "Health care for Fatima", Credentials: []string{c.ID}, Claims: []string{"givenName"}, Mode: "oid4vp"}); err != nil {
		t.Fatal(err)
	}
	k, err := w.Key(ctx)
	if err != nil || k.Signer == nil || k.ID != k.DID+"#0" {
		t.Fatalf("holder key: %v %+v", err, k)
	}
	if lang, _ := w.Lang(ctx); lang != "ar" {
		t.Fatalf("lang %q", lang)
	}
	w.SignOut()
	if _, err := s.Wallet(o.Session); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("signed out session still opens: %v", err)
	}

	// The database alone reveals nothing: no name, no credential, no
	// PIN, no secret.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Fatima", "Haddad", "did:web:a.example", "b.example", "480915", "givenName", "Registration", o.RecoveryCode, o.DeviceSecret} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the raw database holds %q", secret)
		}
	}

	tok, err := s.SignIn(ctx, holder.FormatID(o.ID), o.DeviceSecret, "480915")
	if err != nil {
		t.Fatal(err)
	}
	w, _ = s.Wallet(tok)
	got, err := w.Credential(ctx, c.ID)
	if err != nil || got.Raw != c.Raw {
		t.Fatalf("credential after sign-in: %v %+v", err, got)
	}
}

func TestPINLockout(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t)
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	// A device that does not prove its secret costs the holder nothing.
	for range 20 {
		if _, err := s.SignIn(ctx, o.ID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "000000"); !errors.Is(err, holder.ErrUnauthenticated) {
			t.Fatalf("another device: %v", err)
		}
	}
	for i := range holder.FreePINFailures {
		if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "111112"); !errors.Is(err, holder.ErrUnauthenticated) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
	}
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "111113"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("fifth wrong PIN: %v", err)
	}
	// Locked now, even for the right PIN.
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); !errors.Is(err, holder.ErrLocked) {
		t.Fatalf("locked: %v", err)
	}
	clk.add(2 * time.Minute)
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Ten wrong in a row: only the recovery code opens it.
	for i := 0; i < holder.MaxPINFailures; i++ {
		clk.add(24 * time.Hour)
		_, _ = s.SignIn(ctx, o.ID, o.DeviceSecret, "111112")
	}
	clk.add(24 * time.Hour)
	var le *holder.LockedError
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); !errors.As(err, &le) || !le.Until.IsZero() {
		t.Fatalf("locked for good: %v", err)
	}
	r, err := s.Recover(ctx, o.ID, o.RecoveryCode, "527391")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, o.ID, r.DeviceSecret, "527391"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// The old phone is locked out.
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "527391"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("old phone: %v", err)
	}
}

func TestRecoveryKeepsAndResetStartsAgain(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t)
	o, _ := s.Open(ctx, "480915", "en")
	w, _ := s.Wallet(o.Session)
	if _, err := w.AddCredential(ctx, holder.Credential{Format: "jwt_vc_json", Raw: "eyJ.x.y", Source: "oid4vci"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recover(ctx, o.ID, "AAAA-AAAA-AAAA-AAAA-AAAA", "527391"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("wrong recovery code: %v", err)
	}
	r, err := s.Recover(ctx, o.ID, o.RecoveryCode, "527391")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wallet(o.Session); err == nil {
		t.Fatal("a recovery leaves the old sessions open")
	}
	pending, err := s.IssueReset(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = s.Recover(ctx, o.ID, o.RecoveryCode, "527391"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetWithCode(ctx, o.ID, pending, "604918", "fr"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("a reset code given before a recovery still works: %v", err)
	}
	w, _ = s.Wallet(r.Session)
	if cs, _ := w.Credentials(ctx); len(cs) != 1 {
		t.Fatalf("recovery lost credentials: %d", len(cs))
	}

	if _, err := s.ResetWithCode(ctx, o.ID, "AAAA-AAAA-AAAA", "604918", "fr"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("no reset issued: %v", err)
	}
	code, err := s.IssueReset(ctx, holder.FormatID(o.ID))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.ResetWithCode(ctx, o.ID, code, "604918", "fr")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetWithCode(ctx, o.ID, code, "604918", "fr"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("a reset code used twice: %v", err)
	}
	w, _ = s.Wallet(n.Session)
	if cs, _ := w.Credentials(ctx); len(cs) != 0 {
		t.Fatalf("a reset kept %d credentials sealed under the old key", len(cs))
	}
	if _, err := s.Recover(ctx, o.ID, o.RecoveryCode, "527391"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("the old recovery code after a reset: %v", err)
	}
	// Reset codes expire.
	code, _ = s.IssueReset(ctx, o.ID)
	clk.add(49 * time.Hour)
	if _, err := s.ResetWithCode(ctx, o.ID, code, "604918", "fr"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("expired reset code: %v", err)
	}
}

func TestHoldersAreApart(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	a, _ := s.Open(ctx, "480915", "en")
	b, _ := s.Open(ctx, "480915", "en")
	wa, _ := s.Wallet(a.Session)
	wb, _ := s.Wallet(b.Session)
	c, err := wa.AddCredential(ctx, holder.Credential{Format: "qr", Raw: "HC1:xyz", Source: "card-photo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Credential(ctx, c.ID); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("b reads a's credential: %v", err)
	}
	if err := wb.DeleteCredential(ctx, c.ID); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("b deletes a's credential: %v", err)
	}
	if err := wb.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := wa.Credential(ctx, c.ID); err != nil {
		t.Fatalf("b's deletion touched a: %v", err)
	}
	if _, err := s.SignIn(ctx, b.ID, b.DeviceSecret, "480915"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("deleted wallet signs in: %v", err)
	}
}

func TestCheckPIN(t *testing.T) {
	for pin, ok := range map[string]bool{"480915": true, "12345": false, "123456": false, "987654": false, "000000": false, "48091a": false, "4809154809154": false, "0480915": true} {
		if err := holder.CheckPIN(pin); (err == nil) != ok {
			t.Errorf("CheckPIN(%q) = %v", pin, err)
		}
	}
}

// TestStaleKeyRefused: a request still holding the wallet's old data key
// when it was started again (a staff reset) cannot write under it.
func TestStaleKeyRefused(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	o, _ := s.Open(ctx, "480915", "en")
	old, _ := s.Wallet(o.Session)
	code, err := s.IssueReset(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.ResetWithCode(ctx, o.ID, code, "604918", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.AddCredential(ctx, holder.Credential{Format: "qr", Raw: "HC1:old", Source: "card-photo"}); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("a write under the old key: %v", err)
	}
	w, _ := s.Wallet(n.Session)
	if cs, err := w.Credentials(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("the started-again wallet: %d credentials, %v", len(cs), err)
	}
	if _, err := w.AddCredential(ctx, holder.Credential{Format: "qr", Raw: "HC1:new", Source: "card-photo"}); err != nil {
		t.Fatalf("a write under the new key: %v", err)
	}
}
