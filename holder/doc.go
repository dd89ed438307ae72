// Package holder is the wallet's use-cases (DESIGN.md, "The services"):
// the holder accounts that beneficiaries open with a PIN, the credentials
// they keep, what they shared with whom, and their keys for key binding.
//
// What the operator stores reveals nothing on its own. Each holder has a
// random data key that seals everything the wallet keeps of them (their
// credentials, their key, their share log, their language) with
// AES-256-GCM. The data key is itself sealed twice:
//
//   - under a key derived with argon2id from the holder's PIN and a
//     256-bit device secret that only their phone (or wallet app) keeps;
//   - under a key derived from a recovery code, shown once at opening
//     and printed on the holder's recovery sheet.
//
// The database keeps the salts, the sealed keys and a SHA-256 of the
// device secret, never the PIN, the device secret, the recovery code or
// the data key. A PIN can be tried only from a device that proves its
// secret, and wrong PINs lock the account for longer and longer, counted
// in the store so that a restart forgets nothing; after MaxPINFailures
// only the recovery code or registration staff open it again.
//
// Registration staff help a holder who lost their phone and their
// recovery sheet: they give a one-time reset code, which lets the holder
// set a new PIN on a new phone. The old phone is locked out; what the old
// data key sealed cannot be opened by anyone and is deleted, and the
// issuers offer the credentials again.
//
// The package imports no adapter: the OpenID4VCI and OpenID4VP protocol
// layers and the web pages drive it from internal/.
package holder
