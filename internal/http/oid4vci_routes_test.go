package http_test

import (
	"net/http"
)

// offerCases are the cases of the guarded routes that make OpenID4VCI
// credential offers.
func offerCases() map[string]routeCase {
	const jsonType = "application/json"
	return map[string]routeCase{
		"POST /issuer/registrations/:id/offers": {
			contentType: formType, status: http.StatusOK, otherStatus: http.StatusNotFound,
			good: func(int) string { return form("type", "RegistrationCredential", "format", "both") },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"type"}, nil},
				{"unknown format", formType, form("type", "RegistrationCredential", "format", "pdf"), http.StatusBadRequest, []string{"formats"}, nil},
				{"a type the programme does not issue", formType, form("type", "EligibilityCredential", "programme", "MPCA-2026"), http.StatusBadRequest, []string{"type"}, nil},
				{"unknown programme", formType, form("type", "EligibilityCredential", "programme", "NOPE"), http.StatusBadRequest, []string{"programme"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/registrations/:id/offers": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return `{"type":"RegistrationCredential","formats":["sd-jwt","jwt"]}` },
			bad: []badInput{
				{"not JSON", formType, form("type", "RegistrationCredential"), http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"type"}, nil},
				{"unknown field", jsonType, `{"type":"RegistrationCredential","holder":"did:key:z6Mk"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"unknown format", jsonType, `{"type":"RegistrationCredential","formats":["qr"]}`, http.StatusBadRequest, []string{"formats"}, nil},
				{"a type the programme does not issue", jsonType, `{"type":"EligibilityCredential"}`, http.StatusBadRequest, []string{"type"}, nil},
				{"unknown programme", jsonType, `{"type":"EligibilityCredential","programme":"NOPE"}`, http.StatusBadRequest, []string{"programme"}, nil},
			},
		},
	}
}
