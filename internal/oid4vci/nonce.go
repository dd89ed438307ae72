package oid4vci

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"
)

// Nonces makes and spends c_nonce values without storing the ones made:
// a nonce is 16 random bytes, its expiry, and an HMAC of both and the
// Credential Issuer Identifier under a key drawn when the process starts.
// Only spent nonces are remembered, until they expire, so that each is
// used once; the nonce endpoint writes nothing. A restart forgets the
// key, and every nonce with it: wallets get invalid_nonce and ask again.
type Nonces struct {
	key []byte
	ttl time.Duration
	now func() time.Time
	r   io.Reader

	mu   sync.Mutex
	used map[string]time.Time
}

const (
	nonceRandom = 16
	nonceMAC    = 16
	nonceSize   = nonceRandom + 8 + nonceMAC
)

// NewNonces draws a key from r; nonces last ttl.
func NewNonces(r io.Reader, ttl time.Duration, now func() time.Time) (*Nonces, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("draw the nonce key: %w", err)
	}
	return &Nonces{key: key, ttl: ttl, now: now, r: r, used: map[string]time.Time{}}, nil
}

// TTL is how long a nonce lasts.
func (n *Nonces) TTL() time.Duration { return n.ttl }

func (n *Nonces) mac(scope string, body []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:nonceMAC]
}

// New makes a nonce for the credential issuer scope.
func (n *Nonces) New(scope string) (string, error) {
	b := make([]byte, nonceRandom, nonceSize)
	if _, err := io.ReadFull(n.r, b); err != nil {
		return "", fmt.Errorf("draw a nonce: %w", err)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(n.now().Add(n.ttl).Unix()))
	b = append(b, n.mac(scope, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Spend checks that nonce was made for scope, has not expired and was
// not spent, and spends it.
func (n *Nonces) Spend(scope, nonce string) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceSize {
		return false
	}
	body, mac := b[:nonceRandom+8], b[nonceRandom+8:]
	if !hmac.Equal(mac, n.mac(scope, body)) {
		return false
	}
	now := n.now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(body[nonceRandom:])), 0)
	if !now.Before(exp) {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, e := range n.used {
		if !now.Before(e) {
			delete(n.used, k)
		}
	}
	if _, spent := n.used[nonce]; spent {
		return false
	}
	n.used[nonce] = exp
	return true
}
