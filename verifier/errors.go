package verifier

import (
	"fmt"

	"github.com/tally-id/tally/credentials"
)

// Reason says why a credential failed verification.
type Reason int

// The reasons a credential fails. Integrators switch on them.
const (
	// Malformed: the input is not a well-formed credential of its format,
	// or its claims are invalid.
	Malformed Reason = iota + 1
	// UnsupportedFormat: the input is in no format tally knows, or uses an
	// algorithm tally does not accept.
	UnsupportedFormat
	// BadSignature: the issuer's signature does not verify.
	BadSignature
	// UntrustedIssuer: the issuer, or the key it signed with, is not in the
	// trust list, or its trust has lapsed.
	UntrustedIssuer
	// TypeNotAllowed: the trust list does not let this issuer issue this
	// credential type.
	TypeNotAllowed
	// Expired: the credential's validUntil has passed.
	Expired
	// NotYetValid: the credential's validFrom is still to come.
	NotYetValid
	// Revoked: the issuer has revoked the credential.
	Revoked
	// Suspended: the issuer has suspended the credential.
	Suspended
	// StatusUnavailable: the credential's status could not be checked, or
	// is older than the verifier's policy allows.
	StatusUnavailable
	// BadPresentation: a holder's presentation (SD-JWT key binding) is
	// missing, or does not match the audience and nonce asked for; or an
	// SD-JWT bound to its holder was given to Verify, not presented.
	BadPresentation
)

var reasonNames = map[Reason]string{
	Malformed:         "malformed",
	UnsupportedFormat: "unsupported format",
	BadSignature:      "bad signature",
	UntrustedIssuer:   "untrusted issuer",
	TypeNotAllowed:    "type not allowed",
	Expired:           "expired",
	NotYetValid:       "not yet valid",
	Revoked:           "revoked",
	Suspended:         "suspended",
	StatusUnavailable: "status unavailable",
	BadPresentation:   "bad presentation",
}

// String returns the reason in plain words ("untrusted issuer").
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Code returns the reason as a stable identifier for APIs and logs, such
// as "UNTRUSTED_ISSUER".
func (r Reason) Code() string {
	switch r {
	case Malformed:
		return "MALFORMED"
	case UnsupportedFormat:
		return "UNSUPPORTED_FORMAT"
	case BadSignature:
		return "BAD_SIGNATURE"
	case UntrustedIssuer:
		return "UNTRUSTED_ISSUER"
	case TypeNotAllowed:
		return "TYPE_NOT_ALLOWED"
	case Expired:
		return "EXPIRED"
	case NotYetValid:
		return "NOT_YET_VALID"
	case Revoked:
		return "REVOKED"
	case Suspended:
		return "SUSPENDED"
	case StatusUnavailable:
		return "STATUS_UNAVAILABLE"
	case BadPresentation:
		return "BAD_PRESENTATION"
	}
	return "UNKNOWN"
}

// Error is why a credential failed verification. Detail is a sentence in
// plain words for the person at the service point; Err, when set, is the
// underlying error.
//
// Neither quotes what the credential says of its holder (names, dates of
// birth, registration ids, holder DIDs and keys, any credentialSubject
// claim): Detail is made of fixed words, the names of invalid fields, and
// what the trust list and the envelope say of the issuer, its keys, the
// credential's type and validity; the formats' own errors, which Err
// wraps, name fields and never quote their values. Both are safe to log.
type Error struct {
	Reason Reason
	Detail string
	Err    error
}

// Error is "credential rejected: REASON: DETAIL".
func (e *Error) Error() string {
	if e.Detail == "" {
		return "credential rejected: " + e.Reason.String()
	}
	return "credential rejected: " + e.Reason.String() + ": " + e.Detail
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func fail(r Reason, err error, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...), Err: err}
}

// formatName is a format's name in plain words.
func formatName(fm credentials.Format) string {
	switch fm {
	case credentials.FormatQR:
		return "QR card"
	case credentials.FormatJWT:
		return "VC-JWT"
	case credentials.FormatSDJWT:
		return "SD-JWT VC"
	case credentials.FormatDataIntegrity:
		return "Data Integrity credential"
	}
	return "credential"
}
