package credentials

// KeyBindingNonce is the nonce of the presentation's key-binding JWT, or
// "" when there is none (issue 8: a verifier that made no request, such as
// a service point reading an offline presentation QR, learns the nonce
// from the presentation and remembers it so that it is used once).
func (s *SDJWT) KeyBindingNonce() string {
	if s.kb == nil || s.kbClaims.Nonce == nil {
		return ""
	}
	return *s.kbClaims.Nonce
}
