package credentials

import (
	"fmt"
)

// SignJSON signs a JSON payload that is not a credential (an audit log's
// anchor, say) as a compact JWS (RFC 7515) with key: the protected header
// carries alg, kid (the key's id) and typ.
func SignJSON(payload []byte, key *Key, typ string) (string, error) {
	if key == nil {
		return "", fmt.Errorf("no key to sign with")
	}
	return signCompactJWS(payload, key.Alg, key.Signer, map[string]any{"kid": key.ID, "typ": typ})
}

// maxSignedJSON bounds the tokens VerifyJSON reads.
const maxSignedJSON = 64 << 10

// VerifyJSON checks a compact JWS made by SignJSON: its typ must be typ
// and its signature pub's. It returns the payload, and the kid the header
// names.
func VerifyJSON(token []byte, pub *Key, typ string) (payload []byte, kid string, err error) {
	const what = "signed JSON"
	j, err := parseCompactJWSUpTo(token, what, nil, maxSignedJSON)
	if err != nil {
		return nil, "", err
	}
	if !mediaTypeIs(j.header.Typ, typ) {
		return nil, "", fmt.Errorf("%s has typ %q, not %q: %w", what, j.header.Typ, typ, ErrMalformed)
	}
	if pub == nil {
		return nil, "", fmt.Errorf("%s: no key to check it with: %w", what, ErrBadSignature)
	}
	if err := j.verify(pub.Public, what); err != nil {
		return nil, "", err
	}
	return j.payload, j.header.Kid, nil
}
