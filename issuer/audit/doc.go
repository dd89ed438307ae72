// Package audit is tally's audit log: an append-only, hash-chained record
// of who did what, when, in which organisation, for which purpose and with
// which outcome, with no personal data in it (DESIGN.md, "Security and data
// protection"; docs/audit.md).
//
// Each Entry names its actor and its objects by opaque identifiers and
// everything else by a word of a fixed vocabulary, and holds the SHA-256
// hash of the entry before it; its own hash is computed over a versioned,
// length-prefixed encoding (EncodingVersion). Log.Append fills in the
// sequence number, the time, the previous hash and the hash in one atomic
// step of a Store; Log.Verify walks the chain and reports the first
// altered, misplaced, inserted or missing entry as a *ChainError whose
// Reason callers can switch on. An Anchor (the head's sequence number and
// hash) kept elsewhere lets Verify also catch a log whose tail was cut off
// or rewritten.
//
// The package does no I/O of its own: a Store (internal/bolt.AuditStore on
// bbolt) keeps the records.
package audit
