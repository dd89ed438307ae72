package http_test

import (
	"net/http"
	"strings"

	"github.com/tally-id/tally/issuer"
)

// oid4vpCases are the cases of the guarded OpenID4VP routes; they make a
// request of demo's for the routes that show one.
func oid4vpCases(e *env) map[string]routeCase {
	res := e.do(http.MethodPost, "/verify/oid4vp", formType, form("preset", "registration", "purpose", "Route walk."), e.asStaff("demo", issuer.RoleVerifier))
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("new request: %d", res.StatusCode)
	}
	e.vpTx = strings.TrimPrefix(res.Header.Get("Location"), "/verify/oid4vp/")
	long := strings.Repeat("x", 201)
	return map[string]routeCase{
		"GET /verify/oid4vp/new": {status: http.StatusOK},
		"POST /verify/oid4vp": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(int) string { return form("preset", "registration-dedup", "purpose", "Check for duplicates.") },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"preset", "purpose"}, nil},
				{"unknown preset", formType, form("preset", "everything", "purpose", "Why not."), http.StatusBadRequest, []string{"preset"}, nil},
				{"no purpose", formType, form("preset", "registration", "purpose", "  "), http.StatusBadRequest, []string{"purpose"}, nil},
				{"purpose too long", formType, form("preset", "registration", "purpose", long), http.StatusBadRequest, []string{"purpose"}, nil},
				{"purpose on two lines", formType, form("preset", "registration", "purpose", "one\ntwo"), http.StatusBadRequest, []string{"purpose"}, nil},
			},
		},
		"GET /verify/oid4vp/:tx":           {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"GET /api/v1/orgs/:org/oid4vp/:tx": {status: http.StatusOK},
	}
}
