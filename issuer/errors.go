package issuer

import (
	"errors"
	"strings"
)

// The errors of the package. Functions wrap them with %w and a plain-words
// message; callers switch on them with errors.Is.
var (
	// ErrNotFound: the organisation, staff member, token or session does
	// not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: no one is signed in, or the credentials given
	// (password, session, token) are wrong, expired or disabled.
	ErrUnauthenticated = errors.New("sign in first")
	// ErrForbidden: the caller is signed in, but their role or
	// organisation does not allow this.
	ErrForbidden = errors.New("you are not allowed to do this")
	// ErrConflict: the thing to create exists already (a user name, an
	// organisation slug).
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the input is wrong; the error is an *InvalidError that
	// names each bad field.
	ErrInvalid = errors.New("invalid input")
	// ErrLikelyDuplicates: the person may be registered already; the
	// error is a *DuplicatesError that lists the likely duplicates.
	ErrLikelyDuplicates = errors.New("the person may be registered already")
	// ErrErased: the registration's personal data was erased (its
	// retention period ended, or the person asked): nothing can be done
	// with it but read that it was.
	ErrErased = errors.New("this registration's personal data was erased")
	// ErrRaced: a store refused a change because another one was made
	// since the caller read what it checked; checking again sees it.
	ErrRaced = errors.New("another change was made at the same moment: try again")
)

// FieldError is one bad field of an input.
type FieldError struct {
	// Field is the input's field name, as in forms and JSON ("username").
	Field string `json:"field"`
	// Code says what is wrong, for message catalogues: "required",
	// "too_long", "format", "unknown", "taken".
	Code string `json:"code"`
	// Message says it in plain English.
	Message string `json:"message"`
}

// InvalidError is an input with one or more bad fields. It matches
// ErrInvalid with errors.Is.
type InvalidError struct {
	Fields []FieldError
}

// Error lists every bad field.
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Field returns the problem with one field, if any.
func (e *InvalidError) Field(name string) (FieldError, bool) {
	for _, f := range e.Fields {
		if f.Field == name {
			return f, true
		}
	}
	return FieldError{}, false
}

// problems collects field errors; err returns nil when there are none.
type problems []FieldError

func (p *problems) add(field, code, message string) {
	*p = append(*p, FieldError{Field: field, Code: code, Message: message})
}

// has reports whether field has a problem already.
func (p problems) has(field string) bool {
	for _, f := range p {
		if f.Field == field {
			return true
		}
	}
	return false
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &InvalidError{Fields: p}
}
