package holder

import (
	"errors"
	"fmt"
	"time"
)

// The package's errors. Functions wrap them with %w and plain words;
// callers switch on them with errors.Is.
var (
	// ErrNotFound: no such holder, credential or share log entry — or one
	// of another holder's, which is the same to the caller.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: the PIN, device secret, recovery code, reset
	// code or session is wrong or expired.
	ErrUnauthenticated = errors.New("sign in to your wallet first")
	// ErrLocked: too many wrong PINs; the error is a *LockedError that
	// says for how long.
	ErrLocked = errors.New("too many wrong PINs")
	// ErrInvalid: the input is wrong (a PIN too short, a credential that
	// cannot be read); the message names the problem.
	ErrInvalid = errors.New("invalid input")
	// ErrFull: the holder keeps as many credentials or log entries as a
	// wallet may.
	ErrFull = errors.New("the wallet is full")
)

// LockedError is a holder account locked after wrong PINs.
type LockedError struct {
	// Until is when a PIN may be tried again; zero when only the
	// recovery code or registration staff can open the account.
	Until time.Time
}

func (e *LockedError) Error() string {
	if e.Until.IsZero() {
		return "too many wrong PINs: open the wallet with its recovery code, or ask registration staff for a reset code"
	}
	return fmt.Sprintf("too many wrong PINs: try again after %s", e.Until.UTC().Format("15:04 UTC"))
}

// Is makes a *LockedError match ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}
