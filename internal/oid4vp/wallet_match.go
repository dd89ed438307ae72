package oid4vp

// The wallet's DCQL matcher (issue 8): which of the holder's credentials
// answer which credential query, and which claims each must disclose.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tally-id/tally/credentials"
)

// FormatJWTVC is the credential format identifier of a W3C VC as a JWT
// (appendix B.1).
const FormatJWTVC = "jwt_vc_json"

// Held is one of the holder's credentials as the matcher sees it.
type Held struct {
	ID     string
	Format string
	// VCT is an SD-JWT VC's type; Types a VC-JWT's types.
	VCT   string
	Types []string
	// Claims are what a claims path pointer walks: an SD-JWT VC's claims
	// with every disclosure applied; a VC-JWT's credential (type,
	// issuer, credentialSubject).
	Claims map[string]any
	// Disclosable are an SD-JWT VC's selectively disclosable top-level
	// claims.
	Disclosable []string
	// Bound tells whether the credential is bound to a holder key.
	Bound bool
}

// HeldFrom reads a kept credential for the matcher, without checking its
// signatures (it was checked when received; the verifier checks again).
func HeldFrom(id, format, raw string) (Held, error) {
	h := Held{ID: id, Format: format}
	switch format {
	case FormatSDJWTVC:
		s, err := credentials.ParseSDJWT([]byte(raw))
		if err != nil {
			return Held{}, err
		}
		v := s.View()
		if err := json.Unmarshal(v.Claims, &h.Claims); err != nil && len(v.Claims) > 0 {
			return Held{}, err
		}
		h.VCT, h.Disclosable, h.Bound = s.VCT(), s.Disclosed(), s.Holder() != nil
		if h.Claims == nil {
			h.Claims = map[string]any{}
		}
		// The view leaves out claims it never shows (the dedup seed):
		// their values come from the top-level disclosures.
		for _, d := range strings.Split(raw, "~")[1:] {
			var arr []any
			b, err := base64.RawURLEncoding.DecodeString(d)
			if err != nil || json.Unmarshal(b, &arr) != nil || len(arr) != 3 {
				continue
			}
			if name, ok := arr[1].(string); ok && slices.Contains(h.Disclosable, name) {
				if _, seen := h.Claims[name]; !seen {
					h.Claims[name] = arr[2]
				}
			}
		}
	case FormatJWTVC:
		j, err := credentials.ParseJWT([]byte(raw))
		if err != nil {
			return Held{}, err
		}
		v := j.View()
		var subject any
		_ = json.Unmarshal(v.Claims, &subject)
		types := make([]any, len(v.Types))
		for i, t := range v.Types {
			types[i] = t
		}
		h.Types = v.Types
		h.Claims = map[string]any{"type": types, "issuer": v.Issuer, "credentialSubject": subject}
	default:
		return Held{}, fmt.Errorf("format %q is not presented over OpenID4VP", format)
	}
	if h.Claims == nil {
		h.Claims = map[string]any{}
	}
	return h, nil
}

// Candidate is a credential that answers a credential query, and what it
// must disclose: the claims paths asked, and for an SD-JWT VC the
// top-level claims whose disclosures go with it.
type Candidate struct {
	Credential string      `json:"credential"`
	Paths      []ClaimPath `json:"paths,omitempty"`
	Disclose   []string    `json:"disclose"`
}

// QueryMatch is one credential query to answer.
type QueryMatch struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	// Required is false for the queries of an optional credential set:
	// the holder chooses.
	Required   bool        `json:"required"`
	Candidates []Candidate `json:"candidates"`
}

// Plan is how the holder's credentials answer a query.
type Plan struct {
	Queries []QueryMatch `json:"queries"`
	// Missing names the required credential queries nothing answers:
	// when not empty, the holder cannot share what is asked.
	Missing []string `json:"missing,omitempty"`
}

// CanAnswer tells whether every required query has a candidate.
func (p Plan) CanAnswer() bool { return len(p.Missing) == 0 && len(p.Queries) > 0 }

// Match evaluates a DCQL query against the holder's credentials
// ("DCQL: Selecting Claims and Credentials"): per credential query, the
// credentials of its format and meta whose claims answer its claims (the
// first satisfiable claim set when there are claim_sets); then the
// credential sets: without them every query is required; with them, the
// first satisfiable option of each set, required or not as the set says.
func Match(q Query, held []Held) Plan {
	cands := map[string][]Candidate{}
	for _, cq := range q.Credentials {
		for _, h := range held {
			if c, ok := matchOne(cq, h); ok {
				cands[cq.ID] = append(cands[cq.ID], c)
			}
		}
	}
	byID := map[string]CredentialQuery{}
	for _, cq := range q.Credentials {
		byID[cq.ID] = cq
	}
	var p Plan
	add := func(id string, required bool) {
		if i := slices.IndexFunc(p.Queries, func(m QueryMatch) bool { return m.ID == id }); i >= 0 {
			p.Queries[i].Required = p.Queries[i].Required || required
			return
		}
		p.Queries = append(p.Queries, QueryMatch{ID: id, Format: byID[id].Format, Required: required, Candidates: cands[id]})
	}
	if q.CredentialSets == nil {
		for _, cq := range q.Credentials {
			if len(cands[cq.ID]) == 0 {
				p.Missing = append(p.Missing, cq.ID)
			}
			add(cq.ID, true)
		}
		return p
	}
	for _, set := range q.CredentialSets {
		required := set.Required == nil || *set.Required
		var chosen []string
		for _, opt := range set.Options {
			if !slices.ContainsFunc(opt, func(id string) bool { return len(cands[id]) == 0 }) {
				chosen = opt
				break
			}
		}
		if chosen == nil {
			if required {
				p.Missing = append(p.Missing, set.Options[0]...)
			}
			continue
		}
		for _, id := range chosen {
			add(id, required)
		}
	}
	return p
}

// matchOne tells whether h answers cq, and what it must disclose.
func matchOne(cq CredentialQuery, h Held) (Candidate, bool) {
	if cq.Format != h.Format {
		return Candidate{}, false
	}
	switch h.Format {
	case FormatSDJWTVC:
		if len(cq.Meta.VCTValues) > 0 && !slices.Contains(cq.Meta.VCTValues, h.VCT) {
			return Candidate{}, false
		}
		binding := cq.RequireCryptographicHolderBinding == nil || *cq.RequireCryptographicHolderBinding
		if binding && !h.Bound {
			return Candidate{}, false
		}
	case FormatJWTVC:
		if len(cq.Meta.TypeValues) > 0 && !slices.ContainsFunc(cq.Meta.TypeValues, func(set []string) bool {
			return len(set) > 0 && !slices.ContainsFunc(set, func(t string) bool { return !slices.Contains(h.Types, t) })
		}) {
			return Candidate{}, false
		}
	}
	c := Candidate{Credential: h.ID, Disclose: []string{}}
	if cq.Claims == nil {
		return c, true
	}
	sets := cq.ClaimSets
	if sets == nil {
		all := make([]string, len(cq.Claims))
		for i := range cq.Claims {
			all[i] = fmt.Sprint(i)
		}
		sets = [][]string{all}
	}
	for _, set := range sets {
		var paths []ClaimPath
		ok := true
		for _, id := range set {
			cl, found := claimByID(cq, id, cq.ClaimSets == nil)
			if !found || !resolves(h.Claims, cl.Path, cl.Values) {
				ok = false
				break
			}
			paths = append(paths, cl.Path)
		}
		if !ok {
			continue
		}
		c.Paths = paths
		if h.Format == FormatSDJWTVC {
			for _, p := range paths {
				if name, _ := p[0].(string); name != "" && slices.Contains(h.Disclosable, name) && !slices.Contains(c.Disclose, name) {
					c.Disclose = append(c.Disclose, name)
				}
			}
		}
		return c, true
	}
	return Candidate{}, false
}

func claimByID(cq CredentialQuery, id string, byIndex bool) (ClaimsQuery, bool) {
	if byIndex {
		var i int
		if _, err := fmt.Sscan(id, &i); err != nil || i < 0 || i >= len(cq.Claims) {
			return ClaimsQuery{}, false
		}
		return cq.Claims[i], true
	}
	for _, cl := range cq.Claims {
		if cl.ID == id {
			return cl, true
		}
	}
	return ClaimsQuery{}, false
}

// resolves walks a claims path pointer ("Claims Path Pointer",
// "Semantics for JSON-based credentials"): it selects at least one
// element, and with values, at least one selected element equals one of
// them.
func resolves(claims map[string]any, path ClaimPath, values []json.RawMessage) bool {
	selected := []any{claims}
	for _, comp := range path {
		var next []any
		for _, el := range selected {
			switch c := comp.(type) {
			case string:
				if m, ok := el.(map[string]any); ok {
					if v, ok := m[c]; ok {
						next = append(next, v)
					}
				}
			case nil:
				if a, ok := el.([]any); ok {
					next = append(next, a...)
				}
			case int:
				if a, ok := el.([]any); ok && c < len(a) {
					next = append(next, a[c])
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		selected = next
	}
	if len(values) == 0 {
		return true
	}
	for _, el := range selected {
		b, err := json.Marshal(el)
		if err != nil {
			continue
		}
		for _, v := range values {
			if bytes.Equal(b, compactJSON(v)) {
				return true
			}
		}
	}
	return false
}

func compactJSON(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	// Numbers decode as float64 in the claims: an integer value compares
	// equal to its float form re-encoded.
	var n float64
	if json.Unmarshal(b.Bytes(), &n) == nil {
		out, _ := json.Marshal(n)
		return out
	}
	return b.Bytes()
}

// ErrNotChosen is a share that names a credential the plan does not
// offer for a query.
var ErrNotChosen = errors.New("not a credential that answers this query")

// Choose checks the holder's choice: for each query id, the credential
// to present. Required queries must be answered; optional ones may be
// left out; a query not in the plan, or a credential that is not its
// candidate, is refused. It returns the chosen candidates by query id.
func (p Plan) Choose(choice map[string]string) (map[string]Candidate, error) {
	out := map[string]Candidate{}
	for id := range choice {
		if !slices.ContainsFunc(p.Queries, func(m QueryMatch) bool { return m.ID == id }) {
			return nil, fmt.Errorf("credentials: %q is not asked for", clip(id))
		}
	}
	for _, m := range p.Queries {
		cred, ok := choice[m.ID]
		if !ok || cred == "" {
			if m.Required {
				return nil, fmt.Errorf("credentials: %q is required: choose a credential for it", m.ID)
			}
			continue
		}
		i := slices.IndexFunc(m.Candidates, func(c Candidate) bool { return c.Credential == cred })
		if i < 0 {
			return nil, fmt.Errorf("credentials.%s: %w", m.ID, ErrNotChosen)
		}
		out[m.ID] = m.Candidates[i]
	}
	if len(out) == 0 {
		return nil, errors.New("credentials: choose at least one credential to share")
	}
	return out, nil
}

// ClaimLabel is the name a claims path pointer shows: its components
// joined by dots, array wildcards as [].
func ClaimLabel(p ClaimPath) string {
	var parts []string
	for _, c := range p {
		switch c := c.(type) {
		case string:
			parts = append(parts, c)
		case nil:
			parts = append(parts, "[]")
		case int:
			parts = append(parts, fmt.Sprint(c))
		}
	}
	return strings.Join(parts, ".")
}
