package http_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// failingAuditStore is the env's audit store, failing every append while
// fail is set.
type failingAuditStore struct {
	audit.Store
	fail atomic.Bool
}

func (s *failingAuditStore) Append(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error {
	if s.fail.Load() {
		return errors.New("the audit log cannot be written (test)")
	}
	return s.Store.Append(ctx, build)
}

// TestDomainKeyKeptWhenAuditFails: a fresh domain key whose download could
// not be audited is not handed over, and not lost either: the next try,
// once the audit log works, gets it.
func TestDomainKeyKeptWhenAuditFails(t *testing.T) {
	e := newEnv(t)
	once := freshDomain(e, "audit-fails")
	admin := e.asStaff("demo", issuer.RoleConsortium)
	e.auditFail.Store(true)
	res := e.do(http.MethodPost, "/admin/domain-key", formType, form("once", once), admin)
	body := readBody(t, res)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("download while the audit log fails: %d %.200s", res.StatusCode, body)
	}
	e.auditFail.Store(false)
	res = e.do(http.MethodPost, "/admin/domain-key", formType, form("once", once), admin)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || body == "" {
		t.Fatalf("download once the audit log works: %d %.200s", res.StatusCode, body)
	}
	res = e.do(http.MethodPost, "/admin/domain-key", formType, form("once", once), admin)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("a second download: %d", res.StatusCode)
	}
}
