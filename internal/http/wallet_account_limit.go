package http

import (
	"sync"
	"time"

	"github.com/tally-id/tally/issuer"
)

// This file limits the wallet's public doors that cost an argon2id
// derivation before anything is known of the caller: recovering a wallet
// with its recovery code, and starting it again with a staff reset code
// (wallet/account). Each holder account counts its own wrong codes; this
// counts every attempt per client address, so that no one can keep the
// server's two argon2id slots busy from one machine. In memory: a restart
// forgets the counts, which costs an attacker a restart they cannot make.

// doorLimits bound the attempts of one client.
type doorLimits struct {
	// PerClient attempts are allowed in each Window, counted from the
	// first; after that, every attempt is refused until the window ends.
	PerClient int
	Window    time.Duration
	// MaxEntries bounds the table: when full, ended windows go, then the
	// oldest.
	MaxEntries int
}

func defaultDoorLimits() doorLimits {
	return doorLimits{PerClient: 20, Window: 15 * time.Minute, MaxEntries: 100_000}
}

type doorLimiter struct {
	limits doorLimits
	now    func() time.Time
	mu     sync.Mutex
	counts map[string]*doorCount
}

type doorCount struct {
	n     int
	first time.Time
}

func newDoorLimiter(l doorLimits, now func() time.Time) *doorLimiter {
	if now == nil {
		now = time.Now
	}
	return &doorLimiter{limits: l, now: now, counts: map[string]*doorCount{}}
}

// take counts an attempt from client, or refuses it with an
// *issuer.TooManyAttemptsError that says when to try again.
func (l *doorLimiter) take(client string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.counts[client]
	if ok && now.Sub(f.first) >= l.limits.Window {
		delete(l.counts, client)
		ok = false
	}
	if !ok {
		if len(l.counts) >= l.limits.MaxEntries {
			l.evictLocked(now)
		}
		f = &doorCount{first: now}
		l.counts[client] = f
	}
	if f.n >= l.limits.PerClient {
		return &issuer.TooManyAttemptsError{RetryAfter: f.first.Add(l.limits.Window).Sub(now)}
	}
	f.n++
	return nil
}

// evictLocked drops the ended windows, then the oldest, until there is
// room; l.mu is held.
func (l *doorLimiter) evictLocked(now time.Time) {
	var oldest string
	for k, f := range l.counts {
		if now.Sub(f.first) >= l.limits.Window {
			delete(l.counts, k)
		} else if oldest == "" || f.first.Before(l.counts[oldest].first) {
			oldest = k
		}
	}
	if len(l.counts) >= l.limits.MaxEntries && oldest != "" {
		delete(l.counts, oldest)
	}
}
