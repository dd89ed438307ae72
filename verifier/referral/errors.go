package referral

import "errors"

// The errors of the package, matched with errors.Is.
var (
	// ErrInvalid: the input is wrong; the error is an *InputError naming
	// the field.
	ErrInvalid = errors.New("invalid referral input")
	// ErrNotFound: no such referral.
	ErrNotFound = errors.New("no such referral")
	// ErrState: the change does not follow the referral's state (an
	// outcome before acceptance, a decision made already).
	ErrState = errors.New("the referral is not in a state that allows this change")
	// ErrFeedback: a feedback JWT was refused; the error is a
	// *FeedbackError saying why.
	ErrFeedback = errors.New("referral feedback refused")
)

// InputError is a bad input, by field, in plain words that never repeat
// personal data.
type InputError struct {
	// Field is the input's name: "referral", "registration", "state",
	// "code".
	Field string
	// Code says what is wrong, for message catalogues: "required",
	// "unknown", "unverified", "not_for_us", "not_same_person", "type".
	Code    string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, code, message string) error {
	return &InputError{Field: field, Code: code, Message: message}
}

// FeedbackError says why a feedback JWT was refused, in words that name
// no key material nor personal data.
type FeedbackError struct {
	// Reason is a short code: "malformed", "signature", "audience",
	// "unknown_sender", "unknown_referral", "not_referred_to_sender",
	// "too_old".
	Reason  string
	Message string
}

func (e *FeedbackError) Error() string { return "referral feedback: " + e.Message }

// Is makes errors.Is(err, ErrFeedback) true.
func (e *FeedbackError) Is(target error) bool { return target == ErrFeedback }

func refused(reason, message string) error {
	return &FeedbackError{Reason: reason, Message: message}
}
