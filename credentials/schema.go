package credentials

import (
	"fmt"
	"slices"
)

// Sensitivity is how much harm a claim could do to its subject if it were
// disclosed to the wrong party (Framework for Data Sharing in Practice).
type Sensitivity int

// Sensitivity classes. High-sensitivity claims never go on a card.
const (
	Low Sensitivity = iota + 1
	Moderate
	High
)

// String returns low, moderate or high.
func (s Sensitivity) String() string {
	switch s {
	case Low:
		return "low"
	case Moderate:
		return "moderate"
	case High:
		return "high"
	}
	return fmt.Sprintf("Sensitivity(%d)", int(s))
}

// Kind is the value type of a claim.
type Kind string

// Claim value kinds.
const (
	KindString  Kind = "string"
	KindDate    Kind = "date"    // YYYY-MM-DD, or YYYY-MM or YYYY when partly known
	KindEnum    Kind = "enum"    // one of Claim.Values
	KindInteger Kind = "integer" // a whole number
	KindDID     Kind = "did"     // a decentralised identifier
	KindCountry Kind = "country" // ISO 3166-1 alpha-2
	KindLang    Kind = "language"
	KindObject  Kind = "object"
	KindBytes   Kind = "bytes" // base64url in JSON
)

// Claim describes one claim of a credentialSubject: its type, where it goes
// on a QR card, and how sensitive it is.
type Claim struct {
	// Name is the claim's JSON name in credentialSubject.
	Name string
	Kind Kind
	// Values lists the allowed values of an enum claim.
	Values []string
	// Claim169 is the claim's key in the MOSIP Claim 169 identity map
	// (spec v1.2), or 0 when Claim 169 defines none.
	Claim169 int
	// CardKey is the claim's key in tally's private-use CWT claim map
	// (CWT claim -65537), or 0. See docs/qr-card.md.
	CardKey int
	// Sensitivity is the claim's default class.
	Sensitivity Sensitivity
	// Card lists the credential types whose QR card carries the claim.
	Card []Type
	// In lists the credential types whose subject defines the claim.
	In []Type
}

var (
	allTypes = []Type{TypeRegistration, TypeEligibility, TypeReferral}
	regOnly  = []Type{TypeRegistration}
	eligOnly = []Type{TypeEligibility}
	refOnly  = []Type{TypeReferral}
)

// schema is the one table of every claim tally knows. Change it with care:
// the card keys are a wire format (docs/qr-card.md). It is unexported so
// that no importer can change a claim's sensitivity or put it on a card:
// Schema and LookupClaim hand out copies.
var schema = []Claim{
	{Name: "registrationId", Kind: KindString, Claim169: 1, Sensitivity: Moderate, Card: allTypes, In: allTypes},
	{Name: "fullName", Kind: KindString, Claim169: 4, Sensitivity: Moderate, Card: regOnly, In: regOnly},
	{Name: "firstName", Kind: KindString, Claim169: 5, Sensitivity: Moderate, In: regOnly},
	{Name: "lastName", Kind: KindString, Claim169: 7, Sensitivity: Moderate, In: regOnly},
	{Name: "dateOfBirth", Kind: KindDate, Claim169: 8, Sensitivity: Moderate, Card: regOnly, In: regOnly},
	{Name: "gender", Kind: KindEnum, Values: []string{"male", "female", "other"}, Claim169: 9, Sensitivity: Moderate, Card: regOnly, In: regOnly},
	{Name: "nationality", Kind: KindCountry, Claim169: 13, Sensitivity: High, In: regOnly},
	{Name: "legalStatus", Kind: KindString, Claim169: 22, Sensitivity: High, In: regOnly},
	// locationCode, language and programme stay off the registration card:
	// it must fit QR version 13 at level Q (docs/qr-card.md), and the
	// eligibility card carries the programme. A referral may still pass
	// them on in sharedFields.
	{Name: "locationCode", Kind: KindString, Claim169: 21, Sensitivity: Low, In: regOnly},
	{Name: "language", Kind: KindLang, Claim169: 3, Sensitivity: Low, In: regOnly},
	{Name: "programme", Kind: KindString, CardKey: 5, Sensitivity: Low, Card: eligOnly, In: []Type{TypeRegistration, TypeEligibility}},
	{Name: "householdSize", Kind: KindInteger, CardKey: 7, Sensitivity: Low, Card: eligOnly, In: []Type{TypeRegistration, TypeEligibility}},
	{Name: "purpose", Kind: KindString, Sensitivity: Low, In: eligOnly},
	{Name: "entitlement", Kind: KindObject, CardKey: 6, Sensitivity: Low, Card: eligOnly, In: eligOnly},
	{Name: "referredTo", Kind: KindDID, CardKey: 8, Sensitivity: Low, Card: refOnly, In: refOnly},
	{Name: "service", Kind: KindString, CardKey: 9, Sensitivity: Low, Card: refOnly, In: refOnly},
	{Name: "urgency", Kind: KindEnum, Values: []string{"low", "medium", "high"}, CardKey: 10, Sensitivity: Low, Card: refOnly, In: refOnly},
	{Name: "reason", Kind: KindString, Sensitivity: High, In: refOnly},
	{Name: "consent", Kind: KindObject, CardKey: 11, Sensitivity: Low, Card: refOnly, In: refOnly},
	{Name: "sharedFields", Kind: KindObject, Sensitivity: Moderate, Card: refOnly, In: refOnly},
	{Name: "dedupSeed", Kind: KindBytes, CardKey: 2, Sensitivity: Moderate, Card: allTypes, In: allTypes},
}

// Schema returns a copy of the claim table, in its order.
func Schema() []Claim {
	out := make([]Claim, len(schema))
	for i, c := range schema {
		out[i] = c.clone()
	}
	return out
}

// LookupClaim returns (a copy of) the schema entry of the claim named name.
func LookupClaim(name string) (Claim, bool) {
	for _, c := range schema {
		if c.Name == name {
			return c.clone(), true
		}
	}
	return Claim{}, false
}

// schemaClaim is the schema entry of the claim named name itself, not a
// copy, for the package's read-only lookups on every parse and validation;
// an empty entry when there is none. It must not be changed.
func schemaClaim(name string) *Claim {
	for i := range schema {
		if schema[i].Name == name {
			return &schema[i]
		}
	}
	return &Claim{}
}

func (c Claim) clone() Claim {
	c.Values = slices.Clone(c.Values)
	c.Card = slices.Clone(c.Card)
	c.In = slices.Clone(c.In)
	return c
}

// OnCard reports whether a card of type t carries the claim. High-sensitivity
// claims are never on a card, whatever the table says.
func (c Claim) OnCard(t Type) bool {
	if c.Sensitivity >= High {
		return false
	}
	for _, ct := range c.Card {
		if ct == t {
			return true
		}
	}
	return false
}

// Defines reports whether a subject of type t has this claim.
func (c Claim) Defines(t Type) bool {
	for _, ct := range c.In {
		if ct == t {
			return true
		}
	}
	return false
}
