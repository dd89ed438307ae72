package oid4vp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// DCQL limits: tally's queries ask for one or two credentials of a few
// claims; a query from elsewhere (the fuzz target, a test wallet) is
// refused beyond these rather than walked.
const (
	MaxQuerySize        = 16 << 10
	maxCredentialQuery  = 16
	maxClaimsQuery      = 64
	maxPathLength       = 16
	maxValues           = 32
	maxCredentialSets   = 16
	maxIdentifierLength = 64
)

// Query is a DCQL query (OpenID4VP 1.0, "Digital Credentials Query Language").
type Query struct {
	Credentials    []CredentialQuery    `json:"credentials"`
	CredentialSets []CredentialSetQuery `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for presentations of one kind of credential
// ("Credential Query").
type CredentialQuery struct {
	ID       string `json:"id"`
	Format   string `json:"format"`
	Multiple bool   `json:"multiple,omitempty"`
	// Meta is the format's metadata constraints; for dc+sd-jwt,
	// vct_values (appendix B.3, SD-JWT VC).
	Meta Meta `json:"meta"`
	// RequireCryptographicHolderBinding is nil when absent: true by
	// default.
	RequireCryptographicHolderBinding *bool         `json:"require_cryptographic_holder_binding,omitempty"`
	Claims                            []ClaimsQuery `json:"claims,omitempty"`
	ClaimSets                         [][]string    `json:"claim_sets,omitempty"`
}

// Meta holds the metadata constraints tally uses.
type Meta struct {
	VCTValues []string `json:"vct_values,omitempty"`
	// TypeValues is the type constraint of jwt_vc_json (appendix B.1):
	// the credential must carry every type of one of the lists (the
	// wallet side, issue 8).
	TypeValues [][]string `json:"type_values,omitempty"`
}

// CredentialSetQuery is a credential set query ("Credential Set Query").
type CredentialSetQuery struct {
	Options  [][]string `json:"options"`
	Required *bool      `json:"required,omitempty"`
}

// ClaimsQuery names one claim ("Claims Query").
type ClaimsQuery struct {
	ID     string            `json:"id,omitempty"`
	Path   ClaimPath         `json:"path"`
	Values []json.RawMessage `json:"values,omitempty"`
}

// ClaimPath is a claims path pointer ("Claims Path Pointer"): strings select object
// members, nil every element of an array, non-negative integers one
// element.
type ClaimPath []any

// Name is the top-level claim name a one-string path points to, or "".
func (p ClaimPath) Name() string {
	if len(p) != 1 {
		return ""
	}
	s, _ := p[0].(string)
	return s
}

// UnmarshalJSON reads a claims path pointer, keeping its components'
// types: string, nil or int.
func (p *ClaimPath) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return errors.New("a claims path pointer must be an array")
	}
	out := make(ClaimPath, 0, len(raw))
	for _, c := range raw {
		c = bytes.TrimSpace(c)
		switch {
		case string(c) == "null":
			out = append(out, nil)
		case len(c) > 0 && c[0] == '"':
			var s string
			if err := json.Unmarshal(c, &s); err != nil {
				return err
			}
			out = append(out, s)
		default:
			var n int
			if err := json.Unmarshal(c, &n); err != nil || n < 0 || bytes.ContainsAny(c, ".eE") {
				return fmt.Errorf("a claims path component must be a string, null or a non-negative integer, not %s", clip(string(c)))
			}
			out = append(out, n)
		}
	}
	*p = out
	return nil
}

// ParseQuery reads and checks a DCQL query: the rules of the DCQL
// sections that a verifier or a wallet can check without the credentials.
// Unknown members are ignored, as the spec says.
func ParseQuery(b []byte) (Query, error) {
	if len(b) > MaxQuerySize {
		return Query{}, fmt.Errorf("the DCQL query is larger than %d bytes", MaxQuerySize)
	}
	var q Query
	if err := json.Unmarshal(b, &q); err != nil {
		return Query{}, fmt.Errorf("the DCQL query is not a JSON object of credentials: %v", clipErr(err))
	}
	return q, q.Check()
}

// Check applies the rules of a valid DCQL query.
func (q Query) Check() error {
	if len(q.Credentials) == 0 {
		return errors.New("credentials: the DCQL query asks for no credential")
	}
	if len(q.Credentials) > maxCredentialQuery {
		return fmt.Errorf("credentials: at most %d credential queries", maxCredentialQuery)
	}
	ids := map[string]bool{}
	for i, c := range q.Credentials {
		if err := c.check(); err != nil {
			return fmt.Errorf("credentials[%d]: %w", i, err)
		}
		if ids[c.ID] {
			return fmt.Errorf("credentials[%d]: the id %q is used twice", i, c.ID)
		}
		ids[c.ID] = true
	}
	if q.CredentialSets != nil && len(q.CredentialSets) == 0 {
		return errors.New("credential_sets: must not be empty when present")
	}
	if len(q.CredentialSets) > maxCredentialSets {
		return fmt.Errorf("credential_sets: at most %d", maxCredentialSets)
	}
	for i, s := range q.CredentialSets {
		if len(s.Options) == 0 || len(s.Options) > maxCredentialSets {
			return fmt.Errorf("credential_sets[%d].options: must hold 1 to %d options", i, maxCredentialSets)
		}
		for j, opt := range s.Options {
			if len(opt) == 0 {
				return fmt.Errorf("credential_sets[%d].options[%d]: an option must name credentials", i, j)
			}
			for _, id := range opt {
				if !ids[id] {
					return fmt.Errorf("credential_sets[%d].options[%d]: no credential query has the id %q", i, j, clip(id))
				}
			}
		}
	}
	return nil
}

func (c CredentialQuery) check() error {
	if err := checkIdentifier(c.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if c.Format == "" {
		return errors.New("format: missing")
	}
	if c.Claims != nil && len(c.Claims) == 0 {
		return errors.New("claims: must not be empty when present")
	}
	if len(c.Claims) > maxClaimsQuery {
		return fmt.Errorf("claims: at most %d", maxClaimsQuery)
	}
	claimIDs := map[string]bool{}
	for i, cl := range c.Claims {
		if cl.ID != "" || c.ClaimSets != nil {
			if err := checkIdentifier(cl.ID); err != nil {
				return fmt.Errorf("claims[%d].id: %w", i, err)
			}
			if claimIDs[cl.ID] {
				return fmt.Errorf("claims[%d].id: %q is used twice", i, cl.ID)
			}
			claimIDs[cl.ID] = true
		}
		if len(cl.Path) == 0 || len(cl.Path) > maxPathLength {
			return fmt.Errorf("claims[%d].path: must hold 1 to %d components", i, maxPathLength)
		}
		if cl.Values != nil && (len(cl.Values) == 0 || len(cl.Values) > maxValues) {
			return fmt.Errorf("claims[%d].values: must hold 1 to %d values", i, maxValues)
		}
		for _, v := range cl.Values {
			if !scalar(v) {
				return fmt.Errorf("claims[%d].values: each value must be a string, an integer or a boolean", i)
			}
		}
	}
	if c.ClaimSets != nil {
		if c.Claims == nil {
			return errors.New("claim_sets: present without claims")
		}
		if len(c.ClaimSets) == 0 || len(c.ClaimSets) > maxCredentialSets {
			return fmt.Errorf("claim_sets: must hold 1 to %d sets", maxCredentialSets)
		}
		for i, set := range c.ClaimSets {
			if len(set) == 0 {
				return fmt.Errorf("claim_sets[%d]: empty", i)
			}
			for _, id := range set {
				if !claimIDs[id] {
					return fmt.Errorf("claim_sets[%d]: no claim has the id %q", i, clip(id))
				}
			}
		}
	}
	return nil
}

// scalar tells whether v is a JSON string, integer or boolean.
func scalar(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '"':
		var s string
		return json.Unmarshal(v, &s) == nil
	case 't', 'f':
		var b bool
		return json.Unmarshal(v, &b) == nil
	}
	var n int64
	return json.Unmarshal(v, &n) == nil && !bytes.ContainsAny(v, ".eE")
}

// checkIdentifier applies the rule of DCQL ids: non-empty, alphanumeric,
// underscore or hyphen.
func checkIdentifier(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	if len(s) > maxIdentifierLength {
		return fmt.Errorf("longer than %d characters", maxIdentifierLength)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("%q holds a character other than letters, digits, _ and -", clip(s))
		}
	}
	return nil
}

// ClaimNames lists the top-level claim names a credential query asks for
// (all of its claims; tally's queries have no claim_sets).
func (c CredentialQuery) ClaimNames() []string {
	var out []string
	for _, cl := range c.Claims {
		if n := cl.Path.Name(); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// clipErr bounds an error's text (encoding/json's quote the input).
func clipErr(err error) string {
	if s := err.Error(); len(s) > 200 {
		return s[:200] + "..."
	}
	return err.Error()
}
