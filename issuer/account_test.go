package issuer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// TestPasswordLifecycle: a new staff member must change their one-time
// password; the rules refuse weak ones; a change ends their other
// sessions; an administrator's reset gives a new one-time password and
// ends every session; disabling ends sessions and sign-ins; all audited.
func TestPasswordLifecycle(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "admin-id"}
	st, oneTime, err := d.svc.CreateStaff(ctx, admin, "demo", issuer.NewStaff{Name: "Hodan Warsame", Username: "hodan", Role: issuer.RoleSupervisor})
	if err != nil || !st.MustChangePassword {
		t.Fatalf("%+v %v", st, err)
	}
	s1, p, err := d.svc.SignIn(ctx, "hodan", oneTime)
	if err != nil || !p.MustChangePassword {
		t.Fatalf("first sign-in: %+v %v", p, err)
	}
	s2, _, err := d.svc.SignIn(ctx, "hodan", oneTime)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in    issuer.PasswordChange
		field string
		code  string
	}{
		{issuer.PasswordChange{}, "current", "required"},
		{issuer.PasswordChange{Current: oneTime, New: "short one"}, "new", "too_short"},
		{issuer.PasswordChange{Current: oneTime, New: "Hodan-2026-hodan!"}, "new", "username"},
		{issuer.PasswordChange{Current: oneTime, New: "password12345"}, "new", "common"},
		{issuer.PasswordChange{Current: oneTime, New: "qwertyuiop123"}, "new", "common"},
		{issuer.PasswordChange{Current: oneTime, New: "Warsame19901990"}, "new", "common"},
		{issuer.PasswordChange{Current: oneTime, New: strings.Repeat("x", 257)}, "new", "too_long"},
		{issuer.PasswordChange{Current: oneTime, New: oneTime}, "new", "same"},
		{issuer.PasswordChange{Current: "not the one-time one", New: "velvet compass orchard rain"}, "current", "wrong"},
	} {
		err := d.svc.ChangePassword(ctx, p, s1, tc.in)
		var ie *issuer.InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("%+v: %v", tc.in, err)
		}
		if f, ok := ie.Field(tc.field); !ok || f.Code != tc.code {
			t.Fatalf("%q: %v, want %s %s", tc.in.New, ie, tc.field, tc.code)
		}
	}
	const chosen = "velvet compass orchard rain"
	if err := d.svc.ChangePassword(ctx, p, s1, issuer.PasswordChange{Current: oneTime, New: chosen}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.SessionPrincipal(ctx, s2); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("the other session goes on: %v", err)
	}
	if p, err := d.svc.SessionPrincipal(ctx, s1); err != nil || p.MustChangePassword {
		t.Fatalf("the session it was changed from: %+v %v", p, err)
	}
	if _, _, err := d.svc.SignIn(ctx, "hodan", oneTime); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("the one-time password still works: %v", err)
	}
	if _, p, err := d.svc.SignIn(ctx, "hodan", chosen); err != nil || p.MustChangePassword {
		t.Fatalf("the chosen password: %+v %v", p, err)
	}
	if err := d.svc.ChangePassword(ctx, issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, TokenID: "t"}, "", issuer.PasswordChange{}); !errors.Is(err, issuer.ErrForbidden) {
		t.Fatalf("a token's password: %v", err)
	}

	// The administrator resets it.
	if _, _, err := d.svc.ResetPassword(ctx, admin, "other", st.ID); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("reset from another organisation: %v", err)
	}
	_, reset, err := d.svc.ResetPassword(ctx, admin, "demo", st.ID)
	if err != nil || reset == oneTime {
		t.Fatal(err)
	}
	if _, err := d.svc.SessionPrincipal(ctx, s1); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("a session outlives a reset: %v", err)
	}
	if _, _, err := d.svc.SignIn(ctx, "hodan", chosen); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("the old password outlives a reset: %v", err)
	}
	s3, p, err := d.svc.SignIn(ctx, "hodan", reset)
	if err != nil || !p.MustChangePassword {
		t.Fatalf("after a reset: %+v %v", p, err)
	}

	// Disabled.
	if _, err := d.svc.DisableStaff(ctx, p, "demo", st.ID); !errors.Is(err, issuer.ErrInvalid) {
		t.Fatalf("disabling oneself: %v", err)
	}
	if _, err := d.svc.DisableStaff(ctx, admin, "other", st.ID); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("disable from another organisation: %v", err)
	}
	if got, err := d.svc.DisableStaff(ctx, admin, "demo", st.ID); err != nil || !got.Disabled {
		t.Fatalf("disable: %+v %v", got, err)
	}
	if _, err := d.svc.SessionPrincipal(ctx, s3); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("a session outlives disabling: %v", err)
	}
	if _, _, err := d.svc.SignIn(ctx, "hodan", reset); !errors.Is(err, issuer.ErrUnauthenticated) {
		t.Fatalf("a disabled member signs in: %v", err)
	}
	var actions []audit.Action
	for _, e := range d.entries(t) {
		for _, o := range e.Objects {
			if o.ID == st.ID && e.Action != audit.ActionStaffCreate {
				actions = append(actions, e.Action)
				if e.Action == audit.ActionPasswordChange && len(actions) == 1 && e.Outcome != audit.OutcomeDenied {
					t.Errorf("the wrong current password is audited as %s", e.Outcome)
				}
			}
		}
	}
	want := []audit.Action{audit.ActionPasswordChange, audit.ActionPasswordChange, audit.ActionStaffChange, audit.ActionStaffChange}
	if !slices.Equal(actions, want) {
		t.Fatalf("audited %v, want %v", actions, want)
	}
}

// TestSignInLimits: five failures for a user name from one client stop
// its sign-ins there, the right password included, until the window
// ends; a client the user signed in from is not locked out by failures
// from elsewhere; one client spraying user names is stopped; the tables
// stay bounded.
func TestSignInLimits(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	sys := issuer.SystemPrincipal("test")
	_, pw, err := d.svc.CreateStaff(ctx, sys, "demo", issuer.NewStaff{Name: "Idil", Username: "idil", Role: issuer.RoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	home, attacker := "198.51.100.7", "203.0.113.9"
	if _, _, err := d.svc.SignInFrom(ctx, home, "idil", pw); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := d.svc.SignInFrom(ctx, attacker, "idil", "guess"); !errors.Is(err, issuer.ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	_, _, err = d.svc.SignInFrom(ctx, attacker, "idil", pw)
	var tm *issuer.TooManyAttemptsError
	if !errors.As(err, &tm) || tm.RetryAfter <= 0 || tm.RetryAfter > 15*time.Minute {
		t.Fatalf("the sixth try: %v", err)
	}
	// Spraying idil from many clients: twenty failures in all lock
	// strangers out, not idil at home.
	for i := range 20 {
		d.svc.SignInFrom(ctx, fmt.Sprintf("192.0.2.%d", i), "idil", "guess")
	}
	if _, _, err := d.svc.SignInFrom(ctx, "192.0.2.200", "idil", pw); !errors.Is(err, issuer.ErrTooManyAttempts) {
		t.Fatalf("a new client after 25 failures: %v", err)
	}
	if _, _, err := d.svc.SignInFrom(ctx, home, "idil", pw); err != nil {
		t.Fatalf("idil at home: %v", err)
	}
	// Once the window has passed, the attacker's client may try again.
	d.now = d.now.Add(15*time.Minute + time.Second)
	if _, _, err := d.svc.SignInFrom(ctx, attacker, "idil", pw); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// One client trying many user names.
	for i := range 100 {
		d.svc.SignInFrom(ctx, "192.0.2.250", fmt.Sprintf("user%d", i), "guess")
	}
	if _, _, err := d.svc.SignInFrom(ctx, "192.0.2.250", "idil", pw); !errors.Is(err, issuer.ErrTooManyAttempts) {
		t.Fatalf("a client after 100 failures: %v", err)
	}
}
