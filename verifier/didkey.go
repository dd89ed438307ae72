package verifier

import (
	"strings"

	"github.com/tally-id/tally/credentials"
)

// UntrustedDIDKeyWarning is the warning of a credential accepted under
// Options.TrustDIDKeyIssuers from an issuer outside the trust list.
const UntrustedDIDKeyWarning = "the issuer is not in the trust list: its did:key only shows that the credential was signed with that key, not who holds it"

// didKeyIssuer is the trust list entry Options.TrustDIDKeyIssuers gives an
// issuer outside the trust list whose identifier is a did:key DID: its one
// key is the one its DID holds, it may issue any type, and it has no status
// base (its credentials' status lists must be https URLs, as for any issuer
// without one).
func (v *Verifier) didKeyIssuer(id string) (*TrustedIssuer, bool) {
	if !v.opts.TrustDIDKeyIssuers || !strings.HasPrefix(id, "did:key:") || strings.ContainsAny(id, "#?/") {
		return nil, false
	}
	if _, err := credentials.ParseDIDKey(id); err != nil {
		return nil, false
	}
	iss := &TrustedIssuer{DID: id, Name: id, Types: []credentials.Type{credentials.TypeAny}}
	if err := iss.index(); err != nil || len(iss.keys) != 1 {
		return nil, false
	}
	return iss, true
}
