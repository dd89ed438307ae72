package holder_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
)

const backupPass = "river lantern cobalt pepper"

func signIn(t *testing.T, s *holder.Service, o holder.Opened, pin string) *holder.Wallet {
	t.Helper()
	tok, err := s.SignIn(context.Background(), o.ID, o.DeviceSecret, pin)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Wallet(tok)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestChangePIN(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	w := signIn(t, s, o, "480915")
	otherTok, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915")
	if err != nil {
		t.Fatal(err)
	}

	// A PIN that breaks the rules, or the same PIN, changes nothing and
	// costs no attempt.
	for _, bad := range []string{"123456", "12345", "480915"} {
		if err := w.ChangePIN(ctx, o.DeviceSecret, "480915", bad); !errors.Is(err, holder.ErrInvalid) {
			t.Fatalf("new PIN %q: %v, want ErrInvalid", bad, err)
		}
	}
	// Another phone's secret is refused without counting.
	if err := w.ChangePIN(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "480915", "730264"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("another device: %v", err)
	}
	// A wrong old PIN counts.
	if err := w.ChangePIN(ctx, o.DeviceSecret, "999990", "730264"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	if err := w.ChangePIN(ctx, o.DeviceSecret, "480915", "730264"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("the old PIN still opens the wallet: %v", err)
	}
	signIn(t, s, o, "730264")
	// This session goes on; the others ended.
	if _, err := w.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wallet(otherTok); err == nil {
		t.Fatal("another session outlived the PIN change")
	}
	// The recovery code still opens it.
	if _, err := s.Recover(ctx, o.ID, o.RecoveryCode, "264730"); err != nil {
		t.Fatal(err)
	}
}

// issued is an SD-JWT of Fatima's registration bound to w's holder key,
// and the issuer key.
func issued(t *testing.T, w *holder.Wallet) (holder.Credential, *credentials.Key) {
	t.Helper()
	signer, err := credentials.GenerateKey(credentials.ES256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	did, err := credentials.DIDKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	ik, err := credentials.NewKey(signer, did)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if err := credentials.Prepare(&c, ik.DID, rand.Reader); err != nil {
		t.Fatal(err)
	}
	hk, err := w.Key(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := credentials.IssueSDJWT(&c, ik, time.Now(), credentials.SDJWTOptions{Holder: hk.Public})
	if err != nil {
		t.Fatal(err)
	}
	return holder.Credential{Format: "dc+sd-jwt", Raw: raw, Issuer: ik.DID, Type: "RegistrationCredential", HolderKey: hk.ID, Source: "oid4vci"}, ik
}

func TestBackupRestoreOnAnotherDevice(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	oa, err := s.Open(ctx, "480915", "fr")
	if err != nil {
		t.Fatal(err)
	}
	a := signIn(t, s, oa, "480915")
	cred, ik := issued(t, a)
	kept, err := a.AddCredential(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.LogShare(ctx, holder.Share{Verifier: "x509_san_dns:clinic.example", Purpose: "check-in", Credentials: []string{kept.ID}, Claims: []string{"fullName"}, Mode: "oid4vp", Outcome: "accepted"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Backup(ctx, "short"); !errors.Is(err, holder.ErrInvalid) {
		t.Fatalf("weak passphrase: %v", err)
	}
	file, err := a.Backup(ctx, backupPass)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing readable in the clear: not the wallet number, the
	// credential, its issuer, a name or a claim name.
	for _, secret := range []string{oa.ID, cred.Raw[:40], ik.DID, "Fatima", "fullName", "clinic.example", "did:jwk"} {
		if bytes.Contains(file, []byte(secret)) {
			t.Fatalf("the backup file shows %q in the clear", secret)
		}
	}

	// Another phone, another wallet.
	ob, err := s.Open(ctx, "730264", "en")
	if err != nil {
		t.Fatal(err)
	}
	b := signIn(t, s, ob, "730264")
	own, err := b.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		cs, _ := b.Credentials(ctx)
		sh, _ := b.Shares(ctx)
		j, _ := json.Marshal([]any{cs, sh})
		return string(j)
	}
	before := state()
	for name, f := range map[string][]byte{
		"tampered ciphertext": tamper(file, func(m map[string]any) { c := m["ciphertext"].(string); m["ciphertext"] = flip(c) }),
		"tampered salt":       tamper(file, func(m map[string]any) { c := m["kdf"].(map[string]any); c["salt"] = flip(c["salt"].(string)) }),
		"tampered cost":       tamper(file, func(m map[string]any) { m["kdf"].(map[string]any)["t"] = 2 }),
		"oversized memory":    tamper(file, func(m map[string]any) { m["kdf"].(map[string]any)["m"] = 4 << 20 }),
		"oversized passes":    tamper(file, func(m map[string]any) { m["kdf"].(map[string]any)["t"] = 1000 }),
		"oversized file":      append(bytes.Repeat([]byte(" "), holder.MaxBackupBytes), file...),
		"newer version":       tamper(file, func(m map[string]any) { m["v"] = 2 }),
		"not a backup":        []byte(`{"format":"something else"}`),
	} {
		start := time.Now()
		if _, err := b.Restore(ctx, f, backupPass); !errors.Is(err, holder.ErrInvalid) {
			t.Fatalf("%s: %v, want ErrInvalid", name, err)
		}
		if d := time.Since(start); strings.HasPrefix(name, "oversized") && d > time.Second {
			t.Fatalf("%s took %s to refuse", name, d)
		}
	}
	if _, err := b.Restore(ctx, file, "river lantern cobalt peppers"); !errors.Is(err, holder.ErrInvalid) || !strings.Contains(err.Error(), "passphrase is wrong") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if state() != before {
		t.Fatal("a refused restore changed the wallet")
	}

	got, err := b.Restore(ctx, file, backupPass)
	if err != nil {
		t.Fatal(err)
	}
	if got != (holder.Restored{Credentials: 1, Keys: 1, Shares: 1}) {
		t.Fatalf("restored %+v", got)
	}
	cs, err := b.Credentials(ctx)
	if err != nil || len(cs) != 1 || cs[0].Raw != cred.Raw || cs[0].Source != "backup" {
		t.Fatalf("credentials after the restore: %+v, %v", cs, err)
	}
	sh, err := b.Shares(ctx)
	if err != nil || len(sh) != 1 || len(sh[0].Credentials) != 1 || sh[0].Credentials[0] != cs[0].ID {
		t.Fatalf("share log after the restore: %+v, %v", sh, err)
	}
	// The wallet's own key is still the one new credentials bind to.
	if k, _ := b.Key(ctx); k.ID != own.ID {
		t.Fatalf("the restore changed the current holder key to %s", k.ID)
	}
	// The restored SD-JWT can still be presented with its key.
	hk, err := b.KeyByID(ctx, cs[0].HolderKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pres, err := credentials.PresentSDJWT(cs[0].Raw, []string{"programme"}, hk.Signer, "x509_san_dns:clinic.example", "n-0S6_WzA2Mj", now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := credentials.ParseSDJWT([]byte(pres))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.VerifySignature(ik.Public); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifyKeyBinding("x509_san_dns:clinic.example", "n-0S6_WzA2Mj", now, time.Minute); err != nil {
		t.Fatalf("the restored key does not bind the presentation: %v", err)
	}

	// Again: everything is there already.
	again, err := b.Restore(ctx, file, backupPass)
	if err != nil || again != (holder.Restored{Skipped: 1}) {
		t.Fatalf("second restore: %+v, %v", again, err)
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	w := signIn(t, s, o, "480915")
	if err := w.ConfirmPIN(ctx, o.DeviceSecret, "999990"); !errors.Is(err, holder.ErrUnauthenticated) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if err := w.ConfirmPIN(ctx, o.DeviceSecret, "480915"); err != nil {
		t.Fatal(err)
	}
	cred, _ := issued(t, w)
	if _, err := w.AddCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	out, err := w.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ex holder.Exported
	if err := json.Unmarshal(out, &ex); err != nil || ex.Format != holder.ExportFormat || len(ex.Credentials) != 1 || ex.Credentials[0].Raw != cred.Raw {
		t.Fatalf("export: %s, %v", out, err)
	}
	if bytes.Contains(out, []byte("pkcs8")) {
		t.Fatal("the plain export holds a private key")
	}
}

func tamper(file []byte, change func(map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(file, &m); err != nil {
		panic(err)
	}
	change(m)
	b, _ := json.Marshal(m)
	return b
}

// flip changes one base64 character of s.
func flip(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}
