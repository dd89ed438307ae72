package holder

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Rand draws keys, secrets and ids; crypto/rand if nil.
	Rand io.Reader
	// KDF is the argon2id cost of new accounts; DefaultKDF() if zero.
	KDF KDFParams
	// BackupKDF is the argon2id cost of the backups holders download
	// (account_ops.go); DefaultBackupKDF() if zero.
	BackupKDF KDFParams
	// SessionIdle ends a session unused this long (15 minutes);
	// SessionTTL ends any session this old (12 hours).
	SessionIdle, SessionTTL time.Duration
	// MaxSessions bounds the sessions kept in memory (10,000); the least
	// recently used goes first.
	MaxSessions int
	// MaxCredentials (200) and MaxShares (1,000) bound what one holder
	// keeps; the oldest share log entries give way to new ones.
	MaxCredentials, MaxShares int
	// ResetTTL is how long a reset code given by registration staff
	// stays valid (48 hours).
	ResetTTL time.Duration
}

// PIN rules and the lock-out after wrong ones.
const (
	MinPINLength = 6
	MaxPINLength = 12
	// FreePINFailures wrong PINs in a row lock nothing; each one after
	// locks for twice as long as the last, from a minute; at
	// MaxPINFailures only the recovery code or a reset opens the wallet.
	FreePINFailures = 4
	MaxPINFailures  = 10
)

// Service is the wallet's use-cases.
type Service struct {
	store Store
	opts  Options
	now   func() time.Time
	rand  io.Reader
	slots slots

	mu       sync.Mutex
	sessions map[string]*session // by the SHA-256 of the token, hex
	// profileMu serialises the changes of holders' profiles
	// (Wallet.updateProfile).
	profileMu sync.Mutex
}

// session is a signed-in holder: the data key lives here, in memory
// only, for the session's life.
type session struct {
	holder   string
	dataKey  []byte
	created  time.Time
	lastUsed time.Time
}

// New returns the service on store.
func New(store Store, opts Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("holder: a store is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.KDF == (KDFParams{}) {
		opts.KDF = DefaultKDF()
	}
	if err := opts.KDF.check(); err != nil {
		return nil, err
	}
	if opts.BackupKDF == (KDFParams{}) {
		opts.BackupKDF = DefaultBackupKDF()
	}
	if err := opts.BackupKDF.checkBackup(); err != nil {
		return nil, err
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&opts.SessionIdle, 15*time.Minute)
	defDur(&opts.SessionTTL, 12*time.Hour)
	defDur(&opts.ResetTTL, 48*time.Hour)
	def(&opts.MaxSessions, 10000)
	def(&opts.MaxCredentials, 200)
	def(&opts.MaxShares, 1000)
	return &Service{store: store, opts: opts, now: opts.Now, rand: opts.Rand, slots: make(slots, 2), sessions: map[string]*session{}}, nil
}

// Opened is what opening (or resetting) a wallet gives the holder, once:
// the device keeps DeviceSecret; RecoveryCode goes on the recovery sheet.
type Opened struct {
	ID           string
	DeviceSecret string
	RecoveryCode string
	// Session is the holder's first session token.
	Session string
}

// Open opens a new wallet with a PIN: a new account, data key, holder key
// (for key binding) and the language its pages speak.
func (s *Service) Open(ctx context.Context, pin, lang string) (Opened, error) {
	if err := CheckPIN(pin); err != nil {
		return Opened{}, err
	}
	dataKey, err := s.random(dataKeySize)
	if err != nil {
		return Opened{}, err
	}
	var id string
	var a Account
	for range 5 {
		if id, err = s.code(10); err != nil {
			return Opened{}, err
		}
		a = Account{ID: id, Created: s.now().UTC(), KDF: s.opts.KDF, KeyID: keyID(dataKey)}
		if _, err := s.store.Account(ctx, id); errors.Is(err, ErrNotFound) {
			break
		} else if err != nil {
			return Opened{}, err
		}
		id = ""
	}
	if id == "" {
		return Opened{}, errors.New("holder: no free wallet number")
	}
	device, recovery, err := s.wrap(ctx, &a, dataKey, pin, true)
	if err != nil {
		return Opened{}, err
	}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		return Opened{}, err
	}
	w := &Wallet{s: s, holder: id, dataKey: dataKey}
	if _, err := w.newProfile(ctx, lang); err != nil {
		_ = s.store.DeleteAccount(context.WithoutCancel(ctx), id)
		return Opened{}, err
	}
	tok, err := s.startSession(id, dataKey)
	if err != nil {
		return Opened{}, err
	}
	return Opened{ID: id, DeviceSecret: device, RecoveryCode: recovery, Session: tok}, nil
}

// wrap seals dataKey in a for a new device secret and pin (and, when
// withRecovery, under a new recovery code), returning the secrets.
func (s *Service) wrap(ctx context.Context, a *Account, dataKey []byte, pin string, withRecovery bool) (device, recovery string, err error) {
	dev, err := s.random(32)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(dev)
	a.DeviceHash = sum[:]
	if a.PINSalt, err = s.random(16); err != nil {
		return "", "", err
	}
	k, err := s.derive(ctx, a.KDF, pinSecret(pin, dev), a.PINSalt, "pin")
	if err != nil {
		return "", "", err
	}
	if a.PINSealed, err = seal(s.rand, k, dataKey, keyAAD(a.ID, "pin")); err != nil {
		return "", "", err
	}
	if withRecovery {
		if recovery, err = s.code(20); err != nil {
			return "", "", err
		}
		if a.RecoverySalt, err = s.random(16); err != nil {
			return "", "", err
		}
		rk, err := s.derive(ctx, a.KDF, []byte(recovery), a.RecoverySalt, "recovery")
		if err != nil {
			return "", "", err
		}
		if a.RecoverySealed, err = seal(s.rand, rk, dataKey, keyAAD(a.ID, "recovery")); err != nil {
			return "", "", err
		}
		recovery = group(recovery, 4)
	}
	a.Failures, a.LockedUntil = 0, time.Time{}
	return base64.RawURLEncoding.EncodeToString(dev), recovery, nil
}

// SignIn opens a holder's wallet from their device with their PIN, and
// starts a session. A device that does not prove its secret is refused
// without counting a PIN failure (it cannot be the holder's phone); a
// wrong PIN counts, and locks the account for a while after
// FreePINFailures of them.
func (s *Service) SignIn(ctx context.Context, id, deviceSecret, pin string) (string, error) {
	id = NormalizeID(id)
	dev, err := base64.RawURLEncoding.DecodeString(deviceSecret)
	if err != nil || len(dev) != 32 {
		return "", fmt.Errorf("this phone is not linked to wallet %s: %w", group(id, 5), ErrUnauthenticated)
	}
	a, err := s.store.Account(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("no wallet has this number on this phone: %w", ErrUnauthenticated)
	} else if err != nil {
		return "", err
	}
	sum := sha256.Sum256(dev)
	if subtle.ConstantTimeCompare(sum[:], a.DeviceHash) != 1 {
		return "", fmt.Errorf("this phone is not linked to wallet %s: %w", group(id, 5), ErrUnauthenticated)
	}
	if len(pin) > MaxPINLength {
		return "", fmt.Errorf("wrong PIN: %w", ErrUnauthenticated)
	}
	dataKey, err := s.attempt(ctx, id, func(a Account) ([]byte, error) {
		k, err := s.derive(ctx, a.KDF, pinSecret(pin, dev), a.PINSalt, "pin")
		if err != nil {
			return nil, err
		}
		return open(k, a.PINSealed, keyAAD(a.ID, "pin"))
	})
	if err != nil {
		return "", err
	}
	return s.startSession(id, dataKey)
}

// attempt runs one counted attempt at an account's secret: the failure is
// counted before try runs (so that neither concurrent attempts nor a
// crash mid-way give an attacker free tries) and forgiven when try opens
// the data key.
func (s *Service) attempt(ctx context.Context, id string, try func(Account) ([]byte, error)) ([]byte, error) {
	now := s.now()
	a, err := s.store.UpdateAccount(ctx, id, func(a *Account) (bool, error) {
		if err := lockedOut(*a, now); err != nil {
			return false, err
		}
		a.Failures++
		if a.Failures > FreePINFailures {
			if a.Failures >= MaxPINFailures {
				a.LockedUntil = time.Time{}
			} else {
				a.LockedUntil = now.Add(time.Minute << (a.Failures - FreePINFailures - 1))
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	dataKey, err := try(a)
	if errors.Is(err, errOpen) {
		if a.Failures >= MaxPINFailures {
			return nil, fmt.Errorf("wrong PIN: %w", &LockedError{})
		}
		return nil, fmt.Errorf("wrong PIN (%d tries left before the wallet locks): %w", MaxPINFailures-a.Failures, ErrUnauthenticated)
	} else if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateAccount(context.WithoutCancel(ctx), id, func(a *Account) (bool, error) {
		a.Failures, a.LockedUntil = 0, time.Time{}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return dataKey, nil
}

// lockedOut tells whether a PIN may be tried on a now.
func lockedOut(a Account, now time.Time) error {
	if a.Failures >= MaxPINFailures {
		return &LockedError{}
	}
	if now.Before(a.LockedUntil) {
		return &LockedError{Until: a.LockedUntil}
	}
	return nil
}

// Recover opens a wallet with its recovery code on a new device, with a
// new PIN: the old device is locked out, every credential stays. The
// recovery code stays the same. Wrong codes do not count against the PIN
// (a stranger who knows the wallet number could lock it otherwise), and
// a wallet locked by wrong PINs still opens with the right code.
func (s *Service) Recover(ctx context.Context, id, recoveryCode, newPIN string) (Opened, error) {
	id = NormalizeID(id)
	if err := CheckPIN(newPIN); err != nil {
		return Opened{}, err
	}
	code := NormalizeID(recoveryCode)
	if len(code) != 20 {
		return Opened{}, fmt.Errorf("a recovery code has 20 letters and digits: %w", ErrUnauthenticated)
	}
	a, err := s.store.Account(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Opened{}, fmt.Errorf("no wallet has this number: %w", ErrUnauthenticated)
	} else if err != nil {
		return Opened{}, err
	}
	k, err := s.derive(ctx, a.KDF, []byte(code), a.RecoverySalt, "recovery")
	if err != nil {
		return Opened{}, err
	}
	dataKey, err := open(k, a.RecoverySealed, keyAAD(a.ID, "recovery"))
	if err != nil {
		// Not counted against the PIN: anyone who knows a wallet number
		// can try codes, and ten tries would lock the holder out for
		// good. A code has 100 bits, and the public doors limit tries
		// per client (internal/http).
		return Opened{}, fmt.Errorf("wrong recovery code: %w", ErrUnauthenticated)
	}
	var device string
	if _, err := s.store.UpdateAccount(ctx, id, func(b *Account) (bool, error) {
		// A staff reset won the race: the data key opened here is gone,
		// with what it sealed.
		if !bytes.Equal(b.RecoverySealed, a.RecoverySealed) {
			return false, fmt.Errorf("this recovery code no longer opens the wallet: %w", ErrUnauthenticated)
		}
		// The holder is back with her own sheet: a reset code still open
		// would only let someone else start her wallet again.
		b.ResetHash, b.ResetExpires = nil, time.Time{}
		var err error
		device, _, err = s.wrap(ctx, b, dataKey, newPIN, false)
		return false, err
	}); err != nil {
		return Opened{}, err
	}
	s.endSessionsOf(id)
	tok, err := s.startSession(id, dataKey)
	if err != nil {
		return Opened{}, err
	}
	return Opened{ID: id, DeviceSecret: device, Session: tok}, nil
}

// IssueReset gives a one-time reset code for a holder who lost their
// phone and their recovery sheet: registration staff call it once they
// have checked who the person is. The code is shown to the staff member
// once, and kept only as a hash.
func (s *Service) IssueReset(ctx context.Context, id string) (string, error) {
	id = NormalizeID(id)
	code, err := s.code(12)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(code))
	exp := s.now().Add(s.opts.ResetTTL).UTC()
	if _, err := s.store.UpdateAccount(ctx, id, func(a *Account) (bool, error) {
		a.ResetHash, a.ResetExpires = sum[:], exp
		return false, nil
	}); err != nil {
		return "", err
	}
	return group(code, 4), nil
}

// ResetWithCode starts a wallet again with the reset code registration
// staff gave: a new data key, device secret, PIN and recovery code. What
// the old data key sealed cannot be opened by anyone, and is deleted; the
// issuers offer the credentials again. The old phone is locked out.
func (s *Service) ResetWithCode(ctx context.Context, id, resetCode, newPIN, lang string) (Opened, error) {
	id = NormalizeID(id)
	if err := CheckPIN(newPIN); err != nil {
		return Opened{}, err
	}
	sum := sha256.Sum256([]byte(NormalizeID(resetCode)))
	dataKey, err := s.random(dataKeySize)
	if err != nil {
		return Opened{}, err
	}
	now := s.now()
	var device, recovery string
	_, err = s.store.UpdateAccount(ctx, id, func(a *Account) (bool, error) {
		if a.ResetHash == nil || !now.Before(a.ResetExpires) || subtle.ConstantTimeCompare(sum[:], a.ResetHash) != 1 {
			return false, fmt.Errorf("this reset code is wrong, used or expired: ask registration staff for a new one: %w", ErrUnauthenticated)
		}
		a.ResetHash, a.ResetExpires = nil, time.Time{}
		a.KDF, a.KeyID = s.opts.KDF, keyID(dataKey)
		var err error
		device, recovery, err = s.wrap(ctx, a, dataKey, newPIN, true)
		return true, err
	})
	if errors.Is(err, ErrNotFound) {
		return Opened{}, fmt.Errorf("no wallet has this number: %w", ErrUnauthenticated)
	} else if err != nil {
		return Opened{}, err
	}
	s.endSessionsOf(id)
	w := &Wallet{s: s, holder: id, dataKey: dataKey}
	if _, err := w.newProfile(ctx, lang); err != nil {
		return Opened{}, err
	}
	tok, err := s.startSession(id, dataKey)
	if err != nil {
		return Opened{}, err
	}
	return Opened{ID: id, DeviceSecret: device, RecoveryCode: recovery, Session: tok}, nil
}

// CheckPIN tells whether pin is allowed: MinPINLength to MaxPINLength
// digits, not all the same and not a run (123456, 987654).
func CheckPIN(pin string) error {
	if len(pin) < MinPINLength || len(pin) > MaxPINLength {
		return invalid("a PIN has %d to %d digits", MinPINLength, MaxPINLength)
	}
	same, up, down := true, true, true
	for i := range len(pin) {
		if pin[i] < '0' || pin[i] > '9' {
			return invalid("a PIN has digits only")
		}
		if i > 0 {
			same = same && pin[i] == pin[0]
			up = up && pin[i] == pin[i-1]+1
			down = down && pin[i] == pin[i-1]-1
		}
	}
	if same || up || down {
		return invalid("this PIN is too easy to guess: choose digits that are not all the same or in a row")
	}
	return nil
}

// NormalizeID reads a wallet number, recovery code or reset code as a
// person types it: any case, with spaces or dashes.
func NormalizeID(s string) string {
	if len(s) > 64 {
		return ""
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '2' && r <= '7':
			b.WriteRune(r)
		case r == '0':
			b.WriteRune('O')
		case r == '1':
			b.WriteRune('I')
		}
	}
	return b.String()
}

// FormatID writes a wallet number as people read it: ABCDE-FGHIJ.
func FormatID(id string) string { return group(id, 5) }

func group(s string, n int) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), "-")
}

// code draws n base32 characters (RFC 4648 alphabet: no 0, 1, 8 or 9 to
// misread).
func (s *Service) code(n int) (string, error) {
	b, err := s.random((n*5 + 7) / 8)
	if err != nil {
		return "", err
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:n], nil
}

func (s *Service) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("holder: random: %w", err)
	}
	return b, nil
}
