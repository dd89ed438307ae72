package issuer_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
