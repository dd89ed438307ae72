package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// A credential of another issuer, of any type, is read into a View from its
// JSON alone: no JSON-LD processing, no schema. This file reads the members
// of a W3C VC Data Model 1.1 or 2.0 credential that a verifier decides on;
// the JOSE formats call it with what their JWT claims add (see jwt.go).

// BaseContextV1 is the VC Data Model 1.1 base context, which a VCDM 1.1
// credential names first.
const BaseContextV1 = "https://www.w3.org/2018/credentials/v1"

// The model versions a credential's first @context names.
const (
	vcdm11 = 1
	vcdm20 = 2
)

// Bounds of a credential read without a schema, beside checkJSONBounds.
const (
	maxViewTypes  = 32 // "type" entries
	maxViewStatus = 16 // credentialStatus entries
)

// vcMembers are the members of a credential that a View is made of. The
// others are named in View.Skipped.
var vcMembers = []string{
	"@context", "id", "type", "issuer", "validFrom", "validUntil",
	"issuanceDate", "expirationDate", "credentialSubject", "credentialStatus",
}

// anyCredential is a credential of any type as read from its JSON, with
// what the securing format adds (the JWT claims).
type anyCredential struct {
	version int
	view    View
	// subject is credentialSubject as it came: an object or a list.
	subject []byte
	// subjectIDs are the ids of the subjects that have one.
	subjectIDs []string
	// validity, as each member states it (zero when absent).
	validFrom, validUntil, issuanceDate, expirationDate time.Time
}

// readAnyCredential reads the members of a credential: members is its
// JSON object, decoded one level; what names it in errors ("VC-JWT
// payload", "VC-JWT vc claim"). allowV1 admits a VCDM 1.1 context (in a
// JWT, only a vc claim may carry a VCDM 1.1 credential). Errors never
// quote the subject's claims.
func readAnyCredential(members map[string]rawJSON, what string, allowV1 bool) (*anyCredential, error) {
	c := &anyCredential{}
	var err error
	if c.version, err = contextVersion(members["@context"], allowV1); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
	}
	if err := c.readTypes(members["type"]); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
	}
	if c.view.Issuer, err = parseIssuer(members["issuer"]); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
	}
	if raw, ok := members["id"]; ok {
		if unmarshalJSON(raw, &c.view.ID) != nil || c.view.ID == "" {
			return nil, fmt.Errorf("%s: id must be a URL: %w", what, ErrMalformed)
		}
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{
		{"validFrom", &c.validFrom}, {"validUntil", &c.validUntil},
		{"issuanceDate", &c.issuanceDate}, {"expirationDate", &c.expirationDate},
	} {
		raw, ok := members[d.name]
		if !ok {
			continue
		}
		var s string
		if unmarshalJSON(raw, &s) != nil || s == "" {
			return nil, fmt.Errorf("%s: %s must be a date-time string: %w", what, d.name, ErrMalformed)
		}
		if *d.to, err = parseTime(d.name, s); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
		}
	}
	if err := c.readSubject(members["credentialSubject"]); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
	}
	if err := c.readStatus(members["credentialStatus"]); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, err, ErrMalformed)
	}
	for name := range members {
		if !slices.Contains(vcMembers, name) {
			c.view.Skipped = append(c.view.Skipped, name)
		}
	}
	return c, nil
}

// contextVersion reads @context: a list of URLs and objects (or one URL)
// whose first entry is the VCDM 2.0 base context or, with allowV1, the
// VCDM 1.1 one. Both base contexts protect the same terms, so JSON-LD
// refuses a context that names both: so does tally, without processing it.
func contextVersion(raw []byte, allowV1 bool) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, shapeError("@context", "is missing: without it, this is not a W3C verifiable credential")
	}
	var items []rawJSON
	if raw[0] == '"' {
		items = []rawJSON{raw}
	} else if unmarshalJSON(raw, &items) != nil || len(items) == 0 {
		return 0, shapeError("@context", "must be a list of context URLs and objects")
	}
	var first string
	for i, item := range items {
		item = bytes.TrimSpace(item)
		switch {
		case len(item) > 0 && item[0] == '"':
			var url string
			if unmarshalJSON(item, &url) != nil {
				return 0, shapeError(fmt.Sprintf("@context[%d]", i), "must be a URL or an object")
			}
			if i == 0 {
				first = url
			} else if (url == BaseContext || url == BaseContextV1) && url != first {
				return 0, shapeError("@context", "names both the VCDM 1.1 and the VCDM 2.0 base context, which JSON-LD refuses: both define the same protected terms")
			}
		case len(item) > 0 && item[0] == '{' && i > 0:
		default:
			return 0, shapeError(fmt.Sprintf("@context[%d]", i), "must be a URL or an object, and the first a base context URL")
		}
	}
	switch {
	case first == BaseContext:
		return vcdm20, nil
	case first == BaseContextV1 && allowV1:
		return vcdm11, nil
	case first == BaseContextV1:
		return 0, shapeError("@context", "starts with the VCDM 1.1 context %s: in a JWT, a VCDM 1.1 credential belongs in the vc claim", BaseContextV1)
	}
	return 0, shapeError("@context", "must start with %s", BaseContext)
}

// readTypes reads "type", which must name VerifiableCredential.
func (c *anyCredential) readTypes(raw []byte) error {
	types, err := parseTypeList(raw)
	switch {
	case err != nil:
		return err
	case len(types) == 0:
		return shapeError("type", "is missing")
	case len(types) > maxViewTypes:
		return shapeError("type", "names more than %d types", maxViewTypes)
	case !slices.Contains(types, "VerifiableCredential"):
		return shapeError("type", "does not name VerifiableCredential")
	case slices.Contains(types, ""):
		return shapeError("type", "names an empty type")
	}
	c.view.Types = types
	return nil
}

// readSubject reads credentialSubject: an object, or a non-empty list of
// objects. Only the ids are decoded; the claims stay as they came.
func (c *anyCredential) readSubject(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	var list []rawJSON
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return shapeError("credentialSubject", "is missing")
	case raw[0] == '{':
		list = []rawJSON{raw}
	case raw[0] == '[':
		if unmarshalJSON(raw, &list) != nil || len(list) == 0 {
			return shapeError("credentialSubject", "must be an object or a list of objects")
		}
	default:
		return shapeError("credentialSubject", "must be an object or a list of objects")
	}
	for _, s := range list {
		var head struct {
			ID *string `json:"id"`
		}
		if s = bytes.TrimSpace(s); len(s) == 0 || s[0] != '{' || unmarshalJSON(s, &head) != nil {
			return shapeError("credentialSubject", "must be an object or a list of objects, each with a URL as its id if it has one")
		}
		if head.ID != nil {
			c.subjectIDs = append(c.subjectIDs, *head.ID)
		}
	}
	c.subject = raw
	return nil
}

// statusHead is what decides whether a verifier acts on a credentialStatus
// entry.
type statusHead struct {
	Type       rawJSON `json:"type"`
	Purpose    string  `json:"statusPurpose"`
	StatusSize *int    `json:"statusSize"`
}

// readStatus reads credentialStatus: one entry or a list. Bitstring Status
// List entries of the purposes revocation and suspension go to
// View.Status; other entries to View.UncheckedStatus.
func (c *anyCredential) readStatus(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []rawJSON
	if raw[0] == '[' {
		if unmarshalJSON(raw, &list) != nil {
			return shapeError("credentialStatus", "must be an object or a list of objects")
		}
	} else {
		list = []rawJSON{raw}
	}
	if len(list) > maxViewStatus {
		return shapeError("credentialStatus", "has more than %d entries", maxViewStatus)
	}
	var unchecked []json.RawMessage
	for i, raw := range list {
		field := fmt.Sprintf("credentialStatus[%d]", i)
		var head statusHead
		if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || unmarshalJSON(raw, &head) != nil {
			return shapeError(field, "must be an object with a type")
		}
		types, err := parseTypeList(head.Type)
		if err != nil || len(types) == 0 {
			return shapeError(field+".type", "must be a string or a list of strings")
		}
		if slices.Contains(types, StatusEntryType) && (head.Purpose == PurposeRevocation || head.Purpose == PurposeSuspension) {
			if head.StatusSize != nil && *head.StatusSize != 1 {
				return shapeError(field+".statusSize", "must be 1 for the purpose %s", head.Purpose)
			}
			var j jsonStatusEntry
			if unmarshalJSON(raw, &j) != nil {
				return shapeError(field, "must have statusListIndex and statusListCredential as strings")
			}
			j.Type = StatusEntryType
			e, err := j.entry()
			if err != nil {
				return err
			}
			if e.ListCredential == "" {
				return shapeError(field+".statusListCredential", "is missing")
			}
			c.view.Status = append(c.view.Status, e)
			continue
		}
		unchecked = append(unchecked, json.RawMessage(raw))
		what := fmt.Sprintf("%s (%s", field, types[0])
		if head.Purpose != "" {
			what += ", " + head.Purpose
		}
		c.view.Skipped = append(c.view.Skipped, what+"): status not checked")
	}
	if len(unchecked) > 0 {
		c.view.UncheckedStatus, _ = json.Marshal(unchecked)
	}
	return nil
}

// shapeError says what is wrong with the shape of a member of a credential
// read without a schema: a FieldError, whose problem quotes no value. A
// verifier's Detail names the field; the wrapped error says why.
func shapeError(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}
