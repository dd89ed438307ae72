package credentials

import (
	"encoding/json"
	"slices"
	"time"
)

// TypeAny in a trust list entry lets an issuer issue credentials of any type.
const TypeAny Type = "*"

// View is the generic view of any verifiable credential, whoever issued it
// and whatever its type: what the issuer signed, in the terms of the W3C VC
// Data Model 2.0. Every format fills it from the signed content alone, for
// tally's own credentials as for credentials of other issuers (VCDM 1.1 and
// 2.0 JWTs, SD-JWT VCs with any vct, Data Integrity credentials with any
// bundled context, Claim 169 identity cards). A verifier decides on the
// View: types, issuer, validity and status.
type View struct {
	// Types are every type the credential declares, in its order: for a
	// VCDM credential its "type" list ("VerifiableCredential", ...), for
	// an SD-JWT VC its vct, for a foreign Claim 169 card Claim169Type.
	Types []string
	// Issuer is the issuer's identifier: a DID, or the https URI a Claim 169
	// card carries in iss.
	Issuer string
	// ID is the credential's own identifier, if it has one.
	ID string
	// ValidFrom and ValidUntil bound the validity; zero when unbounded.
	ValidFrom  time.Time
	ValidUntil time.Time
	// Status lists the credential's Bitstring Status List entries.
	Status []StatusEntry
	// UnknownStatus names the kinds of status entry the credential carries
	// that tally cannot read (StatusList2021Entry, say): its status counts
	// as not checked.
	UnknownStatus []string
	// TokenStatus is the IETF Token Status List reference of an SD-JWT VC
	// (its status.status_list claim), or nil.
	TokenStatus *TokenStatusRef
	// Claims are the claims about the subject as a JSON object (a JSON
	// array for a credential with several subjects). For SD-JWT they hold
	// only what was disclosed. A tally credential's dedup seed is never in
	// them.
	Claims json.RawMessage
	// Skipped names the parts the credential carries that tally does not
	// decode (a Claim 169 card's photo or biometrics, say), so that nothing
	// is dropped silently.
	Skipped []string
}

// TokenStatusRef points into an IETF Token Status List (the status claim
// {"status_list": {"idx": N, "uri": "..."}} of an SD-JWT VC).
type TokenStatusRef struct {
	Index int
	URI   string
}

// HasType reports whether the credential declares type t.
func (v *View) HasType(t string) bool { return slices.Contains(v.Types, t) }

// View returns the generic view of a tally credential. Its claims omit the
// dedup seed.
func (c *Credential) View() *View {
	v := &View{
		Types:      []string{"VerifiableCredential", string(c.Type)},
		Issuer:     c.Issuer,
		ID:         c.ID,
		ValidFrom:  c.ValidFrom,
		ValidUntil: c.ValidUntil,
		Status:     slices.Clone(c.Status),
	}
	if c.Subject != nil {
		seed := SubjectSeed(c.Subject)
		SetSubjectSeed(c.Subject, nil)
		v.Claims, _ = json.Marshal(c.Subject)
		SetSubjectSeed(c.Subject, seed)
	}
	return v
}
