package holder

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TokenPrefix starts every holder session token, so that no one mistakes
// one for a staff API token.
const TokenPrefix = "tw_"

// maxSessionsPerHolder bounds the sessions one holder keeps at once.
const maxSessionsPerHolder = 8

func tokenKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// startSession keeps dataKey in memory under a new random token.
func (s *Service) startSession(holder string, dataKey []byte) (string, error) {
	b, err := s.random(32)
	if err != nil {
		return "", err
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	// One holder keeps a few sessions at most (her phone, a tablet, a
	// wallet app): signing in again and again pushes out her own oldest,
	// never another holder's.
	for {
		var mine string
		n := 0
		for k, v := range s.sessions {
			if v.holder != holder {
				continue
			}
			n++
			if mine == "" || v.lastUsed.Before(s.sessions[mine].lastUsed) {
				mine = k
			}
		}
		if n < maxSessionsPerHolder {
			break
		}
		delete(s.sessions, mine)
	}
	for len(s.sessions) >= s.opts.MaxSessions {
		var oldest string
		for k, v := range s.sessions {
			if oldest == "" || v.lastUsed.Before(s.sessions[oldest].lastUsed) {
				oldest = k
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[tokenKey(tok)] = &session{holder: holder, dataKey: dataKey, created: now, lastUsed: now}
	return tok, nil
}

// expireLocked drops the sessions that ended; s.mu is held.
func (s *Service) expireLocked(now time.Time) {
	for k, v := range s.sessions {
		if s.ended(v, now) {
			delete(s.sessions, k)
		}
	}
}

func (s *Service) ended(v *session, now time.Time) bool {
	return now.Sub(v.lastUsed) > s.opts.SessionIdle || now.Sub(v.created) > s.opts.SessionTTL
}

// Wallet returns the wallet a session token opens, or ErrUnauthenticated
// when the token is unknown, ended or signed out.
func (s *Service) Wallet(token string) (*Wallet, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 100 {
		return nil, fmt.Errorf("not a wallet session: %w", ErrUnauthenticated)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tokenKey(token)
	v, ok := s.sessions[k]
	if !ok {
		return nil, fmt.Errorf("your wallet session ended: %w", ErrUnauthenticated)
	}
	if s.ended(v, now) {
		delete(s.sessions, k)
		return nil, fmt.Errorf("your wallet session ended: %w", ErrUnauthenticated)
	}
	v.lastUsed = now
	return &Wallet{s: s, holder: v.holder, dataKey: v.dataKey, token: k}, nil
}

// SignOut ends a session; an unknown token is no error.
func (s *Service) SignOut(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, tokenKey(token))
}

// endSessionsOf ends every session of a holder (a recovery, a reset, the
// wallet deleted) but those whose keys in s.sessions are in except (a PIN
// changed: the session that changed it goes on).
func (s *Service) endSessionsOf(holder string, except ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.sessions {
		if v.holder == holder && !slices.Contains(except, k) {
			delete(s.sessions, k)
		}
	}
}
