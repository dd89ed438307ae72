package issuer

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID draws a random identifier of 80 bits, as 16 lower-case base32
// characters: unique enough for records, short enough for URLs.
func newID(rand io.Reader) (string, error) {
	b := make([]byte, 10)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("draw id: %w", err)
	}
	return strings.ToLower(base32NoPad.EncodeToString(b)), nil
}

// newSecret draws a 256-bit secret (a session id or an API token's body),
// base64url without padding.
func newSecret(rand io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("draw secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SecretHash is the SHA-256 hash under which a session id or an API token
// is stored. The secrets are 256-bit random values, so a fast hash is
// enough: what a leaked database shows cannot be turned back into a
// working secret.
func SecretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
