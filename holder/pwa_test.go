package holder_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tally-id/tally/holder"
)

// TestCredentialStatus: a wallet keeps the last status check of each of
// its credentials, sealed; only its own credentials, only known states;
// deleting a credential deletes its check; another holder reads nothing.
func TestCredentialStatus(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newService(t)
	open := func() *holder.Wallet {
		o, err := s.Open(ctx, "480915", "en")
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.Wallet(o.Session)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w, other := open(), open()
	cr, err := w.AddCredential(ctx, holder.Credential{Format: "qr", Raw: "NCF-raw", Issuer: "did:web:a.example", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Status(ctx, cr.ID); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("never checked: %v", err)
	}
	if err := w.SetStatus(ctx, "NOSUCHCREDENTIAL", holder.CredentialStatus{State: holder.StateValid}); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("status of no credential: %v", err)
	}
	if err := w.SetStatus(ctx, cr.ID, holder.CredentialStatus{State: "fine"}); !errors.Is(err, holder.ErrInvalid) {
		t.Fatalf("unknown state: %v", err)
	}
	if err := w.SetStatus(ctx, cr.ID, holder.CredentialStatus{State: holder.StateRevoked, Revocable: true}); err != nil {
		t.Fatal(err)
	}
	st, err := w.Status(ctx, cr.ID)
	if err != nil || st.State != holder.StateRevoked || !st.CheckedAt.Equal(c.now()) {
		t.Fatalf("status %+v, %v", st, err)
	}
	if all, err := w.Statuses(ctx); err != nil || len(all) != 1 || all[cr.ID].State != holder.StateRevoked {
		t.Fatalf("statuses %+v, %v", all, err)
	}
	if _, err := other.Status(ctx, cr.ID); err == nil {
		t.Fatal("another holder reads the status")
	}
	if err := other.SetStatus(ctx, cr.ID, holder.CredentialStatus{State: holder.StateValid}); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("another holder sets the status: %v", err)
	}
	if err := w.DeleteCredential(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Status(ctx, cr.ID); !errors.Is(err, holder.ErrNotFound) {
		t.Fatalf("status after deleting the credential: %v", err)
	}
}
