package issuer

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id costs of a password hash (RFC 9106,
// section 4).
type PasswordParams struct {
	// Time is the number of passes over memory.
	Time uint32
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultPasswordParams follow RFC 9106's second recommended option (64
// MiB, 3 passes) with two lanes, for the small two-core machines tally runs
// on: about a tenth of a second per sign-in.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}
}

// Hashes naming costs beyond these are refused unread: a crafted hash must
// not exhaust the machine.
const (
	maxPasswordTime      = 10
	maxPasswordMemoryKiB = 256 * 1024
	maxPasswordThreads   = 16
	passwordSaltSize     = 16
	passwordKeySize      = 32
)

// Password length limits, in bytes. The upper bound keeps hashing cheap to
// refuse.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// errBadHash is a stored hash tally cannot read.
var errBadHash = errors.New("password hash is not a tally argon2id hash")

// hashPassword returns the PHC string of password
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func hashPassword(password string, p PasswordParams, rand io.Reader) (string, error) {
	salt := make([]byte, passwordSaltSize)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("draw salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, passwordKeySize)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the PHC string hash, in
// constant time.
func checkPassword(password, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.Time < 1 || p.Time > maxPasswordTime || p.Threads < 1 || p.Threads > maxPasswordThreads ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxPasswordMemoryKiB {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// hashSlots bounds how many argon2id computations run at once, so that a
// burst of sign-ins cannot take more than a few times MemoryKiB.
type hashSlots chan struct{}

func (s hashSlots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s hashSlots) release() { <-s }

// newPassword draws a one-time password: 100 random bits as five groups of
// four lower-case base32 letters and digits, easy to read out and type.
func newPassword(rand io.Reader) (string, error) {
	b := make([]byte, 13)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("draw password: %w", err)
	}
	s := strings.ToLower(base32NoPad.EncodeToString(b))[:20]
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20], nil
}
