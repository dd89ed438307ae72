package oid4vp

import (
	"slices"

	"github.com/tally-id/tally/credentials"
)

// Preset is one of the questions staff can put to a wallet: a credential
// type of tally's, and the claims asked of it.
type Preset struct {
	// Name identifies the preset in forms and stored transactions.
	Name string
	Type credentials.Type
	// Claims are the credentialSubject claims asked for.
	Claims []string
}

// SeedClaim is the claim that carries the dedup seed: asked so that the
// verifier can derive the person's dedup token, never shown.
const SeedClaim = "dedupSeed"

// Presets are the questions staff can ask, the least revealing first.
func Presets() []Preset {
	return []Preset{
		{Name: "registration-dedup", Type: credentials.TypeRegistration, Claims: []string{SeedClaim}},
		{Name: "registration", Type: credentials.TypeRegistration, Claims: []string{"fullName", "dateOfBirth", SeedClaim}},
		{Name: "eligibility", Type: credentials.TypeEligibility, Claims: []string{"programme", "entitlement", SeedClaim}},
	}
}

// PresetNamed returns the preset of that name.
func PresetNamed(name string) (Preset, bool) {
	i := slices.IndexFunc(Presets(), func(p Preset) bool { return p.Name == name })
	if i < 0 {
		return Preset{}, false
	}
	return Presets()[i], true
}

// CredentialQueryID is the id of the preset's one credential query.
func (p Preset) CredentialQueryID() string {
	if p.Type == credentials.TypeEligibility {
		return "eligibility"
	}
	return "registration"
}

// Query is the preset's DCQL query: one dc+sd-jwt credential of the
// type's vct, with its claims, all of them required.
func (p Preset) Query() Query {
	cq := CredentialQuery{ID: p.CredentialQueryID(), Format: FormatSDJWTVC, Meta: Meta{VCTValues: []string{credentials.VCT(p.Type)}}}
	for _, c := range p.Claims {
		cq.Claims = append(cq.Claims, ClaimsQuery{Path: ClaimPath{c}})
	}
	return Query{Credentials: []CredentialQuery{cq}}
}
