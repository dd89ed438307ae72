package issuer

import (
	"context"
	"fmt"
	"github.com/tally-id/tally/issuer/audit"
	"regexp"
	"strings"
	"time"
)

// Staff is a member of an organisation's staff who signs in with a user
// name and a password.
type Staff struct {
	ID       string `json:"id"`
	Org      string `json:"org"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Role     Role   `json:"role"`
	// PasswordHash is the argon2id PHC string of the password; never shown.
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	Created      time.Time `json:"created"`
	// MustChangePassword: the password is a one-time password, given by an
	// administrator; the staff member must choose their own at sign-in.
	MustChangePassword bool `json:"mustChangePassword"`
	// PasswordChanged is when the staff member last chose their password.
	PasswordChanged time.Time `json:"passwordChanged,omitzero"`
}

// NewStaff is the input that adds a staff member.
type NewStaff struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	Role     Role   `json:"role"`
}

// StaffStore keeps staff members. User names are unique across the
// instance, so that signing in needs no organisation.
type StaffStore interface {
	// CreateStaff stores a new staff member; ErrConflict if the id or the
	// user name is taken.
	CreateStaff(ctx context.Context, s Staff) error
	// StaffByID returns a staff member, or ErrNotFound.
	StaffByID(ctx context.Context, id string) (Staff, error)
	// StaffByUsername returns a staff member, or ErrNotFound.
	StaffByUsername(ctx context.Context, username string) (Staff, error)
	// ListStaff returns an organisation's staff, by user name.
	ListStaff(ctx context.Context, org string) ([]Staff, error)
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$`)

// NormaliseUsername is how user names are compared: trimmed, lower case.
func NormaliseUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// check validates and normalises the input.
func (in *NewStaff) check() error {
	var p problems
	in.Name = strings.TrimSpace(in.Name)
	in.Username = NormaliseUsername(in.Username)
	checkName(&p, "name", in.Name)
	switch {
	case in.Username == "":
		p.add("username", "required", "give a user name")
	case !usernamePattern.MatchString(in.Username):
		p.add("username", "format", "use 3 to 64 lower-case letters, digits, dots, hyphens and underscores")
	}
	switch {
	case in.Role == "":
		p.add("role", "required", "choose a role")
	case !in.Role.Valid():
		p.add("role", "unknown", "choose one of admin, registrar, supervisor, auditor, verifier")
	}
	return p.err()
}

// CreateStaff adds a staff member to organisation org with a new one-time
// password, which it returns: show it once, to the administrator, who
// hands it over. Only its hash is kept. by is who adds them, for the audit
// log.
func (s *Service) CreateStaff(ctx context.Context, by Principal, org string, in NewStaff) (Staff, string, error) {
	if err := in.check(); err != nil {
		return Staff{}, "", err
	}
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return Staff{}, "", err
	}
	st, password, err := s.newStaff(ctx, org, in)
	if err != nil {
		return Staff{}, "", err
	}
	if err := s.staff.CreateStaff(ctx, st); err != nil {
		return Staff{}, "", usernameTaken(err)
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionStaffCreate,
		Objects: []audit.Object{{Kind: audit.ObjectStaff, ID: st.ID}}, Purpose: audit.PurposeAdministration}); err != nil {
		return Staff{}, "", err
	}
	return st, password, nil
}

// newStaff makes the record of a new staff member and its password.
func (s *Service) newStaff(ctx context.Context, org string, in NewStaff) (Staff, string, error) {
	id, err := newID(s.rand)
	if err != nil {
		return Staff{}, "", err
	}
	password, err := newPassword(s.rand)
	if err != nil {
		return Staff{}, "", err
	}
	if err := s.slots.acquire(ctx); err != nil {
		return Staff{}, "", err
	}
	hash, err := hashPassword(password, s.params, s.rand)
	s.slots.release()
	if err != nil {
		return Staff{}, "", err
	}
	return Staff{
		ID: id, Org: org, Name: in.Name, Username: in.Username, Role: in.Role,
		PasswordHash: hash, Created: s.now().UTC(), MustChangePassword: true,
	}, password, nil
}

// usernameTaken turns a store's ErrConflict into a field error.
func usernameTaken(err error) error {
	if isConflict(err) {
		return &InvalidError{Fields: []FieldError{{Field: "username", Code: "taken", Message: "this user name is taken: choose another"}}}
	}
	return err
}

// ListStaff returns organisation org's staff.
func (s *Service) ListStaff(ctx context.Context, org string) ([]Staff, error) {
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return nil, err
	}
	list, err := s.staff.ListStaff(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return list, nil
}
