package verifier

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DedupKeySize is the length of a dedup domain's secret key.
const DedupKeySize = 32

// dedupLabel separates tally's dedup tokens from any other use of the key.
const dedupLabel = "tally-dedup-v1"

// DedupKey is a dedup domain: an id, and the 32-byte secret key held by a
// verifying agency or shared by the members of a consortium that agree to
// deduplicate together. Tokens of one domain cannot be joined with another's.
type DedupKey struct {
	Domain string
	Secret [DedupKeySize]byte
}

// NewDedupKey draws a fresh domain key from r (crypto/rand.Reader if nil).
func NewDedupKey(domain string, r io.Reader) (DedupKey, error) {
	if r == nil {
		r = rand.Reader
	}
	k := DedupKey{Domain: domain}
	if _, err := io.ReadFull(r, k.Secret[:]); err != nil {
		return DedupKey{}, fmt.Errorf("draw dedup key: %w", err)
	}
	return k, nil
}

// ParseDedupKey reads a domain's secret key from a key file: 64 hex digits
// (white space around them is ignored).
func ParseDedupKey(domain string, data []byte) (DedupKey, error) {
	if strings.TrimSpace(domain) == "" {
		return DedupKey{}, errors.New("dedup key: the domain id is empty")
	}
	text := strings.TrimSpace(string(data))
	raw, err := hex.DecodeString(text)
	if err != nil || len(raw) != DedupKeySize {
		return DedupKey{}, fmt.Errorf("dedup key: the file must hold %d hex digits (a %d-byte key)", 2*DedupKeySize, DedupKeySize)
	}
	k := DedupKey{Domain: domain}
	copy(k.Secret[:], raw)
	return k, nil
}

// MarshalText writes the secret key as hex, the key file form.
func (k DedupKey) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(k.Secret[:]) + "\n"), nil
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// dedupToken is DESIGN.md's pairwise token:
// base32(HMAC-SHA256(key, "tally-dedup-v1" || 0x00 || issuer DID || 0x00 || seed)[:16]),
// lower case, without padding.
func dedupToken(key *DedupKey, issuer string, seed []byte) string {
	mac := hmac.New(sha256.New, key.Secret[:])
	mac.Write([]byte(dedupLabel))
	mac.Write([]byte{0})
	mac.Write([]byte(issuer))
	mac.Write([]byte{0})
	mac.Write(seed)
	sum := mac.Sum(nil)
	return strings.ToLower(tokenEncoding.EncodeToString(sum[:16]))
}
