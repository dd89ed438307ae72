package verifier

import (
	"encoding/json"
	"strings"

	"github.com/tally-id/tally/credentials"
)

// TrustURIIssuer puts on t an issuer named by the https URI its Claim 169
// cards carry in iss, with the given keys (as public JWKs whose kid is the
// fragment of the key's id) and types.
func TrustURIIssuer(t *TrustList, uri, name string, types []credentials.Type, keys ...*credentials.Key) {
	jwks := make([]json.RawMessage, 0, len(keys))
	for _, k := range keys {
		j, err := credentials.PublicJWK(k)
		if err != nil {
			panic(err)
		}
		raw, err := json.Marshal(j)
		if err != nil {
			panic(err)
		}
		// The kid as the issuer's cards carry it: the key id's fragment.
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(err)
		}
		if _, frag, ok := strings.Cut(k.ID, "#"); ok {
			m["kid"] = frag
		}
		if raw, err = json.Marshal(m); err != nil {
			panic(err)
		}
		jwks = append(jwks, raw)
	}
	iss, err := NewTrustedURIIssuer(uri, name, types, jwks...)
	if err != nil {
		panic(err)
	}
	if err := t.Add(iss); err != nil {
		panic(err)
	}
}
