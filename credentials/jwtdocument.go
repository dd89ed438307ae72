package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// IssueJWTDocument signs doc, a VCDM 2.0 credential of any type as a JSON
// object, as a VC-JWT with k: the JWS payload is the credential itself,
// as VC-JOSE-COSE (section 3.1.1) defines it, with no JWT claim added, and
// the header names typ vc+jwt, cty vc and k's id. The caller checks the
// credential (its issuer is k's DID); doc is signed byte for byte.
func IssueJWTDocument(doc []byte, k *Key) (string, error) {
	if k == nil || k.Signer == nil {
		return "", fmt.Errorf("the issuer key has no private part to sign with")
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return "", fmt.Errorf("a VC-JWT payload must be a JSON object: %w", ErrMalformed)
	}
	return signCompactJWS(trimmed, k.Alg, k.Signer, map[string]any{
		"typ": JWTType,
		"cty": JWTContentType,
		"kid": k.ID,
	})
}
