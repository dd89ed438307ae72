// Package servicepoint is the verifying agency's desk: a credential shown
// at a service point is checked with the current verifier, and, when it
// is valid, the person's pairwise dedup token in the organisation's dedup
// domain is recorded in the registry (verifier/registry), so that the
// answer says whether the person was seen before in the domain.
//
// The answer carries only what staff need to recognise the person (full
// name and year of birth), the verdict in a form callers switch on
// (verifier.Reason), the freshness of the status information, and the
// dedup outcome. The raw credential and its dedup seed are never stored
// or logged: the registry keeps tokens only.
//
// Each organisation's settings (the dedup domain its scans use, the
// names of its service points) live behind SettingsStore, implemented in
// internal/bolt.
package servicepoint
