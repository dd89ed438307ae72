// Package trustsync keeps a verifying agency's verifier current: it builds
// the verifier.Verifier its service points check credentials with from the
// issuers it trusts — the instance's own organisations, and the trust lists
// it was given — and rebuilds it when they change.
//
// It declares what it needs from the rest of tally (LocalIssuers) and
// imports no adapter.
package trustsync
