// Package credentials is tally's domain: the credential types a humanitarian
// organisation issues (registration, eligibility, referral), the claim schema
// with its sensitivity classes, issuer keys and identifiers, and the securing
// formats that carry a credential to its holder.
//
// Credentials follow the W3C Verifiable Credentials Data Model 2.0
// (https://www.w3.org/TR/vc-data-model-2.0/). They are secured in one of four
// formats:
//
//   - the QR card: a CBOR Web Token (RFC 8392) in a COSE_Sign1 envelope
//     (RFC 9052), carrying the identity in the Claim 169 map, compressed with
//     zlib (RFC 1950) and encoded with base45 (RFC 9285);
//   - VC-JWT: a JWS (RFC 7515) whose payload is the credential, media type
//     application/vc+jwt (W3C VC-JOSE-COSE);
//   - SD-JWT VC: selective disclosure JWT (RFC 9901) with holder key binding,
//     media type application/dc+sd-jwt;
//   - Data Integrity: an embedded eddsa-rdfc-2022 proof (W3C vc-di-eddsa).
//
// The package does no I/O: it never reads files, opens sockets or looks at the
// clock. Time and randomness are passed in.
package credentials
