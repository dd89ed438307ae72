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
	// For a JWT of another issuer they are the tightest bounds the issuer
	// signed: validFrom and validUntil (issuanceDate and expirationDate in
	// VCDM 1.1), narrowed by the JWT's nbf and exp.
	ValidFrom  time.Time
	ValidUntil time.Time
	// Status lists the credential's Bitstring Status List entries of the
	// purposes revocation and suspension: the status a verifier checks.
	Status []StatusEntry
	// UncheckedStatus holds, as the issuer wrote them (a JSON array), the
	// credentialStatus entries that no verifier in tally acts on: entries of
	// other types than BitstringStatusListEntry (StatusList2021Entry,
	// RevocationList2021Status, ...) and Bitstring entries of other
	// purposes (message, refresh). nil when there are none. Skipped names
	// them too, and the verifier warns of them.
	UncheckedStatus json.RawMessage
	// TokenStatus is the IETF Token Status List reference of an SD-JWT VC
	// (its status.status_list claim), or nil.
	TokenStatus *TokenStatusRef
	// Claims are the claims about the subject as a JSON object (a JSON
	// array for a credential with several subjects): a VCDM credential's
	// credentialSubject as the issuer signed it (with its id from the sub
	// claim of a VCDM 1.1 JWT that leaves it there). For SD-JWT they hold
	// only what was disclosed, digests replaced at every level; for an
	// SD-JWT VC of another vct they are its claims by their own names
	// ("sub" included), but those the View holds elsewhere. A tally
	// credential's dedup seed is never in them. No JSON-LD processing is
	// done: the claims are JSON, not expanded terms.
	Claims json.RawMessage
	// Skipped names the parts the credential carries that tally does not
	// decode (a Claim 169 card's photo or biometrics, members of a JWT
	// credential other than those above, such as credentialSchema,
	// evidence or termsOfUse, status entries it does not check), so that
	// nothing is dropped silently.
	Skipped []string
}

// TokenStatusRef points into an IETF Token Status List (the status claim
// {"status_list": {"idx": N, "uri": "..."}} of an SD-JWT VC).
type TokenStatusRef struct {
	Index int
	URI   string
}

// clone returns a copy of v that shares nothing with it.
func (v *View) clone() *View {
	c := *v
	c.Types = slices.Clone(v.Types)
	c.Status = slices.Clone(v.Status)
	if v.TokenStatus != nil {
		ts := *v.TokenStatus
		c.TokenStatus = &ts
	}
	c.UncheckedStatus = slices.Clone(v.UncheckedStatus)
	c.Claims = slices.Clone(v.Claims)
	c.Skipped = slices.Clone(v.Skipped)
	return &c
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
