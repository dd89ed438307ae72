package issuer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// TestChangePasswordLimited: wrong current passwords given to the
// password change count like refused sign-ins: after five, a change is
// refused before the password is checked (even the right one), until the
// window ends. A session left open is no oracle to guess the password with.
func TestChangePasswordLimited(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	sys := issuer.SystemPrincipal("test")
	_, pw, err := d.svc.CreateStaff(ctx, sys, "demo", issuer.NewStaff{Name: "Sahra Nur", Username: "sahra", Role: issuer.RoleRegistrar})
	if err != nil {
		t.Fatal(err)
	}
	sess, p, err := d.svc.SignIn(ctx, "sahra", pw)
	if err != nil {
		t.Fatal(err)
	}
	const chosen = "harbour meadow tangerine glide"
	for i := range 5 {
		err := d.svc.ChangePassword(ctx, p, sess, issuer.PasswordChange{Current: "guess number one", New: chosen})
		var ie *issuer.InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	err = d.svc.ChangePassword(ctx, p, sess, issuer.PasswordChange{Current: pw, New: chosen})
	var tm *issuer.TooManyAttemptsError
	if !errors.As(err, &tm) || tm.RetryAfter <= 0 || tm.RetryAfter > 15*time.Minute {
		t.Fatalf("the sixth try, with the right password: %v", err)
	}
	if _, _, err := d.svc.SignIn(ctx, "sahra", chosen); err == nil {
		t.Fatal("a refused change changed the password")
	}
	d.now = d.now.Add(15*time.Minute + time.Second)
	if err := d.svc.ChangePassword(ctx, p, sess, issuer.PasswordChange{Current: pw, New: chosen}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestAuditCredentialIDKeyed: a caller's credential id is named in the
// audit log by a hash keyed with a key derived from the master key, so
// that a leaked log cannot be matched against every passport number; the
// plain SHA-256 it used to be is not what the log shows.
func TestAuditCredentialIDKeyed(t *testing.T) {
	d := newDesk(t)
	const id = "urn:example:passport:AB1234567"
	got := d.svc.AuditCredentialID(id)
	plain := sha256.Sum256([]byte(id))
	if !strings.HasPrefix(got, "hmac:") || strings.Contains(got, hex.EncodeToString(plain[:16])) || strings.Contains(got, "AB1234567") {
		t.Fatalf("audit id %q", got)
	}
	if d.svc.AuditCredentialID(id) != got {
		t.Fatal("the audit id of one credential changes")
	}
	const uuid = "urn:uuid:3f0c9a52-7d1e-4b8a-9c55-0f2e6b1d4a77"
	if d.svc.AuditCredentialID(uuid) != uuid {
		t.Fatal("a urn:uuid tally drew is named as it is")
	}
}

// TestOfferOfErasedRegistration: once a registration is erased, no offer
// is made from it (ErrErased, not a misleading "no consent"), and an offer
// made before, even redeemed, yields no credential.
func TestOfferOfErasedRegistration(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	live, err := d.svc.CreateOffer(ctx, d.registrar, "demo", reg.ID, issuer.OfferInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := d.svc.RedeemOffer(ctx, "demo", live.Code, live.TxCode, true)
	if err != nil {
		t.Fatal(err)
	}
	supervisor := issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: d.registrar.StaffID}
	if _, err := d.svc.EraseRegistration(ctx, supervisor, "demo", reg.ID, issuer.EraseInput{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.CreateOffer(ctx, d.registrar, "demo", reg.ID, issuer.OfferInput{Type: credentials.TypeRegistration}); !errors.Is(err, issuer.ErrErased) {
		t.Fatalf("an offer of an erased registration: %v", err)
	}
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.IssueOffered(ctx, "demo", token, credentials.FormatSDJWT, &holder.PublicKey); !errors.Is(err, issuer.ErrErased) {
		t.Fatalf("a credential from an offer made before the erasure: %v", err)
	}
	if recs, err := d.svc.Credentials(ctx, "demo", reg.ID); err != nil || len(recs) != 0 {
		t.Fatalf("records: %+v %v", recs, err)
	}
}
