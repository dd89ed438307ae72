package issuer

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrTooManyAttempts: too many sign-ins were refused lately for this user
// name or from this client; the error is a *TooManyAttemptsError that says
// when to try again.
var ErrTooManyAttempts = errors.New("too many failed sign-ins")

// TooManyAttemptsError is a sign-in refused without checking the
// password, because too many were refused lately.
type TooManyAttemptsError struct {
	// RetryAfter is how long to wait before trying again.
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *TooManyAttemptsError) Is(target error) bool { return target == ErrTooManyAttempts }

// SignInLimits bound refused sign-ins. Each limit counts the failures of a
// window that starts at the first failure; once the limit is reached,
// sign-ins are refused, without checking the password, until the window
// ends. A success clears the count of its user name and client.
type SignInLimits struct {
	// PerPair is the most failures for one user name from one client (5).
	PerPair int
	// PerUsername is the most failures for one user name from every
	// client together (20). It does not apply to a client from which
	// the user signed in lately: spraying guesses from elsewhere does not
	// lock a user out of their own device.
	PerUsername int
	// PerClient is the most failures from one client, for every user name
	// together (100).
	PerClient int
	// Window is how long failures count (15 minutes).
	Window time.Duration
	// Known is how long a client from which a user signed in is known
	// (30 days).
	Known time.Duration
	// MaxEntries bounds each table of the limiter (100,000): when one is
	// full, ended entries are dropped, then the oldest.
	MaxEntries int
}

// DefaultSignInLimits are the limits of a Service whose Options give none.
func DefaultSignInLimits() SignInLimits {
	return SignInLimits{PerPair: 5, PerUsername: 20, PerClient: 100, Window: 15 * time.Minute, Known: 30 * 24 * time.Hour, MaxEntries: 100_000}
}

// signInLimiter counts refused sign-ins, in memory: a restart forgets
// them.
type signInLimiter struct {
	limits SignInLimits
	mu     sync.Mutex
	pairs  counters
	users  counters
	client counters
	// known holds user name and client pairs that signed in lately, with
	// when they did.
	known map[string]time.Time
}

// counters counts failures by key.
type counters map[string]*failures

type failures struct {
	n     int
	first time.Time
}

func newSignInLimiter(l SignInLimits) *signInLimiter {
	d := DefaultSignInLimits()
	if l.PerPair <= 0 {
		l.PerPair = d.PerPair
	}
	if l.PerUsername <= 0 {
		l.PerUsername = d.PerUsername
	}
	if l.PerClient <= 0 {
		l.PerClient = d.PerClient
	}
	if l.Window <= 0 {
		l.Window = d.Window
	}
	if l.Known <= 0 {
		l.Known = d.Known
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	return &signInLimiter{limits: l, pairs: counters{}, users: counters{}, client: counters{}, known: map[string]time.Time{}}
}

// maxKeyLen bounds what one key of the limiter holds: a user name longer
// than any valid one is cut.
const maxKeyLen = 128

func limiterKeys(username, client string) (user, pair string) {
	if len(username) > maxKeyLen {
		username = username[:maxKeyLen]
	}
	if len(client) > maxKeyLen {
		client = client[:maxKeyLen]
	}
	return username, username + "\x00" + client
}

// begin returns how long a sign-in for username from client must wait,
// or 0 if it may go ahead: then, in the same step, the attempt is counted
// as refused, and succeed or abort takes it back. Checking first and
// counting only once the password was found wrong let a burst of
// concurrent guesses all pass the check before any was counted.
func (l *signInLimiter) begin(username, client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(username, client, now); wait > 0 {
		return wait
	}
	l.failLocked(username, client, now)
	return 0
}

// abort takes back an attempt begun that was neither right nor wrong (the
// store failed, the request went away).
func (l *signInLimiter) abort(username, client string) {
	user, pair := limiterKeys(username, client)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs.sub(pair)
	l.users.sub(user)
	if client != "" {
		l.client.sub(client)
	}
}

// wait returns how long a sign-in for username from client must wait; 0
// if it may go ahead.
func (l *signInLimiter) wait(username, client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(username, client, now)
}

func (l *signInLimiter) waitLocked(username, client string, now time.Time) time.Duration {
	user, pair := limiterKeys(username, client)
	var wait time.Duration
	check := func(c counters, key string, limit int) {
		f, ok := c[key]
		if !ok {
			return
		}
		end := f.first.Add(l.limits.Window)
		if !now.Before(end) {
			delete(c, key)
			return
		}
		if f.n >= limit {
			wait = max(wait, end.Sub(now))
		}
	}
	check(l.pairs, pair, l.limits.PerPair)
	if client != "" {
		check(l.client, client, l.limits.PerClient)
	}
	if seen, ok := l.known[pair]; !ok || now.Sub(seen) >= l.limits.Known {
		check(l.users, user, l.limits.PerUsername)
	}
	return wait
}

// fail counts a refused sign-in.
func (l *signInLimiter) fail(username, client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failLocked(username, client, now)
}

func (l *signInLimiter) failLocked(username, client string, now time.Time) {
	user, pair := limiterKeys(username, client)
	l.pairs.add(pair, now, l.limits)
	l.users.add(user, now, l.limits)
	if client != "" {
		l.client.add(client, now, l.limits)
	}
}

// succeed clears the pair's count, takes back the attempt begun from the
// user name's and the client's, and remembers the client as one the user
// signs in from.
func (l *signInLimiter) succeed(username, client string, now time.Time) {
	user, pair := limiterKeys(username, client)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, pair)
	l.users.sub(user)
	if client != "" {
		l.client.sub(client)
	}
	if _, ok := l.known[pair]; !ok && len(l.known) >= l.limits.MaxEntries {
		var oldest string
		for k, t := range l.known {
			if now.Sub(t) >= l.limits.Known {
				delete(l.known, k)
			} else if oldest == "" || t.Before(l.known[oldest]) {
				oldest = k
			}
		}
		if len(l.known) >= l.limits.MaxEntries {
			delete(l.known, oldest)
		}
	}
	l.known[pair] = now
}

// sub takes back one failure counted under key.
func (c counters) sub(key string) {
	if f, ok := c[key]; ok {
		if f.n--; f.n <= 0 {
			delete(c, key)
		}
	}
}

// add counts a failure under key, making room if the table is full.
func (c counters) add(key string, now time.Time, limits SignInLimits) {
	if f, ok := c[key]; ok {
		if now.Sub(f.first) < limits.Window {
			f.n++
			return
		}
		delete(c, key)
	}
	if len(c) >= limits.MaxEntries {
		// Ended entries go first; then the one with the fewest failures,
		// the oldest of those: a flood of one-off guesses under new names
		// must not push out the count of the user name under attack.
		var victim string
		for k, f := range c {
			if now.Sub(f.first) >= limits.Window {
				delete(c, k)
				continue
			}
			if v, ok := c[victim]; !ok || f.n < v.n || f.n == v.n && f.first.Before(v.first) {
				victim = k
			}
		}
		if len(c) >= limits.MaxEntries {
			delete(c, victim)
		}
	}
	c[key] = &failures{n: 1, first: now}
}
