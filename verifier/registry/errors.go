package registry

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the domain, token or peer list does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the domain to create exists already.
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the input is wrong; the error is an *InputError or a
	// *CSVError that says what and where.
	ErrInvalid = errors.New("invalid input")
	// ErrNoKey: a domain's key cannot be opened: there is no master key,
	// or not the one that sealed it.
	ErrNoKey = errors.New("the dedup domain's key cannot be opened")
)

// InputError is a bad field of a request, in plain words.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Problem) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// CSVError is a bad token list: the line and column (both from 1) of the
// first problem found, and the problem in plain words. Nothing of a list
// with an error is imported.
type CSVError struct {
	Line, Column int
	// Field is the column's name, when known.
	Field   string
	Problem string
}

func (e *CSVError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d, column %d (%s): %s", e.Line, e.Column, e.Field, e.Problem)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Problem)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *CSVError) Is(target error) bool { return target == ErrInvalid }
