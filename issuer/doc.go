// Package issuer holds the issuing organisation's use-cases: its
// organisations, their staff and roles, sign-in sessions and API tokens
// (DESIGN.md, "The services"). Registration and issuance come later, here.
//
// The package is domain code: it imports no adapter. It declares the small
// store interfaces it needs (OrgStore, StaffStore, TokenStore,
// SessionStore); internal/bolt implements them. Time comes in as a Now
// func and randomness as an io.Reader. Its errors are the sentinels of
// errors.go, wrapped with %w; only the HTTP layer turns them into status
// codes.
//
// Passwords are hashed with argon2id (RFC 9106); session ids and API tokens
// are 256-bit random values of which only a SHA-256 hash is stored.
package issuer
