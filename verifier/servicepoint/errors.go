package servicepoint

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid: the input is wrong; the error is an *InputError that
	// names the field.
	ErrInvalid = errors.New("invalid input")
	// ErrNoDomain: the organisation's dedup domain cannot be used (it is
	// gone, or its key cannot be opened).
	ErrNoDomain = errors.New("the organisation's dedup domain cannot be used")
)

// InputError is a bad field of a request, in plain words. Problem never
// quotes what a credential says.
type InputError struct {
	Field   string
	Code    string // "required", "too_long", "format", "unknown"
	Problem string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Problem) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, code, format string, args ...any) error {
	return &InputError{Field: field, Code: code, Problem: fmt.Sprintf(format, args...)}
}
