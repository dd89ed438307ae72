// Package issuer holds the issuing organisation's use-cases: its
// organisations, their staff and roles, sign-in sessions and API tokens,
// programmes, and the registration of people with their informed consent
// (DESIGN.md, "The services" and "Security and data protection").
// Issuance comes later, here.
//
// A registration's personal data (its claims, dedup seed, consent and
// linked visits) is sealed with AES-256-GCM under a key derived from the
// organisation's data key, which is itself sealed under the instance's
// master key (datakey.go). Likely duplicates and searches go through
// blind indexes: HMAC-SHA256, under another key derived from the data key,
// of the registration ID, the date of birth and the keys of the name's
// parts (package names), so that the store holds no name, date or ID in
// the clear.
//
// The package is domain code: it imports no adapter. It declares the small
// store interfaces it needs (OrgStore, StaffStore, TokenStore,
// SessionStore, ProgrammeStore, DataKeyStore, RegistrationStore,
// RegistrationIndex); internal/bolt implements them. Time comes in as a Now
// func and randomness as an io.Reader. Its errors are the sentinels of
// errors.go, wrapped with %w; only the HTTP layer turns them into status
// codes.
//
// Passwords are hashed with argon2id (RFC 9106); session ids and API tokens
// are 256-bit random values of which only a SHA-256 hash is stored.
package issuer
