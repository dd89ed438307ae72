package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// ErrNoAuditLog: this Service was given no audit log.
var ErrNoAuditLog = errors.New("this server keeps no audit log")

// AuditQuery filters an organisation's audit entries. Every field is
// optional.
type AuditQuery struct {
	// Action is one word of the audit vocabulary.
	Action string `json:"action"`
	// Actor is an actor's id: a staff member's internal id, a token's id,
	// or a job's name.
	Actor string `json:"actor"`
	// From and To are days, YYYY-MM-DD (UTC), both included.
	From string `json:"from"`
	To   string `json:"to"`
	// Before continues a listing: only entries numbered below it.
	Before uint64 `json:"before"`
}

// AuditPage is a page of audit entries, newest first.
type AuditPage struct {
	Entries []audit.Entry
	// Next, when not zero, is the Before of the next (older) page.
	Next uint64
}

// Bounds of an audit page.
const (
	// AuditPageSize is how many entries a page shows.
	AuditPageSize = 50
	// auditScanLimit is how many entries one page reads at most, so that a
	// filter that matches little costs a bounded walk; the page then ends
	// early, with a link to go on.
	auditScanLimit = 20000
)

// check validates the query and returns its days as times.
func (q *AuditQuery) check() (from, to time.Time, err error) {
	var p problems
	q.Action, q.Actor, q.From, q.To = strings.TrimSpace(q.Action), strings.TrimSpace(q.Actor), strings.TrimSpace(q.From), strings.TrimSpace(q.To)
	if q.Action != "" && !audit.Action(q.Action).Valid() {
		p.add("action", "unknown", "choose an action of the audit vocabulary")
	}
	if len(q.Actor) > audit.MaxIDLen {
		p.add("actor", "too_long", fmt.Sprintf("use at most %d characters", audit.MaxIDLen))
	}
	day := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			p.add(field, "format", "write the date like 2026-11-03")
		}
		return t
	}
	from, to = day("from", q.From), day("to", q.To)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		p.add("to", "format", "the last day comes after the first")
	}
	return from, to, p.err()
}

// AuditEntries lists organisation org's audit entries, newest first, a
// page at a time, filtered by action, actor and days. The log holds no
// personal data, so entries are shown as they are.
func (s *Service) AuditEntries(ctx context.Context, org string, q AuditQuery) (AuditPage, error) {
	from, to, err := q.check()
	if err != nil {
		return AuditPage{}, err
	}
	if s.audit == nil {
		return AuditPage{}, ErrNoAuditLog
	}
	page := AuditPage{Entries: []audit.Entry{}}
	scanned := 0
	err = s.audit.EntriesBefore(ctx, q.Before, func(e audit.Entry) bool {
		scanned++
		if len(page.Entries) == AuditPageSize || scanned > auditScanLimit {
			page.Next = e.Seq + 1
			return false
		}
		if !from.IsZero() && e.Time.Before(from) {
			// Newest first: nothing older can match.
			return false
		}
		if e.Org != org || (q.Action != "" && string(e.Action) != q.Action) || (q.Actor != "" && e.Actor.ID != q.Actor) ||
			(!to.IsZero() && !e.Time.Before(to.AddDate(0, 0, 1))) {
			return true
		}
		page.Entries = append(page.Entries, e)
		return true
	})
	return page, err
}

// VerifyAudit walks the whole audit chain (every organisation's entries
// are in one chain) and returns its summary, or the first place it is
// broken as an *audit.ChainError.
func (s *Service) VerifyAudit(ctx context.Context) (audit.Summary, error) {
	if s.audit == nil {
		return audit.Summary{}, ErrNoAuditLog
	}
	return s.audit.Verify(ctx)
}

// SignedAnchor is the audit log's head signed by an organisation's key,
// for an auditor to keep away from the server: `tally audit verify
// --anchor FILE` later checks that the log still holds that entry
// unchanged, so nothing up to it was rewritten.
type SignedAnchor struct {
	Claims audit.SignedAnchorClaims `json:"anchor"`
	// KeyID is the organisation's key that signed it (in its DID
	// document).
	KeyID string `json:"kid"`
	// JWS is the signed anchor: a compact JWS, typ
	// tally-audit-anchor+jwt. It is one line of an anchor file.
	JWS string `json:"jws"`
}

// AuditAnchor verifies the whole chain, then signs its head with
// organisation org's key. A broken chain gets no anchor: its error is an
// *audit.ChainError.
func (s *Service) AuditAnchor(ctx context.Context, org string) (SignedAnchor, error) {
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return SignedAnchor{}, err
	}
	sum, err := s.VerifyAudit(ctx)
	if err != nil {
		return SignedAnchor{}, err
	}
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return SignedAnchor{}, err
	}
	claims := sum.Head.SignedClaims(org, sum.Entries, s.now().UTC().Truncate(time.Second))
	payload, err := json.Marshal(claims)
	if err != nil {
		return SignedAnchor{}, err
	}
	token, err := credentials.SignJSON(payload, key, audit.SignedAnchorTyp)
	if err != nil {
		return SignedAnchor{}, err
	}
	return SignedAnchor{Claims: claims, KeyID: key.ID, JWS: token}, nil
}
