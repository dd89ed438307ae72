package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
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
func Types() []Type { return []Type{TypeRegistration, TypeEligibility, TypeReferral} }

// ParseType returns the Type named s, or an error naming the known types.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
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

	// IssuanceDate and ExpirationDate are the VCDM 1.1 members, written
	// instead of validFrom and validUntil for a credential whose context is
	// VCDM 1.1's (see IssueJWT11).
	IssuanceDate   string `json:"issuanceDate,omitempty"`
	ExpirationDate string `json:"expirationDate,omitempty"`
}

// MarshalJSON writes the credential in VCDM 2.0 JSON, or in VCDM 1.1 JSON
// (issuanceDate and expirationDate) when its context is VCDM 1.1's.
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
	from, until := &j.ValidFrom, &j.ValidUntil
	if isContextV1(c.Context) {
		from, until = &j.IssuanceDate, &j.ExpirationDate
	}
	if !c.ValidFrom.IsZero() {
		*from = formatTime(c.ValidFrom)
	}
	if !c.ValidUntil.IsZero() {
		*until = formatTime(c.ValidUntil)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a credential in VCDM 2.0 JSON. It accepts "type" as a
// string or an array, "issuer" as a string or an object with an "id", and
// rejects claims that the type's schema does not define. It also reads
// the VCDM 1.1 JSON that MarshalJSON writes for a credential read from a
// VCDM 1.1 JWT (IssueJWT11), so that such a credential encodes and
// decodes to itself.
func (c *Credential) UnmarshalJSON(data []byte) error {
	parts, err := decodeCredentialJSON(data)
	if err != nil {
		return err
	}
	parts.allowV1 = true
	out, err := parts.credential()
	if err != nil {
		return err
	}
	*c = *out
	return nil
}

// credentialParts holds the members of a credential's JSON in their usual
// shapes, before they are checked. The JSON decoder and the JWT formats
// (whose payloads carry JWT claims beside them) share it.
type credentialParts struct {
	Context    rawJSON           `json:"@context"`
	ID         string            `json:"id"`
	Type       []string          `json:"type"`
	Issuer     string            `json:"issuer"`
	ValidFrom  string            `json:"validFrom"`
	ValidUntil string            `json:"validUntil"`
	Subject    rawJSON           `json:"credentialSubject"`
	Status     []jsonStatusEntry `json:"credentialStatus"`
	// The VCDM 1.1 validity members, read only in a credential whose
	// context is VCDM 1.1's (allowV1).
	IssuanceDate   string `json:"issuanceDate"`
	ExpirationDate string `json:"expirationDate"`
	// allowV1 admits the VCDM 1.1 base context: only the vc claim of a JWT
	// (VCDM 1.1 section 6.3.1) may carry a VCDM 1.1 credential, and
	// Credential.UnmarshalJSON reads one back.
	allowV1 bool
}

// credentialFields holds the members of a credential's JSON in any shape
// VCDM 2.0 allows: "type" a string, "issuer" an object, "credentialStatus"
// one object.
type credentialFields struct {
	Context    rawJSON `json:"@context"`
	ID         string  `json:"id"`
	Type       rawJSON `json:"type"`
	Issuer     rawJSON `json:"issuer"`
	ValidFrom  string  `json:"validFrom"`
	ValidUntil string  `json:"validUntil"`
	Subject    rawJSON `json:"credentialSubject"`
	Status     rawJSON `json:"credentialStatus"`
	// The VCDM 1.1 validity members (see credentialParts).
	IssuanceDate   string `json:"issuanceDate"`
	ExpirationDate string `json:"expirationDate"`
}

// decodeCredentialJSON decodes the members of a credential: in one pass
// when they have their usual shapes, else member by member.
func decodeCredentialJSON(data []byte) (*credentialParts, error) {
	if !utf8.Valid(data) {
		return nil, fieldError("credential", "is not UTF-8")
	}
	var p credentialParts
	if unmarshalJSON(data, &p) == nil {
		return &p, nil
	}
	var f credentialFields
	if err := unmarshalJSON(data, &f); err != nil {
		return nil, fieldError("credential", "is not a JSON object: %s", jsonProblem(err))
	}
	return f.parts()
}

// parts reads the members whose shape may vary.
func (f *credentialFields) parts() (*credentialParts, error) {
	p := &credentialParts{
		Context:    f.Context,
		ID:         f.ID,
		ValidFrom:  f.ValidFrom,
		ValidUntil: f.ValidUntil,
		Subject:    f.Subject,

		IssuanceDate:   f.IssuanceDate,
		ExpirationDate: f.ExpirationDate,
	}
	var err error
	if p.Type, err = parseTypeList(f.Type); err != nil {
		return nil, err
	}
	if p.Issuer, err = parseIssuer(f.Issuer); err != nil {
		return nil, err
	}
	if len(f.Status) > 0 && string(f.Status) != "null" {
		if p.Status, err = parseStatus(f.Status); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// credential checks the members and builds the credential they describe.
func (p *credentialParts) credential() (*Credential, error) {
	var out Credential
	if len(p.Context) > 0 {
		ctx, err := parseContext(p.Context, p.allowV1)
		if err != nil {
			return nil, err
		}
		out.Context = ctx
	}
	// A VCDM 1.1 credential states its validity in issuanceDate and
	// expirationDate; VCDM 2.0's members would contradict or duplicate them.
	fromName, from, untilName, until := "validFrom", p.ValidFrom, "validUntil", p.ValidUntil
	if isContextV1(out.Context) {
		switch {
		case p.ValidFrom != "":
			return nil, fieldError("validFrom", "is not a VCDM 1.1 member: a credential with the context %s states issuanceDate", BaseContextV1)
		case p.ValidUntil != "":
			return nil, fieldError("validUntil", "is not a VCDM 1.1 member: a credential with the context %s states expirationDate", BaseContextV1)
		}
		fromName, from, untilName, until = "issuanceDate", p.IssuanceDate, "expirationDate", p.ExpirationDate
	}
	out.ID = p.ID
	t, err := credentialType(p.Type)
	if err != nil {
		return nil, err
	}
	out.Type = t
	out.Issuer = p.Issuer
	if out.ValidFrom, err = parseTime(fromName, from); err != nil {
		return nil, err
	}
	if out.ValidUntil, err = parseTime(untilName, until); err != nil {
		return nil, err
	}
	if len(p.Subject) == 0 || string(p.Subject) == "null" {
		return nil, fieldError("credentialSubject", "is missing")
	}
	if out.Subject, err = decodeSubject(t, p.Subject); err != nil {
		return nil, err
	}
	if len(p.Status) > 0 {
		out.Status = make([]StatusEntry, len(p.Status))
		for i := range p.Status {
			if out.Status[i], err = p.Status[i].entry(); err != nil {
				return nil, err
			}
		}
	}
	return &out, nil
}

// parseContext reads @context: a list whose first item is the VCDM 2.0
// base context or, with allowV1, the VCDM 1.1 one.
func parseContext(raw []byte, allowV1 bool) ([]any, error) {
	if bytes.Equal(raw, defaultContextJSON) {
		// tally's own context, as tally writes it: shared, not decoded.
		return DefaultContext(), nil
	}
	if allowV1 && bytes.Equal(raw, defaultContextV1JSON) {
		return DefaultContextV1(), nil
	}
	var list []any
	if err := unmarshalJSON(raw, &list); err != nil {
		var one string
		if unmarshalJSON(raw, &one) != nil {
			return nil, fieldError("@context", "must be a list of context URLs and objects")
		}
		list = []any{one}
	}
	if len(list) == 0 || (list[0] != BaseContext && (!allowV1 || list[0] != BaseContextV1)) {
		if allowV1 {
			return nil, fieldError("@context", "must start with %s or %s", BaseContext, BaseContextV1)
		}
		return nil, fieldError("@context", "must start with %s", BaseContext)
	}
	if list[0] == BaseContextV1 && slices.Contains(list, any(BaseContext)) {
		return nil, fieldError("@context", "names both the VCDM 1.1 and the VCDM 2.0 base context, which JSON-LD refuses")
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

// parseTypeList reads "type": a string or a list of strings.
func parseTypeList(raw []byte) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var list []string
	if err := unmarshalJSON(raw, &list); err != nil {
		var one string
		if unmarshalJSON(raw, &one) != nil {
			return nil, fieldError("type", "must be a string or a list of strings")
		}
		list = []string{one}
	}
	return list, nil
}

// credentialType finds the one tally type among a credential's types.
func credentialType(list []string) (Type, error) {
	if list == nil {
		return "", fieldError("type", "is missing")
	}
	var found Type
	for _, s := range list {
		if s == "VerifiableCredential" {
			continue
		}
		t, err := ParseType(s)
		if err != nil {
			return "", fieldError("type", "%v", err)
		}
		if found != "" {
			return "", fieldError("type", "names more than one credential type: %s and %s", found, t)
		}
		found = t
	}
	if found == "" {
		return "", fieldError("type", "names no tally credential type (RegistrationCredential, EligibilityCredential or ReferralCredential)")
	}
	return found, nil
}

func parseIssuer(raw []byte) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := unmarshalJSON(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := unmarshalJSON(raw, &obj); err != nil || obj.ID == "" {
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
		return time.Time{}, fieldError(field, "is not an RFC 3339 date-time (like 2026-11-01T00:00:00Z)")
	}
	return t.UTC(), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// decodeSubject reads a credentialSubject strictly: a claim the type's schema
// does not define is an error, never silently dropped.
func decodeSubject(t Type, raw []byte) (Subject, error) {
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
	dec := gojson.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fieldError("credentialSubject", "%s", jsonProblem(err))
	}
	return s, nil
}

// jsonProblem turns an encoding/json or goccy/go-json error into plain
// words that quote no value from the input: the decoders' own messages may
// (a number too large, a string that is not valid UTF-8, a number that does
// not parse), and the values are personal data. Member names are kept.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if asErr(err, &typeErr) {
		return typeProblem(typeErr.Field, typeErr.Type.String(), typeErr.Value)
	}
	var goTypeErr *gojson.UnmarshalTypeError
	if asErr(err, &goTypeErr) {
		return typeProblem(goTypeErr.Field, goTypeErr.Type.String(), goTypeErr.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field ") {
		return msg // the name of a member, not a value
	}
	var syntaxErr *json.SyntaxError
	if asErr(err, &syntaxErr) {
		return fmt.Sprintf("is not well-formed JSON (at byte %d)", syntaxErr.Offset)
	}
	var goSyntaxErr *gojson.SyntaxError
	if asErr(err, &goSyntaxErr) {
		// goccy's words are fixed ("float unexpected end of JSON input",
		// often about a value of the wrong type), except where they quote
		// the input: a number strconv could not parse, or a character.
		if !strings.ContainsAny(msg, `"'`) && !strings.Contains(msg, "strconv") {
			return msg
		}
		return fmt.Sprintf("is not well-formed JSON (at byte %d)", goSyntaxErr.Offset)
	}
	return "is not well-formed JSON"
}

// typeProblem says that a member has the wrong JSON type. got is the
// decoder's description of the value ("number 12345", "string"): only its
// first word, the JSON type, is kept.
func typeProblem(field, want, got string) string {
	got, _, _ = strings.Cut(got, " ")
	if field != "" {
		return fmt.Sprintf("%s must be a %s, not a JSON %s", field, want, got)
	}
	return fmt.Sprintf("must be a JSON object, not a %s", got)
}
