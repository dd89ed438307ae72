package issuer

import (
	"context"
	"errors"
	"fmt"
	"github.com/tally-id/tally/issuer/audit"
	"time"
)

// Session is a signed-in staff member's browser session. The session id
// lives in the browser's cookie; only its hash is stored.
type Session struct {
	Hash     []byte    `json:"hash"`
	StaffID  string    `json:"staff"`
	Org      string    `json:"org"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"lastSeen"`
	// Expires is when the session ends however active it is.
	Expires time.Time `json:"expires"`
}

// SessionStore keeps sessions by the hash of their id.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session, or ErrNotFound.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession records activity on a session.
	TouchSession(ctx context.Context, hash []byte, seen time.Time) error
	// DeleteSession removes a session; removing a missing one is no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes sessions that ended before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)
}

// Principal is who a request acts for: a signed-in staff member, or an API
// token.
type Principal struct {
	// Org is the organisation's slug.
	Org string `json:"org"`
	// Role is what the principal may do.
	Role Role `json:"role"`
	// StaffID is the staff member's id; empty for a token.
	StaffID string `json:"staffId,omitempty"`
	// TokenID is the API token's id; empty for a staff member.
	TokenID string `json:"tokenId,omitempty"`
	// Name is the staff member's name, or the token's label.
	Name string `json:"name"`
	// Username is the staff member's user name.
	Username string `json:"username,omitempty"`
	// System names a job of tally's own (first-start), for what it does
	// by itself; empty for people and tokens.
	System string `json:"-"`
	// MustChangePassword: the staff member signed in with a one-time
	// password, and must choose their own before anything else.
	MustChangePassword bool `json:"mustChangePassword,omitempty"`
}

// SystemPrincipal is tally itself, doing job (such as "first-start").
func SystemPrincipal(job string) Principal { return Principal{System: job} }

// touchEvery is how stale LastSeen may get before a request writes it
// again: the idle timeout is this coarse, and most requests write nothing.
const touchEvery = time.Minute

func unauthenticated(why string) error { return fmt.Errorf("%s: %w", why, ErrUnauthenticated) }

// errWrongPassword is the one answer to a wrong user name or password, so
// that the answer does not tell which user names exist.
var errWrongPassword = unauthenticated("the user name or the password is wrong")

// SignIn checks a staff member's user name and password and opens a
// session. It returns the session id for the cookie; wrong credentials and
// disabled accounts give the same error, wrapping ErrUnauthenticated, and
// take the same time.
func (s *Service) SignIn(ctx context.Context, username, password string) (string, Principal, error) {
	return s.SignInFrom(ctx, "", username, password)
}

// SignInFrom is SignIn from a client (its IP address, "" if unknown):
// refused sign-ins are counted per user name, per client and per both
// (SignInLimits), and past a limit a sign-in is refused with a
// *TooManyAttemptsError before its password is checked.
func (s *Service) SignInFrom(ctx context.Context, client, username, password string) (string, Principal, error) {
	username = NormaliseUsername(username)
	now := s.now()
	// The attempt is counted as refused before the password is checked,
	// and taken back if it is right (signInLimiter.begin).
	if wait := s.limiter.begin(username, client, now); wait > 0 {
		return "", Principal{}, &TooManyAttemptsError{RetryAfter: wait}
	}
	if len(password) > MaxPasswordLength {
		return "", Principal{}, errWrongPassword
	}
	st, err := s.staff.StaffByUsername(ctx, username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.limiter.abort(username, client)
		return "", Principal{}, err
	}
	hash := st.PasswordHash
	if err != nil {
		hash = s.dummyHash
	}
	if err := s.slots.acquire(ctx); err != nil {
		s.limiter.abort(username, client)
		return "", Principal{}, err
	}
	ok, herr := checkPassword(password, hash)
	s.slots.release()
	if herr != nil {
		s.limiter.abort(username, client)
		return "", Principal{}, fmt.Errorf("staff %s: %w", st.ID, herr)
	}
	if err != nil || !ok || st.Disabled {
		actor := audit.Anonymous()
		if err == nil {
			actor = audit.Staff(st.ID)
		}
		if aerr := s.record(ctx, audit.Entry{Actor: actor, Org: st.Org, Action: audit.ActionSignIn, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeDenied}); aerr != nil {
			return "", Principal{}, aerr
		}
		return "", Principal{}, errWrongPassword
	}
	s.limiter.succeed(username, client, now)
	id, err := newSecret(s.rand)
	if err != nil {
		return "", Principal{}, err
	}
	now = now.UTC()
	sess := Session{Hash: SecretHash(id), StaffID: st.ID, Org: st.Org, Created: now, LastSeen: now, Expires: now.Add(s.sessionTTL)}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return "", Principal{}, err
	}
	// Sweep ended sessions now and then: at each sign-in is often enough.
	if _, err := s.sessions.DeleteExpiredSessions(ctx, now, s.sessionIdle); err != nil {
		return "", Principal{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: audit.Staff(st.ID), Org: st.Org, Action: audit.ActionSignIn, Purpose: audit.PurposeSecurity}); err != nil {
		return "", Principal{}, err
	}
	return id, staffPrincipal(st), nil
}

func staffPrincipal(st Staff) Principal {
	return Principal{Org: st.Org, Role: st.Role, StaffID: st.ID, Name: st.Name, Username: st.Username, MustChangePassword: st.MustChangePassword}
}

// SessionPrincipal returns who a session id belongs to, and records the
// activity. An unknown, expired or idle session, or one whose staff member
// was disabled, gives ErrUnauthenticated.
func (s *Service) SessionPrincipal(ctx context.Context, id string) (Principal, error) {
	if id == "" || len(id) > 100 {
		return Principal{}, unauthenticated("no session")
	}
	hash := SecretHash(id)
	sess, err := s.sessions.Session(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, unauthenticated("the session has ended")
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.now().UTC()
	if !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= s.sessionIdle {
		if err := s.sessions.DeleteSession(ctx, hash); err != nil {
			return Principal{}, err
		}
		return Principal{}, unauthenticated("the session has ended")
	}
	st, err := s.staff.StaffByID(ctx, sess.StaffID)
	if errors.Is(err, ErrNotFound) || (err == nil && (st.Disabled || st.Org != sess.Org)) {
		return Principal{}, unauthenticated("the account is disabled")
	}
	if err != nil {
		return Principal{}, err
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		if err := s.sessions.TouchSession(ctx, hash, now); err != nil {
			return Principal{}, err
		}
	}
	return staffPrincipal(st), nil
}

// SignOut ends a session, and records who signed out when the session was
// still alive.
func (s *Service) SignOut(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	by, alive := s.SessionPrincipal(ctx, id)
	if err := s.sessions.DeleteSession(ctx, SecretHash(id)); err != nil {
		return err
	}
	if alive != nil {
		return nil
	}
	return s.record(ctx, audit.Entry{Actor: by.Actor(), Org: by.Org, Action: audit.ActionSignOut, Purpose: audit.PurposeSecurity})
}
