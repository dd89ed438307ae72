package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/verifier"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func verify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "verify", "--trust TRUSTFILE [--dedup-key FILE --domain ID] [FILE|-]")
	trustFile := fs.String("trust", "", "the trust list (plain JSON, or signed: then give --anchor)")
	trustState := fs.String("trust-state", "", "where this verifier records the newest signed trust list it accepted from each anchor (default: $"+TrustStateEnv+", else TRUSTFILE.state)")
	var anchors, statusFiles stringList
	fs.Var(&anchors, "anchor", "trust anchor that signed the trust list: key file, JWK file or did:key (repeatable)")
	dedupFile := fs.String("dedup-key", "", "dedup domain key file: print the person's dedup token")
	domain := fs.String("domain", "", "the dedup domain's id (with --dedup-key)")
	maxAge := fs.Duration("max-status-age", 0, "reject a credential whose status lists were signed longer ago than this (0: accept old status with a warning)")
	offline := fs.Bool("offline", false, "fetch no status lists: use only those given with --status-list")
	fs.Var(&statusFiles, "status-list", "a status list file synced earlier: a status list credential or a Status List Token; its age is its signed age (repeatable; implies nothing else)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	aud := fs.String("audience", "", "with --nonce: check an SD-JWT presentation made for this audience")
	nonce := fs.String("nonce", "", "with --audience: the nonce the presentation must carry")
	allowUnbound := fs.Bool("allow-unbound", false, "accept an SD-JWT bound to a holder key without its key binding, with a warning: only to re-check issuance tokens you stored, never what a person shows")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *trustFile == "" {
		return usagef("--trust TRUSTFILE is required")
	}
	if (*dedupFile == "") != (*domain == "") {
		return usagef("--dedup-key and --domain go together")
	}
	if (*aud == "") != (*nonce == "") {
		return usagef("--audience and --nonce go together")
	}
	if *allowUnbound && *nonce != "" {
		return usagef("--allow-unbound is for stored credentials; a presentation (--audience, --nonce) is always checked in full")
	}
	if len(rest) > 1 {
		return usagef("give one credential FILE, or - for standard input")
	}
	input := "-"
	if len(rest) == 1 {
		input = rest[0]
	}
	statePath := *trustState
	if statePath == "" {
		statePath = env.Getenv(TrustStateEnv)
	}
	trust, err := loadTrust(env, *trustFile, statePath, anchors)
	if err != nil {
		return err
	}
	var dedupKey *verifier.DedupKey
	if *dedupFile != "" {
		data, err := os.ReadFile(*dedupFile)
		if err != nil {
			return err
		}
		k, err := verifier.ParseDedupKey(*domain, data)
		if err != nil {
			return fmt.Errorf("%s: %w", *dedupFile, err)
		}
		dedupKey = &k
	}
	raw, err := readInput(env, input)
	if err != nil {
		return err
	}
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		return err
	}
	v, err := verifier.New(verifier.Options{Trust: trust, Now: env.Now, MaxStatusAge: *maxAge, Offline: *offline, AllowUnboundSDJWT: *allowUnbound, Formats: []verifier.FormatParser{di}})
	if err != nil {
		return err
	}
	for _, f := range statusFiles {
		body, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		// The list's age is its signed age, not the file's time.
		if err := v.LoadStatusList(body); err != nil {
			return fmt.Errorf("--status-list %s: %w", f, err)
		}
	}
	var res *verifier.Result
	if *nonce != "" {
		res, err = v.VerifyPresentation(ctx, raw, verifier.Presentation{Audience: *aud, Nonce: *nonce})
	} else {
		res, err = v.Verify(ctx, raw)
	}
	var verr *verifier.Error
	if errors.As(err, &verr) {
		if *asJSON {
			_ = printJSON(env, map[string]any{"verified": false, "reason": verr.Reason.Code(), "problem": verr.Detail})
		}
		fmt.Fprintf(env.Stderr, "INVALID: %s\n", plainReason(verr))
		return &invalidError{err}
	}
	if err != nil {
		return err
	}
	token := ""
	if dedupKey != nil {
		token, err = res.DedupToken(*dedupKey)
		if err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	if *asJSON {
		return printJSON(env, resultJSON(res, token, *domain))
	}
	printResult(env.Stdout, res, token, *domain)
	return nil
}

// plainReason is the one line a person at a service point reads.
func plainReason(e *verifier.Error) string {
	if e.Detail == "" {
		return e.Reason.String()
	}
	return e.Reason.String() + ": " + e.Detail
}

func printResult(w io.Writer, res *verifier.Result, token, domain string) {
	// A credential of another type than tally's has only the generic view.
	view := res.View()
	kind := strings.Join(view.Types, ", ")
	if c := res.Credential; c != nil {
		kind = string(c.Type)
	}
	fmt.Fprintf(w, "VALID %s (%s)\n", kind, res.Format)
	name := res.IssuerName
	if name == "" {
		name = res.Issuer
	}
	fmt.Fprintf(w, "  issuer:          %s (%s)\n", name, res.Issuer)
	if !view.ValidFrom.IsZero() || !view.ValidUntil.IsZero() {
		fmt.Fprintf(w, "  valid:           %s to %s\n", dateOrDash(view.ValidFrom), dateOrDash(view.ValidUntil))
	}
	switch {
	case !res.Status.HasStatus:
		fmt.Fprintf(w, "  status:          none (this credential cannot be revoked)\n")
	case res.Status.Checked && !res.Status.Stale:
		fmt.Fprintf(w, "  status:          not revoked, not suspended (checked %s ago)\n", res.Status.Age.Round(time.Second))
	case res.Status.Checked:
		fmt.Fprintf(w, "  status:          not revoked, not suspended as of %s (%s ago, offline)\n", res.Status.CheckedAt.UTC().Format(time.RFC3339), res.Status.Age.Round(time.Minute))
	default:
		fmt.Fprintf(w, "  status:          NOT CHECKED\n")
	}
	var claims [][2]string
	if res.Credential != nil {
		claims = claimLines(res.Credential.Subject)
	} else {
		claims = viewClaimLines(view.Claims)
	}
	for _, l := range claims {
		fmt.Fprintf(w, "  %-16s %s\n", l[0]+":", l[1])
	}
	if token != "" {
		fmt.Fprintf(w, "  dedup token:     %s (domain %s)\n", token, domain)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "  WARNING: %s\n", warn)
	}
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

// claimLines lists a subject's claims as name, value pairs, in schema order.
func claimLines(s credentials.Subject) [][2]string {
	data, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil
	}
	var out [][2]string
	for _, c := range credentials.Schema() {
		v, ok := m[c.Name]
		if !ok || c.Name == "dedupSeed" {
			continue
		}
		out = append(out, [2]string{c.Name, plainValue(v)})
		delete(m, c.Name)
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, [2]string{k, plainValue(m[k])})
	}
	return out
}

// viewClaimLines lists the claims of a generic view as name, value pairs,
// in name order; several subjects come as one line each.
func viewClaimLines(raw json.RawMessage) [][2]string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		var list []any
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		out := make([][2]string, len(list))
		for i, s := range list {
			out[i] = [2]string{fmt.Sprintf("subject %d", i+1), plainValue(s)}
		}
		return out
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([][2]string, len(names))
	for i, k := range names {
		out[i] = [2]string{k, plainValue(m[k])}
	}
	return out
}

// plainValue writes a claim's value for a person: text as it is, lists
// comma-separated, objects as key=value pairs in key order.
func plainValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = plainValue(x)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + plainValue(v[k])
		}
		return strings.Join(parts, "; ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func resultJSON(res *verifier.Result, token, domain string) map[string]any {
	out := map[string]any{
		"verified":   true,
		"format":     res.Format,
		"issuer":     res.Issuer,
		"issuerName": res.IssuerName,
		"keyId":      res.KeyID,
		"credential": res.Credential,
		"status": map[string]any{
			"hasStatus": res.Status.HasStatus,
			"checked":   res.Status.Checked,
			"checkedAt": res.Status.CheckedAt,
			"stale":     res.Status.Stale,
		},
		"warnings": res.Warnings,
	}
	if token != "" {
		out["dedupToken"] = token
		out["dedupDomain"] = domain
	}
	if res.Disclosed != nil {
		out["disclosed"] = res.Disclosed
	}
	if res.Credential == nil {
		out["view"] = res.View()
	}
	return out
}
