package credentials

import (
	"crypto"
	"encoding/json"
	"time"
)

// SecuredPresentation is a verifiable presentation secured with a proof by
// its holder, parsed and not yet verified: a Data Integrity presentation
// (package credentials/dataintegrity) is one. What it reports is what the
// holder's proof signs.
type SecuredPresentation interface {
	// Holder is the holder's identifier (a DID).
	Holder() string
	// KeyID is the holder's key that made the proof: a DID URL.
	KeyID() string
	// Challenge and Domain are what the proof answers ("" for none).
	Challenge() string
	Domain() string
	// Expires is when the proof expires; zero for never.
	Expires() time.Time
	// Credentials are the JSON texts of the credentials presented.
	Credentials() []json.RawMessage
	// VerifySignature checks the proof with the holder's key; an error
	// wraps ErrBadSignature when it does not verify.
	VerifySignature(pub crypto.PublicKey) error
}
