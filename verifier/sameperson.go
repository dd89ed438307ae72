package verifier

import "crypto/subtle"

// SamePerson reports whether two verified credentials are about the same
// person: named by the same issuer, and carrying the same dedup seed (a
// referral and the registration it was issued from, say). The seeds never
// leave the package; they are compared in constant time. It is false when
// either result is nil or carries no seed.
func SamePerson(a, b *Result) bool {
	if a == nil || b == nil || a.seed == nil || b.seed == nil || a.Issuer == "" {
		return false
	}
	sameIssuer := subtle.ConstantTimeCompare([]byte(a.Issuer), []byte(b.Issuer))
	sameSeed := subtle.ConstantTimeCompare(a.seed[:], b.seed[:])
	return sameIssuer&sameSeed == 1
}
