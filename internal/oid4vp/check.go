package oid4vp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// Outcome is what the staff page shows of a checked response. It holds
// the asked-for claims only (never the dedup seed), and is deleted with
// its transaction.
type Outcome struct {
	Valid bool      `json:"valid"`
	At    time.Time `json:"at"`
	// WalletError is the error code the wallet answered with instead of
	// presentations (access_denied when the person declined).
	WalletError string `json:"walletError,omitempty"`
	// Reason is the verifier's reason code when a presentation failed
	// (verifier.Reason.Code, or WRONG_RESPONSE for a VP Token that does not
	// answer the query); Problem says it in plain words, from fixed text
	// that quotes nothing the credential says of its holder.
	Reason  string `json:"reason,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Issuer is the issuer's display name; Types the credential's types.
	Issuer string   `json:"issuer,omitempty"`
	Types  []string `json:"types,omitempty"`
	// Claims are the asked-for claims, in the order asked.
	Claims   []Claim  `json:"claims,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Dedup is what the dedup registry knows of the person, when the
	// transaction has a domain.
	Dedup *Dedup `json:"dedup,omitempty"`
}

// Claim is one disclosed claim, its value as text.
type Claim struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Dedup is the outcome of the person's dedup token in a domain.
type Dedup struct {
	Domain string `json:"domain"`
	// New is true when the person had never been seen in the domain;
	// otherwise Count, FirstSeen, LastSeen and LastAt say how often, when
	// and where before this time.
	New       bool      `json:"new"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	LastAt    string    `json:"lastAt,omitempty"`
	// Error, when the token could not be recorded, says why: "key" (the
	// domain's key could not be opened), "seed" (the credential gives no
	// dedup seed) or "record" (the registry failed).
	Error string `json:"error,omitempty"`
}

// ReasonWrongResponse is the Outcome.Reason of a VP Token that does not
// answer the DCQL query.
const ReasonWrongResponse = "WRONG_RESPONSE"

// DedupFunc records the person of a verified presentation in the
// transaction's dedup domain.
type DedupFunc func(ctx context.Context, res *verifier.Result) *Dedup

// Check checks a response taken for t: a wallet's error response, or a VP
// Token that must answer t's DCQL query exactly (section "VP Token Validation"): each
// presentation verified with its key binding for t's client_id and nonce,
// of the vct asked, disclosing every claim asked. The error, when not
// nil, is what the response_uri answers; the outcome is always the one to
// store.
func Check(ctx context.Context, v *verifier.Verifier, t Transaction, r Response, now time.Time, dedup DedupFunc) (Outcome, *Error) {
	out := Outcome{At: now.UTC()}
	if r.Error != "" {
		out.WalletError = r.Error
		return out, nil
	}
	fail := func(reason, problem string) (Outcome, *Error) {
		out.Valid, out.Reason, out.Problem, out.Claims, out.Dedup = false, reason, problem, nil, nil
		return out, badResponse(problem)
	}
	queries := map[string]CredentialQuery{}
	for _, q := range t.Query.Credentials {
		queries[q.ID] = q
	}
	for id := range r.VPToken {
		if _, ok := queries[id]; !ok {
			return fail(ReasonWrongResponse, fmt.Sprintf("vp_token answers %q, which was not asked for", id))
		}
	}
	for _, q := range t.Query.Credentials {
		list, ok := r.VPToken[q.ID]
		if !ok {
			return fail(ReasonWrongResponse, fmt.Sprintf("vp_token has no presentation for %q, which was asked for", q.ID))
		}
		if len(list) > 1 && !q.Multiple {
			return fail(ReasonWrongResponse, fmt.Sprintf("vp_token has %d presentations for %q, which asked for one", len(list), q.ID))
		}
		for _, p := range list {
			res, err := v.VerifyPresentation(ctx, []byte(p), verifier.Presentation{Audience: t.ClientID, Nonce: t.Nonce, NotBefore: t.Created})
			if err != nil {
				var ve *verifier.Error
				if errors.As(err, &ve) {
					return fail(ve.Reason.Code(), ve.Detail)
				}
				return fail("ERROR", "the presentation could not be checked: try again")
			}
			view := res.View()
			if len(q.Meta.VCTValues) > 0 && !slices.Contains(q.Meta.VCTValues, vctOf(res, view.Types)) {
				return fail(ReasonWrongResponse, "the credential presented is not of the type asked for")
			}
			claims, missing := askedClaims(q, res.Disclosed, view.Claims)
			if missing != "" {
				return fail(ReasonWrongResponse, fmt.Sprintf("the wallet did not disclose %s, which was asked for", missing))
			}
			out.Claims = append(out.Claims, claims...)
			out.Issuer, out.Types = res.IssuerName, view.Types
			out.Warnings = append(out.Warnings, res.Warnings...)
			if dedup != nil && t.Domain != "" && slices.Contains(q.ClaimNames(), SeedClaim) {
				out.Dedup = dedup(ctx, res)
			}
		}
	}
	out.Valid = true
	return out, nil
}

// vctOf is the vct of a verified SD-JWT VC: for tally's types, the
// type's vct; for others, the one type their view has.
func vctOf(res *verifier.Result, types []string) string {
	if res.Credential != nil {
		return credentials.VCT(res.Credential.Type)
	}
	if len(types) == 1 {
		return types[0]
	}
	return ""
}

// askedClaims returns the asked claims of a verified credential, except
// the dedup seed, and the first asked claim it did not disclose.
func askedClaims(q CredentialQuery, disclosed []string, raw json.RawMessage) ([]Claim, string) {
	var all map[string]json.RawMessage
	_ = json.Unmarshal(raw, &all)
	var out []Claim
	for _, name := range q.ClaimNames() {
		if !slices.Contains(disclosed, name) {
			return nil, name
		}
		if name == SeedClaim {
			continue
		}
		out = append(out, Claim{Name: name, Value: text(all[name])})
	}
	return out, ""
}

// text is a claim's value as the page shows it: a string as it is,
// anything else as compact JSON.
func text(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// StatusOf is the HTTP status of an outcome's answer to the wallet.
func StatusOf(e *Error) int {
	if e == nil {
		return http.StatusOK
	}
	return e.Status
}
