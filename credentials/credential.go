package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// BaseContext is the VC Data Model 2.0 context URL every credential names first.
const BaseContext = "https://www.w3.org/ns/credentials/v2"

// Type is the kind of credential tally issues.
type Type string

// The credential types. Each has its own subject struct.
const (
	TypeRegistration Type = "RegistrationCredential"
	TypeEligibility  Type = "EligibilityCredential"
	TypeReferral     Type = "ReferralCredential"
)

// Types lists every credential type, in a stable order.
var Types = []Type{TypeRegistration, TypeEligibility, TypeReferral}

// ParseType returns the Type named s, or an error naming the known types.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown credential type %q (known: RegistrationCredential, EligibilityCredential, ReferralCredential)", s)
}

// Credential is a verifiable credential in the VCDM 2.0 sense, before it is
// secured by a format, or after a format has been parsed.
type Credential struct {
	// Context is the JSON-LD context: BaseContext, then tally's inline
	// context. Parsed credentials keep what they carried.
	Context []any
	// ID is an optional URI that identifies this credential (urn:uuid:...).
	ID string
	// Type is the tally credential type.
	Type Type
	// Issuer is the DID of the issuing organisation.
	Issuer string
	// ValidFrom and ValidUntil bound the credential's validity. ValidUntil
	// may be zero (no expiry).
	ValidFrom  time.Time
	ValidUntil time.Time
	// Subject holds the claims: *Registration, *Eligibility or *Referral,
	// matching Type.
	Subject Subject
	// Status lists the Bitstring Status List entries of the credential.
	Status []StatusEntry
}

// Subject is the credentialSubject of one credential type.
type Subject interface {
	// CredentialType is the type this subject belongs to.
	CredentialType() Type
	// validate checks the subject's claims; errors name the field.
	validate(v *validator)
}

// jsonCredential is the VCDM 2.0 JSON shape of a Credential.
type jsonCredential struct {
	Context    []any           `json:"@context,omitempty"`
	ID         string          `json:"id,omitempty"`
	Type       []string        `json:"type"`
	Issuer     string          `json:"issuer,omitempty"`
	ValidFrom  string          `json:"validFrom,omitempty"`
	ValidUntil string          `json:"validUntil,omitempty"`
	Subject    json.RawMessage `json:"credentialSubject"`
	Status     []StatusEntry   `json:"credentialStatus,omitempty"`
}

// MarshalJSON writes the credential in VCDM 2.0 JSON.
func (c *Credential) MarshalJSON() ([]byte, error) {
	subject, err := json.Marshal(c.Subject)
	if err != nil {
		return nil, err
	}
	j := jsonCredential{
		Context: c.Context,
		ID:      c.ID,
		Type:    []string{"VerifiableCredential", string(c.Type)},
		Issuer:  c.Issuer,
		Subject: subject,
		Status:  c.Status,
	}
	if !c.ValidFrom.IsZero() {
		j.ValidFrom = formatTime(c.ValidFrom)
	}
	if !c.ValidUntil.IsZero() {
		j.ValidUntil = formatTime(c.ValidUntil)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a credential in VCDM 2.0 JSON. It accepts "type" as a
// string or an array, "issuer" as a string or an object with an "id", and
// rejects claims that the type's schema does not define.
func (c *Credential) UnmarshalJSON(data []byte) error {
	var raw struct {
		Context    json.RawMessage `json:"@context"`
		ID         string          `json:"id"`
		Type       json.RawMessage `json:"type"`
		Issuer     json.RawMessage `json:"issuer"`
		ValidFrom  string          `json:"validFrom"`
		ValidUntil string          `json:"validUntil"`
		Subject    json.RawMessage `json:"credentialSubject"`
		Status     json.RawMessage `json:"credentialStatus"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fieldError("credential", "is not a JSON object: %v", err)
	}
	var out Credential
	if len(raw.Context) > 0 {
		ctx, err := parseContext(raw.Context)
		if err != nil {
			return err
		}
		out.Context = ctx
	}
	out.ID = raw.ID
	t, err := parseTypes(raw.Type)
	if err != nil {
		return err
	}
	out.Type = t
	if out.Issuer, err = parseIssuer(raw.Issuer); err != nil {
		return err
	}
	if out.ValidFrom, err = parseTime("validFrom", raw.ValidFrom); err != nil {
		return err
	}
	if out.ValidUntil, err = parseTime("validUntil", raw.ValidUntil); err != nil {
		return err
	}
	if len(raw.Subject) == 0 || string(raw.Subject) == "null" {
		return fieldError("credentialSubject", "is missing")
	}
	if out.Subject, err = decodeSubject(t, raw.Subject); err != nil {
		return err
	}
	if len(raw.Status) > 0 && string(raw.Status) != "null" {
		if out.Status, err = parseStatus(raw.Status); err != nil {
			return err
		}
	}
	*c = out
	return nil
}

func parseContext(raw json.RawMessage) ([]any, error) {
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil, fieldError("@context", "must be a list of context URLs and objects")
		}
		list = []any{one}
	}
	if len(list) == 0 || list[0] != BaseContext {
		return nil, fieldError("@context", "must start with %s", BaseContext)
	}
	for i, item := range list {
		switch item.(type) {
		case string, map[string]any:
		default:
			return nil, fieldError(fmt.Sprintf("@context[%d]", i), "must be a URL or an object")
		}
	}
	return list, nil
}

func parseTypes(raw json.RawMessage) (Type, error) {
	if len(raw) == 0 {
		return "", fieldError("type", "is missing")
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return "", fieldError("type", "must be a string or a list of strings")
		}
		list = []string{one}
	}
	var found []Type
	for _, s := range list {
		if s == "VerifiableCredential" {
			continue
		}
		t, err := ParseType(s)
		if err != nil {
			return "", fieldError("type", "%v", err)
		}
		found = append(found, t)
	}
	switch len(found) {
	case 0:
		return "", fieldError("type", "names no tally credential type (RegistrationCredential, EligibilityCredential or ReferralCredential)")
	case 1:
		return found[0], nil
	default:
		return "", fieldError("type", "names more than one credential type: %v", found)
	}
}

func parseIssuer(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.ID == "" {
		return "", fieldError("issuer", "must be a DID, or an object with an id")
	}
	return obj.ID, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fieldError(field, "is not an RFC 3339 date-time (like 2026-11-01T00:00:00Z): %q", s)
	}
	return t.UTC(), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// decodeSubject reads a credentialSubject strictly: a claim the type's schema
// does not define is an error, never silently dropped.
func decodeSubject(t Type, raw json.RawMessage) (Subject, error) {
	var s Subject
	switch t {
	case TypeRegistration:
		s = &Registration{}
	case TypeEligibility:
		s = &Eligibility{}
	case TypeReferral:
		s = &Referral{}
	default:
		return nil, fieldError("type", "unknown credential type %q", t)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fieldError("credentialSubject", "%s", jsonProblem(err))
	}
	return s, nil
}

// jsonProblem turns an encoding/json error into plain words.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if asErr(err, &typeErr) {
		if typeErr.Field != "" {
			return fmt.Sprintf("%s must be a %s, not a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return fmt.Sprintf("must be a JSON object, not a %s", typeErr.Value)
	}
	return err.Error()
}
