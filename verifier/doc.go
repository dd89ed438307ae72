// Package verifier is the library integrators embed to check tally
// credentials: a QR card scanned at a service point, a VC-JWT or SD-JWT VC
// from a phone wallet, or a Data Integrity credential from another system.
//
// One call, Verify, detects the format, checks the issuer's signature, the
// issuer against a trust list, the credential types that issuer may issue,
// the validity period with a bounded clock skew, and the status (W3C
// Bitstring Status List v1.0, https://www.w3.org/TR/vc-bitstring-status-list/,
// and for SD-JWT VCs the IETF Token Status List,
// https://datatracker.ietf.org/doc/draft-ietf-oauth-status-list/). A status
// list's age is its signed age, an older list never replaces a newer one, and
// lists are fetched over https only.
// A failure is a *Error whose Reason callers switch on, like
// x509.CertificateInvalidError; no part of it quotes the holder's personal
// data. An SD-JWT VC bound to its holder's wallet must be verified as a
// presentation, with VerifyPresentation and the audience and nonce the
// verifier asked for: Verify refuses it unless Options.AllowUnboundSDJWT.
//
// A verified Result derives the pairwise dedup token of a person within a
// dedup domain (Result.DedupToken): a pseudonym that is stable for one person
// in one domain and unlinkable across domains. The dedup seed a credential
// carries never leaves this package.
//
// The package starts no server and opens no database: it reads status lists
// over HTTP (or from lists handed to it) and keeps them in memory.
package verifier
