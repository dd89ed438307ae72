package http

// --- desk (issue 7): what the scanning, answer and settings pages show.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
)

// deskView is the desk pages' data.
type deskView struct {
	T          *Messages
	Settings   servicepoint.Settings
	Programmes []issuer.Programme
	Domains    []registry.Domain
	Answer     *servicepoint.Answer
	// Now is the time ages are counted from.
	Now time.Time
}

// Colour is the answer's class: green, amber or red.
func (v *deskView) Colour() string {
	switch v.Answer.Verdict {
	case servicepoint.Valid:
		return "green"
	case servicepoint.Warning:
		return "amber"
	}
	return "red"
}

// Headline is the answer in a few words.
func (v *deskView) Headline() string {
	a := v.Answer
	switch {
	case a.Verdict == servicepoint.Invalid:
		return v.T.Get("desk_headline_invalid")
	case a.Dedup != nil && !a.Dedup.New:
		return v.T.Get("desk_headline_seen")
	case a.Verdict == servicepoint.Warning:
		return v.T.Get("desk_headline_warning")
	}
	return v.T.Get("desk_headline_valid")
}

// Reason says why the credential was refused, in plain words, and
// ToDo what to do next.
func (v *deskView) Reason() string {
	return v.T.Get("desk_reason_" + strings.ToLower(v.Answer.ReasonCode))
}

// ToDo is what staff do next about a refused credential.
func (v *deskView) ToDo() string {
	return v.T.Get("desk_todo_" + strings.ToLower(v.Answer.ReasonCode))
}

// Date is a time for people: the date and the time of day, in UTC.
func (v *deskView) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	// One unit, never broken across lines: no-break spaces, and a word
	// joiner after each hyphen (a narrow phone broke "2026-11-|29", and
	// an Arabic line then showed "-11-2026").
	return isolate(strings.ReplaceAll(t.UTC().Format("2006-01-02\u00a015:04"), "-", "-\u2060") + "\u00a0UTC")
}

// isolate keeps a value (a date, a service point's name) in its own
// direction inside a sentence of another: "2026-06-01 09:00 UTC" in an
// Arabic sentence would read backwards otherwise (Unicode's first-strong
// isolate, U+2068 … U+2069).
func isolate(s string) string { return "\u2068" + s + "\u2069" }

// Day is a date for people.
func (v *deskView) Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// Ago is how long before now t was, in words ("3 hours ago").
func (v *deskView) Ago(t time.Time) string {
	return ago(v.T, v.Now, t)
}

// StatusLine says how fresh the status information is.
func (v *deskView) StatusLine() string {
	st := v.Answer.Status
	switch {
	case st == nil || !st.HasStatus:
		return v.T.Get("desk_status_none")
	case !st.Checked:
		return v.T.Get("desk_status_unchecked")
	case st.Stale:
		return v.T.Get("desk_status_stale", v.Ago(st.CheckedAt), v.Date(st.CheckedAt))
	}
	return v.T.Get("desk_status_checked", v.Ago(st.CheckedAt), v.Date(st.CheckedAt))
}

// StatusWarn tells whether the status line needs a look.
func (v *deskView) StatusWarn() bool {
	st := v.Answer.Status
	return st != nil && st.HasStatus && (!st.Checked || st.Stale)
}

// DedupLine says whether the person was seen before in the domain.
func (v *deskView) DedupLine() string {
	a := v.Answer
	switch {
	case a.NoDedup:
		return v.T.Get("desk_dedup_none")
	case a.Dedup == nil:
		return ""
	case a.Dedup.New:
		return v.T.Get("desk_dedup_new")
	}
	d := a.Dedup
	if d.SeenBefore == 1 {
		// Once: "1 times" reads wrong, and the first visit is the last.
		if d.FirstProgramme == "" {
			return v.T.Get("desk_dedup_once_np", v.Ago(d.FirstSeen), v.Date(d.FirstSeen), isolate(d.FirstServicePoint))
		}
		return v.T.Get("desk_dedup_once", v.Ago(d.FirstSeen), v.Date(d.FirstSeen), isolate(d.FirstServicePoint), isolate(d.FirstProgramme))
	}
	if d.FirstProgramme == "" {
		return v.T.Get("desk_dedup_seen_np", d.SeenBefore, v.Date(d.FirstSeen), isolate(d.FirstServicePoint))
	}
	return v.T.Get("desk_dedup_seen", d.SeenBefore, v.Date(d.FirstSeen), isolate(d.FirstServicePoint), isolate(d.FirstProgramme))
}

// LastSeenLine says when and where the person was seen last.
func (v *deskView) LastSeenLine() string {
	d := v.Answer.Dedup
	if d == nil || d.New || d.SeenBefore == 1 {
		return ""
	}
	if d.LastProgramme == "" {
		return v.T.Get("desk_dedup_last_np", v.Ago(d.LastSeen), isolate(d.LastServicePoint))
	}
	return v.T.Get("desk_dedup_last", v.Ago(d.LastSeen), isolate(d.LastServicePoint), isolate(d.LastProgramme))
}

// TypeName is the credential's type in words, for tally's types.
func (v *deskView) TypeName() string {
	key := "desk_type_" + v.Answer.Type
	if s := v.T.Get(key); s != key {
		return s
	}
	return v.Answer.Type
}

// claimRow is one claim of a foreign credential, its name a path.
type claimRow struct{ Name, Value string }

// Limits of the claims table.
const (
	maxClaimRows  = 60
	maxClaimValue = 300
)

// Claims are a foreign credential's claims as rows, nested claims named by
// their path ("address.city").
func (v *deskView) Claims() []claimRow {
	raw := v.Answer.Claims
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil
	}
	var rows []claimRow
	flatten("", x, &rows)
	return rows
}

func flatten(name string, x any, rows *[]claimRow) {
	if len(*rows) >= maxClaimRows {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(join(name, k), x[k], rows)
		}
	case []any:
		for i, e := range x {
			flatten(join(name, fmt.Sprint(i+1)), e, rows)
		}
	default:
		s := fmt.Sprint(x)
		if x == nil {
			s = "—"
		}
		if len(s) > maxClaimValue {
			s = strings.ToValidUTF8(s[:maxClaimValue], "") + "…"
		}
		*rows = append(*rows, claimRow{Name: name, Value: s})
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// Selected tells whether a programme is the form's.
func (v *deskView) OwnDomain() bool { return !v.Settings.OwnDomainMade.IsZero() }
