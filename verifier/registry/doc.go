// Package registry is the verifying agency's dedup registry: for each
// dedup domain (DESIGN.md, "Pairwise dedup tokens") it remembers the
// pairwise tokens of the people its service points have served — when
// each was first and last seen, where, in which programme, and how many
// times — and tells a service point, at each scan, whether the person is
// new in the domain or was already served.
//
// Only tokens reach it: never a credential, a dedup seed, or anything
// personal. A domain's 32-byte key is kept sealed (AES-256-GCM under a
// key derived with scrypt, RFC 7914, from the instance's master key) and
// opened only to derive tokens; it is never logged.
//
// Two agencies that share a domain key (a consortium) reconcile without
// sharing personal data: each exports its token list (ListRow, as CSV;
// docs/consortium.md describes the format) and the other computes how many
// tokens both served, per programme and month (Reconcile), as CSV or as an
// SVG chart.
//
// The package declares the stores it needs (DomainStore, TokenStore,
// PeerListStore); internal/bolt implements them.
package registry
