package holder_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
)

// Tests from the review of issue 8 (the wallet): what a stranger who
// knows a wallet number, or a holder signing in again and again, could
// do to other holders.

// TestWrongRecoveryCodesDoNotLockThePIN: anyone who knows a wallet
// number (it is read out to staff, written on the recovery sheet) can try
// recovery codes. Those tries must not lock the holder's PIN: ten of them
// would otherwise lock the wallet for good, and a holder without her
// recovery sheet would need a staff reset, which loses every credential.
func TestWrongRecoveryCodesDoNotLockThePIN(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	for range holder.MaxPINFailures + 2 {
		if _, err := s.Recover(ctx, o.ID, "AAAA-AAAA-AAAA-AAAA-AAAA", "527391"); !errors.Is(err, holder.ErrUnauthenticated) {
			t.Fatalf("wrong recovery code: %v", err)
		}
	}
	if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); err != nil {
		t.Fatalf("a stranger's wrong recovery codes locked the holder's PIN: %v", err)
	}
}

// TestSessionsPerHolderBounded: one holder signing in again and again
// (a script with her own wallet) must not push every other holder's
// session out of the service's bounded table.
func TestSessionsPerHolderBounded(t *testing.T) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := bolt.NewHolderStore(db)
	if err != nil {
		t.Fatal(err)
	}
	s, err := holder.New(st, holder.Options{KDF: fastKDF, BackupKDF: fastKDF, MaxSessions: 20})
	if err != nil {
		t.Fatal(err)
	}
	victim, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // the victim's session is the oldest
	attacker, err := s.Open(ctx, "264730", "en")
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := s.SignIn(ctx, attacker.ID, attacker.DeviceSecret, "264730"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Wallet(victim.Session); err != nil {
		t.Fatalf("another holder's sign-ins ended the victim's session: %v", err)
	}
}

// raceStore runs before once, just before the first UpdateAccount after
// it is armed: another change that lands while a slow one derives its key.
type raceStore struct {
	holder.Store
	before func()
}

func (r *raceStore) UpdateAccount(ctx context.Context, id string, change func(*holder.Account) (bool, error)) (holder.Account, error) {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.Store.UpdateAccount(ctx, id, change)
}

// TestRecoverLosesToAReset: a recovery opens the data key from the
// account as it read it; if a staff reset replaced that key meanwhile
// (and deleted what it sealed), the recovery must not seal the old key
// under the new PIN: the wallet would open to a key that opens nothing,
// and the reset's new recovery code would open another key than the PIN.
func TestRecoverLosesToAReset(t *testing.T) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := bolt.NewHolderStore(db)
	if err != nil {
		t.Fatal(err)
	}
	rs := &raceStore{Store: st}
	s, err := holder.New(rs, holder.Options{KDF: fastKDF, BackupKDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.IssueReset(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reset holder.Opened
	rs.before = func() {
		if reset, err = s.ResetWithCode(ctx, o.ID, code, "604918", "fr"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Recover(ctx, o.ID, o.RecoveryCode, "527391"); err == nil {
		t.Fatal("a recovery with the old recovery code went through after a reset replaced the data key")
	}
	// The reset's wallet still opens, and its data key is the one its
	// new recovery code opens.
	tok, err := s.SignIn(ctx, o.ID, reset.DeviceSecret, "604918")
	if err != nil {
		t.Fatalf("the reset's phone and PIN: %v", err)
	}
	w, err := s.Wallet(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Lang(ctx); err != nil {
		t.Fatalf("the reset's wallet does not open its own profile: %v", err)
	}
}
