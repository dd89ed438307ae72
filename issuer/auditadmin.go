package issuer

import (
	"context"

	"github.com/tally-id/tally/issuer/audit"
)

// RecordAdministration writes an audit entry for an administrative change
// made outside the issuer's own use-cases (the verifier service's dedup
// domains and trust lists): who, which action, on which object, for the
// purpose of running the instance. An object id that could be mistaken
// for personal data (a date in it, spaces, other scripts) is recorded as
// a keyed hash, as caller-supplied credential ids are.
func (s *Service) RecordAdministration(ctx context.Context, by Principal, action audit.Action, kind audit.ObjectKind, id string) error {
	if audit.CheckID(id) != nil {
		id = s.AuditCredentialID(id)
	}
	return s.record(ctx, audit.Entry{Actor: by.Actor(), Org: by.Org, Action: action,
		Objects: []audit.Object{{Kind: kind, ID: id}}, Purpose: audit.PurposeAdministration})
}
