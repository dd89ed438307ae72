package verifier

import "github.com/tally-id/tally/credentials"

// TrustURIIssuer puts on t an issuer named by the https URI its Claim 169
// cards carry in iss, with the given keys (which need no DID) and types.
// Trust list entries are named by DIDs until the trust list learns issuer
// URIs (on another branch); until then the tests of other issuers' Claim 169
// cards build their entries with this.
func TrustURIIssuer(t *TrustList, uri, name string, types []credentials.Type, keys ...*credentials.Key) {
	if t.byDID == nil {
		if err := t.index(); err != nil {
			panic(err)
		}
	}
	iss := &TrustedIssuer{DID: uri, Name: name, Types: types, byKID: map[string]*credentials.Key{}}
	for _, k := range keys {
		iss.addKey(k)
	}
	t.Issuers = append(t.Issuers, iss)
	t.byDID[uri] = iss
}
