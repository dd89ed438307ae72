package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// SeedSize is the length of a dedup seed in bytes.
const SeedSize = 16

// Seed is a person's pairwise dedup seed: 16 random bytes drawn once at
// registration and carried by every credential re-issued to that person. In
// JSON it is base64url without padding.
type Seed []byte

// NewSeed draws a seed from rand (crypto/rand.Reader in production).
func NewSeed(rand io.Reader) (Seed, error) {
	s := make(Seed, SeedSize)
	if _, err := io.ReadFull(rand, s); err != nil {
		return nil, fmt.Errorf("draw dedup seed: %w", err)
	}
	return s, nil
}

// MarshalJSON implements json.Marshaler.
func (s Seed) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.RawURLEncoding.EncodeToString(s))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Seed) UnmarshalJSON(data []byte) error {
	var str string
	if err := unmarshalJSON(data, &str); err != nil {
		return fmt.Errorf("dedupSeed must be a base64url string")
	}
	b, err := base64.RawURLEncoding.DecodeString(str)
	if err != nil {
		return fmt.Errorf("dedupSeed is not base64url without padding")
	}
	*s = b
	return nil
}
