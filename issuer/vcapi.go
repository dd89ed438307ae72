package issuer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// The W3C CCG VC API issuer service (POST /credentials/issue and POST
// /credentials/status): an integrated system sends a credential of any
// type, unsigned, and the organisation signs it with its key, as a Data
// Integrity eddsa-rdfc-2022 credential or an enveloped VC-JWT, with a
// Bitstring Status List entry when asked. tally keeps a record of a
// credential with a status entry (its id, format, entry and state), never
// its content. See docs/vc-api.md.

// SourceVCAPI marks the record of a credential issued through the VC API:
// it has no registration and no programme.
const SourceVCAPI = "vc-api"

// The formats of POST /credentials/issue (options.format).
const (
	// VCFormatDI is a credential with an embedded Data Integrity proof,
	// cryptosuite eddsa-rdfc-2022: the default.
	VCFormatDI = "di"
	// VCFormatJWT is a VC-JWT returned as an EnvelopedVerifiableCredential
	// (data:application/vc+jwt,...).
	VCFormatJWT = "jwt"
)

// MaxVCIDLen bounds a credential id the VC API keeps in a record.
const MaxVCIDLen = 512

// DocumentSigner checks and signs JSON-LD credentials of any type with
// Data Integrity proofs; a *dataintegrity.Processor is one.
type DocumentSigner interface {
	// Check tells whether Sign would accept doc, signing nothing.
	Check(ctx context.Context, doc []byte) error
	// Sign adds a proof by k at now and returns the secured document.
	Sign(ctx context.Context, doc []byte, k *credentials.Key, now time.Time) ([]byte, error)
}

// ErrUnsupportedKey: the organisation's key cannot make the proof asked
// for (a Data Integrity eddsa-rdfc-2022 proof needs an Ed25519 key).
var ErrUnsupportedKey = errors.New("the organisation's key cannot sign this kind of proof")

// VCIssueOptions are the options of POST /credentials/issue.
type VCIssueOptions struct {
	// Format is VCFormatDI (the default) or VCFormatJWT.
	Format string `json:"format,omitempty"`
	// CredentialStatus asks for a status entry:
	// {"type":"BitstringStatusListEntry"}, with statusPurpose revocation
	// (the default) or suspension.
	CredentialStatus *VCStatusRequest `json:"credentialStatus,omitempty"`
	// CredentialID names the credential in later status updates, when the
	// credential has no id (VC API IssueCredentialOptions).
	CredentialID string `json:"credentialId,omitempty"`
}

// VCStatusRequest asks for a status entry of the credential issued. A
// credential with a status entry always has a revocation entry;
// statusPurpose suspension adds a suspension entry (same list number and
// index).
type VCStatusRequest struct {
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose,omitempty"`
}

// VCIssued is a credential issued through the VC API.
type VCIssued struct {
	// Credential is the verifiableCredential of the response: the
	// credential with its proof, or an EnvelopedVerifiableCredential.
	Credential json.RawMessage
	// Record is what tally keeps, when the credential has a status entry;
	// nil otherwise.
	Record *CredentialRecord
}

// IssueVC signs credential (the JSON of an unsigned VCDM 2.0 credential)
// for organisation org, whose DID must be its issuer. Bad input gives an
// *InvalidError naming each bad field ("credential.issuer",
// "options.format"...), and changes nothing. A status entry, when asked
// (options.credentialStatus, or a credentialStatus in the credential that
// gives only type and statusPurpose), is drawn from the organisation's
// lists, and the credential's record kept and audited.
func (s *Service) IssueVC(ctx context.Context, by Principal, org string, credential json.RawMessage, opts VCIssueOptions) (VCIssued, error) {
	if s.docSigner == nil {
		return VCIssued{}, errors.New("issuer: no Data Integrity processor: the VC API cannot issue")
	}
	o, err := s.orgs.Organisation(ctx, org)
	if err != nil {
		return VCIssued{}, err
	}
	req, err := readVCRequest(credential, opts, o.DID)
	if err != nil {
		return VCIssued{}, err
	}
	if req.status != nil && (s.status == nil || s.baseURL == "") {
		return VCIssued{}, errors.New("issuer: no status store or base URL: status entries cannot be issued")
	}
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return VCIssued{}, err
	}
	if _, ok := key.Public.(ed25519.PublicKey); req.format == VCFormatDI && (!ok || key.Alg != credentials.EdDSA) {
		return VCIssued{}, fmt.Errorf("a Data Integrity eddsa-rdfc-2022 proof needs an Ed25519 key, and %s is %s: ask for options.format %q: %w", key.ID, key.Alg, VCFormatJWT, ErrUnsupportedKey)
	}
	// The whole credential is checked as JSON-LD (every term defined,
	// within the processor's bounds) before anything is kept.
	doc, err := marshalDoc(req.doc)
	if err != nil {
		return VCIssued{}, err
	}
	if err := s.docSigner.Check(ctx, doc); err != nil {
		if errors.Is(err, credentials.ErrMalformed) || errors.Is(err, credentials.ErrUnsupported) {
			return VCIssued{}, &InvalidError{Fields: []FieldError{{Field: "credential", Code: "format", Message: jsonLDProblem(err)}}}
		}
		return VCIssued{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	var rec *CredentialRecord
	if req.status != nil {
		if req.id == "" {
			if req.id, err = newUUID(s.rand); err != nil {
				return VCIssued{}, err
			}
			req.doc["id"] = req.id
		}
		r := CredentialRecord{
			ID: req.id, Org: org, Source: SourceVCAPI, Format: credentials.Format(req.format),
			Issued: now, IssuedBy: by.Ref(), ValidFrom: req.validFrom, ValidUntil: req.validUntil,
			State: StateActive, StatusPurposes: req.status, Keys: []string{key.ID},
		}
		r, err = s.status.AddCredential(ctx, r, s.chooseIndex)
		if isConflict(err) {
			return VCIssued{}, &InvalidError{Fields: []FieldError{{Field: "credential.id", Code: "taken", Message: "this organisation has issued a credential with this id already: give each credential its own id"}}}
		} else if err != nil {
			return VCIssued{}, err
		}
		rec = &r
		var entries []credentials.StatusEntry
		for _, e := range credentials.StatusEntries(s.StatusBase(org), r.List, r.Index) {
			if slices.Contains(r.StatusPurposes, e.Purpose) {
				entries = append(entries, e)
			}
		}
		if len(entries) == 1 {
			req.doc["credentialStatus"] = entries[0]
		} else {
			req.doc["credentialStatus"] = entries
		}
	}
	// As Issue does: a key declared compromised since it was opened either
	// is seen here, or its sweep begins after and revokes the record.
	out, err := []byte(nil), s.stillSigning(ctx, org, key.ID)
	if err == nil {
		out, err = s.secureVC(ctx, req, key, now)
	}
	if err != nil {
		if rec != nil {
			// Nothing was issued: the entry is marked revoked, so that it
			// never stands for a valid credential.
			_, rerr := s.status.SetCredentialState(ctx, org, rec.ID, func(r CredentialRecord) (CredentialRecord, error) {
				r.State, r.Changed, r.ChangedBy = StateRevoked, now, by.Ref()
				return r, nil
			})
			err = errors.Join(err, rerr)
		}
		return VCIssued{}, err
	}
	var objects []audit.Object
	if req.id != "" {
		objects = append(objects, audit.Object{Kind: audit.ObjectCredential, ID: s.AuditCredentialID(req.id)})
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionIssue, Objects: objects, Purpose: audit.PurposeVCAPI}); err != nil {
		return VCIssued{}, err
	}
	return VCIssued{Credential: out, Record: rec}, nil
}

// secureVC signs the prepared credential in its format.
func (s *Service) secureVC(ctx context.Context, req *vcRequest, key *credentials.Key, now time.Time) (json.RawMessage, error) {
	doc, err := marshalDoc(req.doc)
	if err != nil {
		return nil, err
	}
	if req.format == VCFormatJWT {
		if err := s.docSigner.Check(ctx, doc); err != nil {
			return nil, fmt.Errorf("check the credential with its status: %w", err)
		}
		token, err := credentials.IssueJWTDocument(doc, key)
		if err != nil {
			return nil, err
		}
		return json.Marshal(credentials.EnvelopeJWT(token))
	}
	return s.docSigner.Sign(ctx, doc, key, now)
}

// marshalDoc encodes a credential as it was sent: numbers as written, and
// <, > and & not escaped (which would grow a credential up to six times).
func marshalDoc(doc map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// AuditCredentialID is how the audit log and the logs name a credential:
// its id when tally drew it (a urn:uuid), else "hmac:" and the first 32
// hex digits of an HMAC-SHA256 of the id, keyed by a key derived from the
// master key. A VC API credential's id is the caller's, any URL, which
// may name a person (urn:example:passport:AB123456): a plain hash of it
// would be undone by trying every such number, with the log alone.
func (s *Service) AuditCredentialID(id string) string {
	if uuidURN.MatchString(id) {
		return id
	}
	m := hmac.New(sha256.New, s.auditIDKey)
	m.Write([]byte(id))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// auditIDKeyOf derives the key of AuditCredentialID from the master key;
// without one (nothing can be issued then), a random key.
func auditIDKeyOf(master []byte, r io.Reader) ([]byte, error) {
	if len(master) == 0 {
		k := make([]byte, 32)
		_, err := io.ReadFull(r, k)
		return k, err
	}
	return hkdf.Key(sha256.New, master, nil, "tally audit credential id v1", 32)
}

var uuidURN = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// jsonLDProblem is the plain-words part of a JSON-LD processor's error.
func jsonLDProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "data integrity: ")
	for _, tail := range []string{": " + credentials.ErrMalformed.Error(), ": " + credentials.ErrUnsupported.Error()} {
		msg = strings.TrimSuffix(msg, tail)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return "the credential is not valid JSON-LD under its contexts: " + msg
}

// vcRequest is a checked POST /credentials/issue request.
type vcRequest struct {
	doc                   map[string]any
	format                string
	id                    string   // the record's key: options.credentialId or the credential's id
	status                []string // the status purposes asked for; nil for none
	validFrom, validUntil time.Time
}

// readVCRequest checks an issue request as the VC API and the VC Data
// Model 2.0 ask, and names every bad field.
func readVCRequest(credential json.RawMessage, opts VCIssueOptions, orgDID string) (*vcRequest, error) {
	var p problems
	req := &vcRequest{format: opts.Format}
	switch opts.Format {
	case "":
		req.format = VCFormatDI
	case VCFormatDI, VCFormatJWT:
	default:
		p.add("options.format", "unknown", "choose di (a Data Integrity proof, the default) or jwt (an enveloped VC-JWT)")
	}
	if opts.CredentialStatus != nil {
		req.status = statusPurposes(&p, "options.credentialStatus", opts.CredentialStatus.Type, opts.CredentialStatus.StatusPurpose)
	}
	if opts.CredentialID != "" {
		checkVCID(&p, "options.credentialId", opts.CredentialID)
		req.id = opts.CredentialID
	}
	trimmed := bytes.TrimSpace(credential)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		p.add("credential", "required", "send the credential to issue, as a JSON object")
		return nil, p.err()
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&req.doc); err != nil || req.doc == nil {
		p.add("credential", "format", "send the credential to issue as a JSON object")
		return nil, p.err()
	}
	doc := req.doc
	checkContext(&p, doc)
	checkTypes(&p, doc)
	checkIssuer(&p, doc, orgDID)
	checkSubject(&p, doc)
	if v, ok := doc["id"]; ok {
		if id, isStr := v.(string); !isStr || !isURL(id) {
			p.add("credential.id", "format", "give the credential's id as a URL (such as urn:uuid:...)")
		} else {
			checkVCID(&p, "credential.id", id)
			if req.id == "" {
				req.id = id
			}
		}
	}
	checkTypedMembers(&p, doc)
	req.validFrom = checkDate(&p, doc, "validFrom")
	req.validUntil = checkDate(&p, doc, "validUntil")
	if !req.validFrom.IsZero() && !req.validUntil.IsZero() && req.validUntil.Before(req.validFrom) {
		p.add("credential.validUntil", "format", "validUntil is before validFrom")
	}
	if _, ok := doc["proof"]; ok {
		p.add("credential.proof", "format", "send the credential without a proof: tally signs it")
	}
	if v, ok := doc["credentialStatus"]; ok {
		purposes := requestedStatus(&p, v)
		if purposes != nil && req.status == nil {
			req.status = purposes
		}
		delete(doc, "credentialStatus")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return req, nil
}

// statusPurposes reads one status request: a BitstringStatusListEntry of
// purpose revocation (or none) gives a revocation entry; suspension gives
// a suspension entry beside it.
func statusPurposes(p *problems, field, typ, purpose string) []string {
	if typ != credentials.StatusEntryType {
		p.add(field+".type", "unknown", "tally issues status entries of type BitstringStatusListEntry only")
		return nil
	}
	switch purpose {
	case "", credentials.PurposeRevocation:
		return []string{credentials.PurposeRevocation}
	case credentials.PurposeSuspension:
		return []string{credentials.PurposeRevocation, credentials.PurposeSuspension}
	}
	p.add(field+".statusPurpose", "unknown", "choose revocation or suspension")
	return nil
}

// requestedStatus reads a credentialStatus sent in the credential: entries
// that ask for a status entry (type BitstringStatusListEntry, a
// statusPurpose, nothing else). tally draws the index and names the list.
func requestedStatus(p *problems, v any) []string {
	const field = "credential.credentialStatus"
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if len(list) == 0 || len(list) > 2 {
		p.add(field, "format", "give one or two entries, each {\"type\":\"BitstringStatusListEntry\",\"statusPurpose\":...}")
		return nil
	}
	var out []string
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			p.add(field, "format", "each entry must be an object")
			return nil
		}
		for k := range m {
			if k != "type" && k != "statusPurpose" {
				p.add(field, "format", "tally draws the status list and index itself: give only type and statusPurpose")
				return nil
			}
		}
		typ, _ := m["type"].(string)
		purpose, _ := m["statusPurpose"].(string)
		got := statusPurposes(p, field, typ, purpose)
		if got == nil {
			return nil
		}
		for _, g := range got {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// checkContext: @context is a list whose first item is the VCDM 2.0 base
// context, and whose items are URLs or context objects.
func checkContext(p *problems, doc map[string]any) {
	const field = "credential.@context"
	v, ok := doc["@context"]
	if !ok {
		p.add(field, "required", "give @context, a list that starts with "+credentials.BaseContext)
		return
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		p.add(field, "format", "@context must be a list that starts with "+credentials.BaseContext)
		return
	}
	if first, _ := list[0].(string); first != credentials.BaseContext {
		p.add(field, "format", "the first @context must be "+credentials.BaseContext)
		return
	}
	for _, item := range list[1:] {
		switch x := item.(type) {
		case string:
			if !isURL(x) {
				p.add(field, "format", "each @context is a URL or a context object")
				return
			}
		case map[string]any:
		default:
			p.add(field, "format", "each @context is a URL or a context object")
			return
		}
	}
}

// checkTypes: type is a string or a list of strings, with
// VerifiableCredential among them.
func checkTypes(p *problems, doc map[string]any) {
	const field = "credential.type"
	v, ok := doc["type"]
	if !ok {
		p.add(field, "required", "give type, a list with VerifiableCredential")
		return
	}
	var types []string
	switch x := v.(type) {
	case string:
		types = []string{x}
	case []any:
		for _, t := range x {
			s, ok := t.(string)
			if !ok || s == "" {
				p.add(field, "format", "type must be a list of names")
				return
			}
			types = append(types, s)
		}
	default:
		p.add(field, "format", "type must be a list of names")
		return
	}
	if !slices.Contains(types, "VerifiableCredential") {
		p.add(field, "format", "type must include VerifiableCredential")
	}
	if slices.Contains(types, credentials.EnvelopedType) {
		p.add(field, "format", "send the credential itself, not an enveloped one")
	}
}

// checkIssuer: issuer is the organisation's DID, as a string or an object
// with that id.
func checkIssuer(p *problems, doc map[string]any, orgDID string) {
	const field = "credential.issuer"
	v, ok := doc["issuer"]
	if !ok {
		p.add(field, "required", "give issuer: your organisation's DID, "+orgDID)
		return
	}
	var id string
	switch x := v.(type) {
	case string:
		id = x
	case map[string]any:
		s, ok := x["id"].(string)
		if !ok {
			p.add(field, "format", "an issuer object needs an id: your organisation's DID, "+orgDID)
			return
		}
		id = s
	default:
		p.add(field, "format", "issuer must be a URL or an object with an id")
		return
	}
	if id != orgDID {
		p.add(field, "unknown", "the issuer must be your organisation's DID, "+orgDID)
	}
}

// checkSubject: credentialSubject is an object, or a list of objects, none
// of them empty.
func checkSubject(p *problems, doc map[string]any) {
	const field = "credential.credentialSubject"
	v, ok := doc["credentialSubject"]
	if !ok {
		p.add(field, "required", "give credentialSubject, an object of claims")
		return
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if len(list) == 0 {
		p.add(field, "format", "credentialSubject must be an object of claims, or a list of them")
		return
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || len(m) == 0 {
			p.add(field, "format", "credentialSubject must be an object of claims, or a list of them, none empty")
			return
		}
		if id, has := m["id"]; has {
			if s, ok := id.(string); !ok || !isURL(s) {
				p.add(field, "format", "a subject's id must be a URL")
				return
			}
		}
	}
}

// typedMembers are the members whose every object VCDM 2.0 requires to
// state its type (sections 4.11, 5.2 to 5.6), and those that need an id
// too.
var typedMembers = []struct {
	name   string
	needID bool
}{{"credentialSchema", true}, {"refreshService", false}, {"termsOfUse", false}, {"evidence", false}}

// checkTypedMembers checks the typed members, name and description
// (strings or language value objects), and relatedResource (each with an
// id and a digest).
func checkTypedMembers(p *problems, doc map[string]any) {
	items := func(v any) []any {
		if list, ok := v.([]any); ok {
			return list
		}
		return []any{v}
	}
	for _, m := range typedMembers {
		v, ok := doc[m.name]
		if !ok {
			continue
		}
		for _, item := range items(v) {
			obj, ok := item.(map[string]any)
			if !ok || !hasString(obj, "type") {
				p.add("credential."+m.name, "format", "each "+m.name+" must be an object with a type")
				break
			}
			if id, _ := obj["id"].(string); m.needID && !isURL(id) {
				p.add("credential."+m.name, "format", "each "+m.name+" must have an id, a URL")
				break
			}
		}
	}
	for _, name := range []string{"name", "description"} {
		v, ok := doc[name]
		if !ok {
			continue
		}
		for _, item := range items(v) {
			switch x := item.(type) {
			case string:
				continue
			case map[string]any:
				if _, has := x["@value"].(string); has {
					continue
				}
			}
			p.add("credential."+name, "format", name+" must be a string or a language value object ({\"@value\": ..., \"@language\": ...})")
			break
		}
	}
	if v, ok := doc["relatedResource"]; ok {
		for _, item := range items(v) {
			obj, ok := item.(map[string]any)
			if !ok || !isURL(fmt.Sprint(obj["id"])) || !(hasString(obj, "digestSRI") || hasString(obj, "digestMultibase")) {
				p.add("credential.relatedResource", "format", "each relatedResource must have an id and a digestSRI or digestMultibase")
				break
			}
		}
	}
}

// hasString reports whether obj[name] is a non-empty string or a
// non-empty list of them.
func hasString(obj map[string]any, name string) bool {
	switch x := obj[name].(type) {
	case string:
		return x != ""
	case []any:
		for _, item := range x {
			if s, ok := item.(string); !ok || s == "" {
				return false
			}
		}
		return len(x) > 0
	}
	return false
}

// checkDate reads an optional dateTimeStamp member (RFC 3339 with a time
// zone, as VCDM 2.0 section 4.9 asks).
func checkDate(p *problems, doc map[string]any, name string) time.Time {
	v, ok := doc[name]
	if !ok {
		return time.Time{}
	}
	s, isStr := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if !isStr || err != nil {
		p.add("credential."+name, "format", name+" must be a date-time with a time zone, such as 2026-01-01T00:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// checkVCID bounds an id tally keeps in a record.
func checkVCID(p *problems, field, id string) {
	if len(id) > MaxVCIDLen {
		p.add(field, "too_long", fmt.Sprintf("use an id of at most %d bytes", MaxVCIDLen))
	}
}

// isURL reports whether s is an absolute URL: a scheme, a colon, and
// something after, with no spaces or control characters.
func isURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || rest == "" {
		return false
	}
	for i, c := range scheme {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
