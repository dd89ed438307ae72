package issuer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// TestSignInLimitsConcurrentBurst: a burst of concurrent guesses for one
// user name from one client has no more passwords checked than the limit
// allows. Before, every request of the burst passed the check before any
// was counted, and queued for the password hash: all were tried.
func TestSignInLimitsConcurrentBurst(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	sys := issuer.SystemPrincipal("test")
	_, pw, err := d.svc.CreateStaff(ctx, sys, "demo", issuer.NewStaff{Name: "Ayan Farah", Username: "ayan", Role: issuer.RoleRegistrar})
	if err != nil {
		t.Fatal(err)
	}
	const burst = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked, refused := 0, 0
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := d.svc.SignInFrom(ctx, "203.0.113.50", "ayan", fmt.Sprintf("guess %d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, issuer.ErrTooManyAttempts):
				refused++
			case errors.Is(err, issuer.ErrUnauthenticated):
				checked++
			default:
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if checked != 5 || refused != burst-5 {
		t.Fatalf("%d passwords checked, %d refused; want 5 and %d", checked, refused, burst-5)
	}
	// A right password from elsewhere still signs in, and signing in does
	// not count as a failure: the user's count stays below its limit.
	for i := range 3 {
		if _, _, err := d.svc.SignInFrom(ctx, fmt.Sprintf("198.51.100.%d", i), "ayan", pw); err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
}

// TestIssueVCStatusUnderAnotherName: the VC API refuses a credential that
// names the status property otherwise in its context (a status entry of
// the caller's making, pointing anywhere), as a field error; nothing is
// kept.
func TestIssueVCStatusUnderAnotherName(t *testing.T) {
	d := newVCDesk(t)
	doc := `{"@context":["https://www.w3.org/ns/credentials/v2",{"myStatus":{"@id":"https://www.w3.org/2018/credentials#credentialStatus","@type":"@id"}}],
"id":"urn:example:smuggled:1","type":["VerifiableCredential"],"issuer":"did:web:tally.example:orgs:demo","credentialSubject":{"id":"did:example:1"},
"myStatus":{"id":"https://tally.example/status/other/revocation/0#5","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://tally.example/status/other/revocation/0"}}`
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, TokenID: "tok_1"}
	for _, opts := range []issuer.VCIssueOptions{{}, {Format: issuer.VCFormatJWT}} {
		_, err := d.svc.IssueVC(context.Background(), by, "demo", []byte(doc), opts)
		var ie *issuer.InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("format %q: %v", opts.Format, err)
		}
		if f, ok := ie.Field("credential"); !ok || !strings.Contains(f.Message, "credentialStatus") {
			t.Fatalf("format %q: %v", opts.Format, ie)
		}
	}
}
