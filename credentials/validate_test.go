package credentials_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// The marker is in every invalid value below: errors name the field and
// say what is wrong, and never quote the value, which is personal data.
const marker = "SECRETVALUE"

func TestValidationErrorsQuoteNoValues(t *testing.T) {
	bad := " " + marker + " "
	for _, c := range []*credentials.Credential{
		{Type: credentials.TypeRegistration, Issuer: "not a DID " + marker, Subject: &credentials.Registration{
			ID: "did:" + marker + " x", RegistrationID: marker + " 1", FullName: bad, FirstName: bad, LastName: bad,
			DateOfBirth: "1991-13-45" + marker, Gender: marker, Nationality: marker, LegalStatus: bad,
			LocationCode: bad, Language: marker, Programme: bad, HouseholdSize: 1991134500,
		}},
		{Type: credentials.TypeEligibility, Issuer: "did:web:org-a.example", Subject: &credentials.Eligibility{
			ID: marker, RegistrationID: marker + "/", Programme: bad, Purpose: bad, HouseholdSize: -1991134500,
			Entitlement: &credentials.Entitlement{Amount: -1991134500, Currency: marker, Frequency: marker, Instalments: 1991134500},
		}},
		{Type: credentials.TypeReferral, Issuer: "did:web:org-a.example", Subject: &credentials.Referral{
			ID: marker, RegistrationID: marker + "?", ReferredTo: marker, Service: bad, Urgency: marker, Reason: bad,
			Consent:      &credentials.Consent{Purpose: bad, Method: marker, Date: marker, Fields: []string{marker}},
			SharedFields: map[string]string{marker: "x", "fullName": bad, "dateOfBirth": marker},
		}},
	} {
		t.Run(string(c.Type), func(t *testing.T) {
			c.Status = []credentials.StatusEntry{{Purpose: marker, Index: -1}}
			err := c.Validate()
			var ve *credentials.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) < 5 {
				t.Fatalf("err = %v, want many problems", err)
			}
			for _, text := range []string{err.Error(), mustJSONString(t, ve)} {
				if strings.Contains(text, marker) || strings.Contains(text, "1991134500") {
					t.Fatalf("a validation error quotes a value: %s", text)
				}
			}
			for _, p := range ve.Problems {
				if p.Field == "" || p.Problem == "" {
					t.Fatalf("a problem without a field or words: %+v", p)
				}
			}
		})
	}
	if _, _, _, err := credentials.ParseDate(marker); err == nil || strings.Contains(err.Error(), marker) {
		t.Fatalf("ParseDate: %v", err)
	}
}

// Decoding errors name the member and the JSON type, never the value.
func TestDecodingErrorsQuoteNoValues(t *testing.T) {
	for name, subject := range map[string]string{
		"number too large for an int": `{"registrationId":"X1","fullName":"A","householdSize":99999999999991991134500}`,
		"number for a string":         `{"registrationId":"X1","fullName":1991134500}`,
		"object for a string":         `{"registrationId":"X1","fullName":{"SECRETVALUE":1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			in := `{"type":"RegistrationCredential","credentialSubject":` + subject + `}`
			var c credentials.Credential
			err := json.Unmarshal([]byte(in), &c)
			var fe *credentials.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "1991134500") {
				t.Fatalf("a decoding error quotes a value: %v", err)
			}
		})
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
