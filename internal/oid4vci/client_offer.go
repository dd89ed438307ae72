package oid4vci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// This file is the wallet side's reading of credential offers (OpenID4VCI
// 1.0 section 4.1): the offer as a link, by value or by reference, and
// the offer object itself. Everything here is bounded before it is read.

// Bounds of what a wallet reads from strangers.
const (
	// MaxOfferText bounds an offer link as pasted or scanned.
	MaxOfferText = 8 << 10
	// maxOfferJSON bounds a Credential Offer object.
	maxOfferJSON = 16 << 10
	// maxOfferedConfigurations bounds credential_configuration_ids.
	maxOfferedConfigurations = 8
	// maxTxCodeLength bounds tx_code.length.
	maxTxCodeLength = 32
)

// OfferRef is a credential offer as a link gives it: the offer object
// itself (by value) or the URL where it is fetched (by reference).
type OfferRef struct {
	Offer *CredentialOffer
	URI   string
}

// ParseOfferLink reads an offer as a holder pastes or scans it:
// openid-credential-offer://?credential_offer=… (by value) or
// …?credential_offer_uri=… (by reference), with any scheme and path in
// front (haip://, https://wallet.example/…); a bare https URL with neither
// parameter is taken as the credential_offer_uri itself; a JSON object is
// the offer by value.
func ParseOfferLink(text string) (OfferRef, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return OfferRef{}, fmt.Errorf("the offer is empty")
	case len(text) > MaxOfferText:
		return OfferRef{}, fmt.Errorf("the offer is longer than %d characters", MaxOfferText)
	case !utf8.ValidString(text):
		return OfferRef{}, fmt.Errorf("the offer is not text")
	case strings.HasPrefix(text, "{"):
		o, err := ParseCredentialOffer([]byte(text))
		if err != nil {
			return OfferRef{}, err
		}
		return OfferRef{Offer: o}, nil
	}
	u, err := url.Parse(text)
	if err != nil || u.Scheme == "" {
		return OfferRef{}, fmt.Errorf("the offer is not a link")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return OfferRef{}, fmt.Errorf("the offer link's query cannot be read")
	}
	byValue, byRef := q["credential_offer"], q["credential_offer_uri"]
	switch {
	case len(byValue) > 1 || len(byRef) > 1:
		return OfferRef{}, fmt.Errorf("the offer link repeats credential_offer or credential_offer_uri")
	case len(byValue) == 1 && len(byRef) == 1:
		// Section 4.1: one of the two, never both.
		return OfferRef{}, fmt.Errorf("the offer link has both credential_offer and credential_offer_uri")
	case len(byValue) == 1:
		o, err := ParseCredentialOffer([]byte(byValue[0]))
		if err != nil {
			return OfferRef{}, err
		}
		return OfferRef{Offer: o}, nil
	case len(byRef) == 1:
		ref, err := url.Parse(byRef[0])
		if err != nil || ref.Scheme != "https" && ref.Scheme != "http" || ref.Host == "" {
			return OfferRef{}, fmt.Errorf("credential_offer_uri is not an https URL")
		}
		return OfferRef{URI: byRef[0]}, nil
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
		return OfferRef{URI: text}, nil
	}
	return OfferRef{}, fmt.Errorf("the link is not a credential offer: it has no credential_offer nor credential_offer_uri")
}

// ParseCredentialOffer reads a Credential Offer object (section 4.1.1) as
// a wallet needs it: an https credential_issuer, one to eight
// configuration ids, and the pre-authorized code grant (the only grant
// this wallet uses).
func ParseCredentialOffer(body []byte) (*CredentialOffer, error) {
	if len(body) > maxOfferJSON {
		return nil, fmt.Errorf("the offer is larger than %d bytes", maxOfferJSON)
	}
	if dup := duplicateMember(body); dup != "" {
		return nil, fmt.Errorf("the offer repeats %s", dup)
	}
	var o CredentialOffer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("the offer is not a Credential Offer JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("the offer holds more than one JSON value")
	}
	if err := checkIssuerID(o.CredentialIssuer); err != nil {
		return nil, fmt.Errorf("the offer's credential_issuer: %w", err)
	}
	switch n := len(o.CredentialConfigurationIDs); {
	case n == 0:
		return nil, fmt.Errorf("the offer names no credential_configuration_ids")
	case n > maxOfferedConfigurations:
		return nil, fmt.Errorf("the offer names more than %d credentials", maxOfferedConfigurations)
	}
	seen := map[string]bool{}
	for _, id := range o.CredentialConfigurationIDs {
		if id == "" || len(id) > maxField || seen[id] {
			return nil, fmt.Errorf("the offer's credential_configuration_ids must be different non-empty strings")
		}
		seen[id] = true
	}
	if o.Grants == nil || o.Grants.PreAuthorizedCode == nil {
		return nil, fmt.Errorf("the offer has no pre-authorized code: this wallet cannot yet receive offers that need signing in at the issuer")
	}
	g := o.Grants.PreAuthorizedCode
	if g.PreAuthorizedCode == "" || len(g.PreAuthorizedCode) > 4*maxField {
		return nil, fmt.Errorf("the offer's pre-authorized_code is empty or too long")
	}
	if g.AuthorizationServer != "" {
		if err := checkIssuerID(g.AuthorizationServer); err != nil {
			return nil, fmt.Errorf("the offer's authorization_server: %w", err)
		}
	}
	if t := g.TxCode; t != nil {
		switch t.InputMode {
		case "":
			t.InputMode = "numeric" // section 4.1.1: the default
		case "numeric", "text":
		default:
			return nil, fmt.Errorf("the offer's tx_code input_mode %q is neither numeric nor text", clipText(t.InputMode))
		}
		if t.Length < 0 || t.Length > maxTxCodeLength {
			return nil, fmt.Errorf("the offer's tx_code length must be between 1 and %d", maxTxCodeLength)
		}
		if len(t.Description) > 300 {
			t.Description = t.Description[:300]
		}
	}
	return &o, nil
}

// checkIssuerID checks a Credential Issuer or Authorization Server
// identifier: an https URL with a host, no query and no fragment (section
// 12.2.1, RFC 8414 section 2). Plain http is read here for a server on
// loopback; the fetch client refuses it otherwise.
func checkIssuerID(id string) error {
	if id == "" || len(id) > 2048 {
		return fmt.Errorf("it is empty or too long")
	}
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an https URL", clipText(id))
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(id, "#") {
		return fmt.Errorf("%q has a query or a fragment", clipText(id))
	}
	return nil
}

// WellKnownURL inserts a well-known path between an identifier's host and
// its path, after removing a terminating "/" from the path: OpenID4VCI
// 1.0 section 12.2.2 for /.well-known/openid-credential-issuer, RFC 8414
// section 3.1 for /.well-known/oauth-authorization-server, SD-JWT VC for
// /.well-known/jwt-vc-issuer.
func WellKnownURL(id, wellKnown string) (string, error) {
	u, err := url.Parse(id)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL", clipText(id))
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + wellKnown + path, nil
}

// clipText cuts what a stranger sent to a length an error can quote.
func clipText(s string) string {
	s = ascii(s)
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
