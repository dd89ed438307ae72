package credentials

import (
	"bytes"
	"encoding/json"
	"strings"
)

// EnvelopedType is the type of a VCDM 2.0 enveloped credential: a JSON
// object whose id is a data: URL holding a secured credential.
const EnvelopedType = "EnvelopedVerifiableCredential"

// The data: URL prefixes of the enveloped forms tally reads. vc-ld+jwt
// and vc-ld+sd-jwt are the names of earlier VC-JOSE-COSE drafts, which
// trustbloc/vc-go still writes.
var envelopePrefixes = []string{
	"data:application/vc+jwt,",
	"data:application/dc+sd-jwt,",
	"data:application/vc+sd-jwt,",
	"data:application/vc-ld+jwt,",
	"data:application/vc-ld+sd-jwt,",
}

// EnvelopeJWT wraps a VC-JWT as the VC API returns it: an
// EnvelopedVerifiableCredential whose id is "data:application/vc+jwt,"
// and the token.
func EnvelopeJWT(jwt string) map[string]any {
	return map[string]any{
		"@context": []any{BaseContext},
		"type":     EnvelopedType,
		"id":       "data:application/vc+jwt," + jwt,
	}
}

// UnwrapEnveloped returns the token inside an enveloped credential: either
// the data: URL itself ("data:application/vc+jwt,<jwt>", or dc+sd-jwt,
// vc+sd-jwt, or the older vc-ld+jwt and vc-ld+sd-jwt) or a JSON EnvelopedVerifiableCredential object whose id is
// such a URL. ok is false, and raw is returned, for anything else.
func UnwrapEnveloped(raw []byte) (token []byte, ok bool) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var env struct {
			Type json.RawMessage `json:"type"`
			ID   string          `json:"id"`
		}
		if json.Unmarshal(trimmed, &env) != nil || !namesEnvelopedType(env.Type) {
			return raw, false
		}
		inner, ok := unwrapDataURL(env.ID)
		if !ok {
			return raw, false
		}
		return []byte(inner), true
	}
	if !bytes.HasPrefix(trimmed, []byte("data:")) {
		return raw, false
	}
	inner, ok := unwrapDataURL(string(trimmed))
	if !ok {
		return raw, false
	}
	return []byte(inner), true
}

func unwrapDataURL(u string) (string, bool) {
	for _, p := range envelopePrefixes {
		if len(u) > len(p) && strings.EqualFold(u[:len(p)], p) {
			return u[len(p):], true
		}
	}
	return "", false
}

func namesEnvelopedType(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == EnvelopedType
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return false
	}
	for _, t := range list {
		if t == EnvelopedType {
			return true
		}
	}
	return false
}
