package issuer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/tally-id/tally/issuer/audit"
)

// AccountStore changes staff accounts.
type AccountStore interface {
	// UpdateStaff calls change with a staff member, in one transaction,
	// and stores what it returns: only the password hash, the password
	// flags and Disabled may change. ErrNotFound for an unknown id.
	UpdateStaff(ctx context.Context, id string, change func(Staff) (Staff, error)) (Staff, error)
	// DeleteStaffSessions ends every session of a staff member but the
	// one whose hash is keep (nil: all), and returns how many it ended.
	DeleteStaffSessions(ctx context.Context, staffID string, keep []byte) (int, error)
}

// minPasswordScore is the least zxcvbn score (0 to 4) of a password staff
// choose: 3 is "safely unguessable" by an online attacker, and needs
// more than a common password with a digit or two added.
const minPasswordScore = 3

// zxcvbnRunes is how much of a password the strength estimate reads: its
// cost grows fast with the length, and a password that long is strong
// whatever follows.
const zxcvbnRunes = 64

// checkNewPassword reports a password that staff may not choose: shorter
// than MinPasswordLength or longer than MaxPasswordLength, the user name,
// or common (a word list, a keyboard walk, a name with digits, ...).
func checkNewPassword(p *problems, field, password string, st Staff) {
	switch {
	case password == "":
		p.add(field, "required", "choose a password")
		return
	case len(password) > MaxPasswordLength || !utf8.ValidString(password):
		p.add(field, "too_long", fmt.Sprintf("use at most %d characters", MaxPasswordLength))
		return
	case utf8.RuneCountInString(password) < MinPasswordLength:
		p.add(field, "too_short", fmt.Sprintf("use at least %d characters", MinPasswordLength))
		return
	}
	lower := strings.ToLower(strings.TrimSpace(password))
	if lower == st.Username || strings.Contains(lower, st.Username) {
		p.add(field, "username", "do not use your user name in your password")
		return
	}
	head := password
	if utf8.RuneCountInString(head) > zxcvbnRunes {
		head = string([]rune(head)[:zxcvbnRunes])
	}
	inputs := append([]string{st.Username, "tally"}, strings.Fields(st.Name)...)
	if zxcvbn.PasswordStrength(head, inputs).Score < minPasswordScore {
		p.add(field, "common", "this password is common or easy to guess: use three or four unrelated words")
	}
}

// PasswordChange is a staff member's change of their own password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// passwordChangeClient is the limiter's client for the password changes
// of one staff member (with their id): its own count, apart from sign-ins.
const passwordChangeClient = "password-change:"

// ChangePassword changes the password of the signed-in staff member by,
// who proves the current one. Their other sessions end; the session
// sessionID (theirs, from which they change it) goes on. A wrong current
// password is a field error, audited as refused; past SignInLimits.PerPair
// wrong ones in a window, a change is refused with a
// *TooManyAttemptsError before the password is checked.
func (s *Service) ChangePassword(ctx context.Context, by Principal, sessionID string, in PasswordChange) error {
	if by.StaffID == "" {
		return fmt.Errorf("only staff members have passwords: %w", ErrForbidden)
	}
	if s.accounts == nil {
		return errors.New("issuer: no account store: passwords cannot be changed")
	}
	st, err := s.staff.StaffByID(ctx, by.StaffID)
	if err != nil {
		return err
	}
	var p problems
	if in.Current == "" {
		p.add("current", "required", "give your current password")
	}
	checkNewPassword(&p, "new", in.New, st)
	if !p.has("new") && in.New == in.Current {
		p.add("new", "same", "choose a password other than your current one")
	}
	if err := p.err(); err != nil {
		return err
	}
	// Wrong current passwords count as refused sign-ins of the user name
	// (SignInLimits): a session left open, or stolen, is no oracle to
	// guess the password with at leisure.
	now := s.now()
	client := passwordChangeClient + st.ID
	if wait := s.limiter.begin(st.Username, client, now); wait > 0 {
		return &TooManyAttemptsError{RetryAfter: wait}
	}
	if len(in.Current) > MaxPasswordLength {
		return &InvalidError{Fields: []FieldError{{Field: "current", Code: "wrong", Message: "this is not your current password"}}}
	}
	if err := s.slots.acquire(ctx); err != nil {
		s.limiter.abort(st.Username, client)
		return err
	}
	ok, err := checkPassword(in.Current, st.PasswordHash)
	s.slots.release()
	if err != nil {
		s.limiter.abort(st.Username, client)
		return fmt.Errorf("staff %s: %w", st.ID, err)
	}
	if !ok {
		if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: st.Org, Action: audit.ActionPasswordChange,
			Objects: []audit.Object{{Kind: audit.ObjectStaff, ID: st.ID}}, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeDenied}); err != nil {
			return err
		}
		return &InvalidError{Fields: []FieldError{{Field: "current", Code: "wrong", Message: "this is not your current password"}}}
	}
	s.limiter.succeed(st.Username, client, now)
	hash, err := s.hash(ctx, in.New)
	if err != nil {
		return err
	}
	now = now.UTC()
	if _, err := s.accounts.UpdateStaff(ctx, st.ID, func(st Staff) (Staff, error) {
		st.PasswordHash, st.MustChangePassword, st.PasswordChanged = hash, false, now
		return st, nil
	}); err != nil {
		return err
	}
	var keep []byte
	if sessionID != "" {
		keep = SecretHash(sessionID)
	}
	if _, err := s.accounts.DeleteStaffSessions(ctx, st.ID, keep); err != nil {
		return err
	}
	return s.record(ctx, audit.Entry{Actor: by.Actor(), Org: st.Org, Action: audit.ActionPasswordChange,
		Objects: []audit.Object{{Kind: audit.ObjectStaff, ID: st.ID}}, Purpose: audit.PurposeSecurity})
}

// hash hashes a password in one of the hash slots.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.slots.acquire(ctx); err != nil {
		return "", err
	}
	defer s.slots.release()
	return hashPassword(password, s.params, s.rand)
}

// orgStaff returns staff member id of organisation org, or ErrNotFound.
func (s *Service) orgStaff(ctx context.Context, org, id string) (Staff, error) {
	if id == "" || len(id) > 64 {
		return Staff{}, fmt.Errorf("staff member: %w", ErrNotFound)
	}
	st, err := s.staff.StaffByID(ctx, id)
	if err != nil {
		return Staff{}, err
	}
	if st.Org != org {
		return Staff{}, fmt.Errorf("staff member %s: %w", id, ErrNotFound)
	}
	return st, nil
}

// ResetPassword gives a staff member of org a new one-time password, which
// it returns: show it once, to the administrator, who hands it over. The
// staff member's sessions end, and they choose their own password at
// their next sign-in.
func (s *Service) ResetPassword(ctx context.Context, by Principal, org, staffID string) (Staff, string, error) {
	if s.accounts == nil {
		return Staff{}, "", errors.New("issuer: no account store: passwords cannot be reset")
	}
	if _, err := s.orgStaff(ctx, org, staffID); err != nil {
		return Staff{}, "", err
	}
	password, err := newPassword(s.rand)
	if err != nil {
		return Staff{}, "", err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Staff{}, "", err
	}
	st, err := s.accounts.UpdateStaff(ctx, staffID, func(st Staff) (Staff, error) {
		st.PasswordHash, st.MustChangePassword = hash, true
		return st, nil
	})
	if err != nil {
		return Staff{}, "", err
	}
	if _, err := s.accounts.DeleteStaffSessions(ctx, st.ID, nil); err != nil {
		return Staff{}, "", err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionStaffChange,
		Objects: []audit.Object{{Kind: audit.ObjectStaff, ID: st.ID}}, Purpose: audit.PurposeSecurity}); err != nil {
		return Staff{}, "", err
	}
	return st, password, nil
}

// DisableStaff disables a staff member of org: they can no longer sign in,
// and their sessions end. Administrators cannot disable themselves (an
// organisation must keep one). Disabling a disabled member changes and
// records nothing.
func (s *Service) DisableStaff(ctx context.Context, by Principal, org, staffID string) (Staff, error) {
	if s.accounts == nil {
		return Staff{}, errors.New("issuer: no account store: staff cannot be disabled")
	}
	cur, err := s.orgStaff(ctx, org, staffID)
	if err != nil {
		return Staff{}, err
	}
	if cur.ID == by.StaffID {
		return Staff{}, &InvalidError{Fields: []FieldError{{Field: "staff", Code: "self", Message: "you cannot disable your own account: ask another administrator"}}}
	}
	if cur.Disabled {
		return cur, nil
	}
	st, err := s.accounts.UpdateStaff(ctx, staffID, func(st Staff) (Staff, error) {
		st.Disabled = true
		return st, nil
	})
	if err != nil {
		return Staff{}, err
	}
	if _, err := s.accounts.DeleteStaffSessions(ctx, st.ID, nil); err != nil {
		return Staff{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionStaffChange,
		Objects: []audit.Object{{Kind: audit.ObjectStaff, ID: st.ID}}, Purpose: audit.PurposeSecurity}); err != nil {
		return Staff{}, err
	}
	return st, nil
}

// StaffMember returns one staff member of org.
func (s *Service) StaffMember(ctx context.Context, org, id string) (Staff, error) {
	return s.orgStaff(ctx, org, id)
}
