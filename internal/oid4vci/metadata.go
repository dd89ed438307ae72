package oid4vci

import (
	"strings"

	"github.com/tally-id/tally/credentials"
)

// IssuerMetadata is the Credential Issuer Metadata (section 12.2.4).
type IssuerMetadata struct {
	CredentialIssuer                  string                             `json:"credential_issuer"`
	AuthorizationServers              []string                           `json:"authorization_servers,omitempty"`
	CredentialEndpoint                string                             `json:"credential_endpoint"`
	NonceEndpoint                     string                             `json:"nonce_endpoint"`
	Display                           []Display                          `json:"display,omitempty"`
	CredentialConfigurationsSupported map[string]CredentialConfiguration `json:"credential_configurations_supported"`
}

// Display is a name for one language.
type Display struct {
	Name   string `json:"name"`
	Locale string `json:"locale,omitempty"`
}

// CredentialConfiguration is one entry of
// credential_configurations_supported.
type CredentialConfiguration struct {
	Format                               string                      `json:"format"`
	Scope                                string                      `json:"scope,omitempty"`
	CredentialSigningAlgValuesSupported  []string                    `json:"credential_signing_alg_values_supported,omitempty"`
	CryptographicBindingMethodsSupported []string                    `json:"cryptographic_binding_methods_supported,omitempty"`
	ProofTypesSupported                  map[string]ProofTypeSupport `json:"proof_types_supported,omitempty"`
	// VCT is the SD-JWT VC type (dc+sd-jwt only).
	VCT string `json:"vct,omitempty"`
	// CredentialDefinition is the W3C VC type (jwt_vc_json only).
	CredentialDefinition *CredentialDefinition `json:"credential_definition,omitempty"`
	CredentialMetadata   *CredentialMetadata   `json:"credential_metadata,omitempty"`
}

// ProofTypeSupport describes one supported key proof type.
type ProofTypeSupport struct {
	ProofSigningAlgValuesSupported []string `json:"proof_signing_alg_values_supported"`
}

// CredentialDefinition is the type of a jwt_vc_json credential.
type CredentialDefinition struct {
	Type []string `json:"type"`
}

// CredentialMetadata is how a wallet shows a credential.
type CredentialMetadata struct {
	Display []Display `json:"display,omitempty"`
}

// AuthorizationServerMetadata is RFC 8414 metadata, for the pre-authorized
// code grant only.
type AuthorizationServerMetadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// PreAuthorizedGrantAnonymousAccess: a token request needs no
	// client_id (section 12.3).
	PreAuthorizedGrantAnonymousAccess bool `json:"pre-authorized_grant_anonymous_access_supported"`
}

// ConfigurationID names the configuration of a credential type in a
// format: "RegistrationCredential_dc+sd-jwt", "RegistrationCredential_jwt_vc_json".
func ConfigurationID(t credentials.Type, f credentials.Format) string {
	return string(t) + "_" + FormatIdentifier(f)
}

// FormatIdentifier is the OpenID4VCI format identifier of a tally format;
// "" for formats not issued to wallets.
func FormatIdentifier(f credentials.Format) string {
	switch f {
	case credentials.FormatSDJWT:
		return FormatSDJWTVC
	case credentials.FormatJWT:
		return FormatJWTVCJSON
	}
	return ""
}

// ParseConfigurationID is the type and format a configuration id names.
func ParseConfigurationID(id string) (credentials.Type, credentials.Format, bool) {
	t, f, ok := strings.Cut(id, "_")
	if !ok {
		return "", "", false
	}
	for _, typ := range WalletTypes() {
		if string(typ) != t {
			continue
		}
		for _, format := range WalletFormats() {
			if FormatIdentifier(format) == f {
				return typ, format, true
			}
		}
	}
	return "", "", false
}

// WalletTypes are the credential types tally offers to wallets.
func WalletTypes() []credentials.Type {
	return []credentials.Type{credentials.TypeRegistration, credentials.TypeEligibility}
}

// WalletFormats are the formats tally issues to wallets.
func WalletFormats() []credentials.Format {
	return []credentials.Format{credentials.FormatSDJWT, credentials.FormatJWT}
}

// Endpoints of a Credential Issuer Identifier: tally serves them below it.
func TokenEndpoint(issuer string) string      { return issuer + "/token" }
func NonceEndpoint(issuer string) string      { return issuer + "/nonce" }
func CredentialEndpoint(issuer string) string { return issuer + "/credential" }

// OfferEndpoint is the credential_offer_uri of an offer's secret.
func OfferEndpoint(issuer, secret string) string { return issuer + "/offers/" + secret }

// NewIssuerMetadata is the metadata of the Credential Issuer identified by
// issuer (BASEURL/orgs/SLUG), named name, whose credentials are signed
// with signingAlg (EdDSA or ES256).
func NewIssuerMetadata(issuer, name, signingAlg string) IssuerMetadata {
	m := IssuerMetadata{
		CredentialIssuer: issuer, CredentialEndpoint: CredentialEndpoint(issuer), NonceEndpoint: NonceEndpoint(issuer),
		CredentialConfigurationsSupported: map[string]CredentialConfiguration{},
	}
	if name != "" {
		m.Display = []Display{{Name: name}}
	}
	proof := map[string]ProofTypeSupport{"jwt": {ProofSigningAlgValuesSupported: ProofAlgorithms}}
	for _, t := range WalletTypes() {
		display := &CredentialMetadata{Display: []Display{{Name: displayName(t), Locale: "en"}}}
		for _, f := range WalletFormats() {
			c := CredentialConfiguration{
				Format: FormatIdentifier(f), CredentialSigningAlgValuesSupported: []string{signingAlg},
				ProofTypesSupported: proof, CredentialMetadata: display,
			}
			if f == credentials.FormatSDJWT {
				c.VCT = credentials.VCT(t)
				c.CryptographicBindingMethodsSupported = []string{"jwk"}
			} else {
				c.CredentialDefinition = &CredentialDefinition{Type: []string{"VerifiableCredential", string(t)}}
				c.CryptographicBindingMethodsSupported = []string{"did:key", "did:jwk", "jwk"}
			}
			m.CredentialConfigurationsSupported[ConfigurationID(t, f)] = c
		}
	}
	return m
}

func displayName(t credentials.Type) string {
	switch t {
	case credentials.TypeRegistration:
		return "Registration"
	case credentials.TypeEligibility:
		return "Eligibility"
	}
	return string(t)
}

// NewAuthorizationServerMetadata is the RFC 8414 metadata of the
// authorization server an issuer is its own.
func NewAuthorizationServerMetadata(issuer string) AuthorizationServerMetadata {
	return AuthorizationServerMetadata{
		Issuer: issuer, TokenEndpoint: TokenEndpoint(issuer),
		GrantTypesSupported:               []string{GrantPreAuthorizedCode},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		PreAuthorizedGrantAnonymousAccess: true,
	}
}
