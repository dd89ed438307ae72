package credentials

import (
	"crypto"

	ldcontext "github.com/trustbloc/did-go/doc/ld/context"
)

// VerifyDataIntegrityJSONWithContexts is VerifyDataIntegrityJSON with extra
// JSON-LD contexts served offline, for test vectors that use contexts tally
// does not ship.
func VerifyDataIntegrityJSONWithContexts(raw []byte, pub crypto.PublicKey, extra []ldcontext.Document) error {
	l, err := newContextLoader(extra)
	if err != nil {
		return err
	}
	return verifyDataIntegrityJSON(raw, pub, l)
}
