package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tally-id/tally/credentials"
)

// VCStatusUpdate is the body of POST /credentials/status (VC API
// UpdateCredentialStatusRequest): which credential, which of its entries,
// and the status to set.
//
// CredentialStatus is one object {"type":"BitstringStatusListEntry",
// "statusPurpose":"revocation"|"suspension"} with Status true to set the
// status (the default) or false to clear it; tally also reads the older
// form, a list of one {"type":"BitstringStatusListCredential",
// "status":"revoked"|"suspended"|"active"}.
type VCStatusUpdate struct {
	CredentialID     string          `json:"credentialId"`
	CredentialStatus json.RawMessage `json:"credentialStatus"`
	Status           *bool           `json:"status,omitempty"`
}

// vcStatusEntry is a credentialStatus of a status update.
type vcStatusEntry struct {
	ID                   string `json:"id,omitempty"`
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose,omitempty"`
	StatusListIndex      string `json:"statusListIndex,omitempty"`
	StatusListCredential string `json:"statusListCredential,omitempty"`
	// Status is the older form's state: revoked, suspended or active.
	Status string `json:"status,omitempty"`
}

// The state changes a status update maps to.
type vcChange int

const (
	vcRevoke vcChange = iota + 1
	vcSuspend
	vcReinstate
	vcNothing // clear a revocation bit that is clear: nothing to do
)

// UpdateVCStatus sets the status of a credential the organisation issued
// (through the VC API or from a registration): revocation, for good, and
// suspension, until cleared. Only a supervisor (or the instance itself,
// in open conformance mode) revokes. It returns the record as it is now.
// A credential the organisation did not issue is ErrNotFound; a bad
// request an *InvalidError.
func (s *Service) UpdateVCStatus(ctx context.Context, by Principal, org string, in VCStatusUpdate) (CredentialRecord, error) {
	var p problems
	if in.CredentialID == "" {
		p.add("credentialId", "required", "give the id of the credential to update")
	} else {
		checkVCID(&p, "credentialId", in.CredentialID)
	}
	entry, change := readStatusChange(&p, in)
	if err := p.err(); err != nil {
		return CredentialRecord{}, err
	}
	if s.status == nil {
		return CredentialRecord{}, fmt.Errorf("credential: %w", ErrNotFound)
	}
	rec, err := s.status.Credential(ctx, org, in.CredentialID)
	if err != nil {
		return CredentialRecord{}, err
	}
	purpose := credentials.PurposeRevocation
	if change == vcSuspend || change == vcReinstate {
		purpose = credentials.PurposeSuspension
	}
	if !rec.HasStatusPurpose(purpose) {
		return CredentialRecord{}, &InvalidError{Fields: []FieldError{{Field: "credentialStatus.statusPurpose", Code: "unknown", Message: "this credential has no " + purpose + " entry"}}}
	}
	if entry.StatusListIndex != "" && entry.StatusListIndex != strconv.Itoa(rec.Index) {
		p.add("credentialStatus.statusListIndex", "unknown", "this is not the credential's index")
	}
	list := s.StatusBase(org) + "/" + credentials.StatusListPath(purpose, rec.List)
	if entry.StatusListCredential != "" && entry.StatusListCredential != list {
		p.add("credentialStatus.statusListCredential", "unknown", "this is not the credential's status list")
	}
	if entry.ID != "" && entry.ID != fmt.Sprintf("%s#%d", list, rec.Index) {
		p.add("credentialStatus.id", "unknown", "this is not the credential's status entry")
	}
	if err := p.err(); err != nil {
		return CredentialRecord{}, err
	}
	switch change {
	case vcRevoke:
		if by.System == "" && by.Role != RoleSupervisor {
			return CredentialRecord{}, fmt.Errorf("only a supervisor revokes a credential: %w", ErrForbidden)
		}
		return s.Revoke(ctx, by, org, rec.ID)
	case vcSuspend:
		return s.Suspend(ctx, by, org, rec.ID)
	case vcReinstate:
		return s.Reinstate(ctx, by, org, rec.ID)
	}
	if rec.State == StateRevoked {
		return CredentialRecord{}, fmt.Errorf("credential %s is revoked, for good: %w", rec.ID, ErrStateChange)
	}
	return rec, nil
}

// readStatusChange reads the credentialStatus and status of an update.
func readStatusChange(p *problems, in VCStatusUpdate) (vcStatusEntry, vcChange) {
	const field = "credentialStatus"
	raw := bytes.TrimSpace(in.CredentialStatus)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		p.add(field, "required", `give the entry to update: {"type":"BitstringStatusListEntry","statusPurpose":"revocation"}`)
		return vcStatusEntry{}, 0
	}
	var e vcStatusEntry
	older := raw[0] == '['
	if older {
		var list []vcStatusEntry
		if err := strictUnmarshal(raw, &list); err != nil || len(list) != 1 {
			p.add(field, "format", "give one status entry")
			return vcStatusEntry{}, 0
		}
		e = list[0]
	} else if err := strictUnmarshal(raw, &e); err != nil {
		p.add(field, "format", "give an object with type and statusPurpose (and nothing unknown)")
		return vcStatusEntry{}, 0
	}
	if older || e.Status != "" {
		if in.Status != nil || e.StatusPurpose != "" {
			p.add(field, "format", "give either statusPurpose with status true or false, or status revoked, suspended or active in the entry")
			return e, 0
		}
		if e.Type != "BitstringStatusListCredential" && e.Type != credentials.StatusEntryType {
			p.add(field+".type", "unknown", "the type must be BitstringStatusListCredential")
			return e, 0
		}
		switch e.Status {
		case string(StateRevoked):
			return e, vcRevoke
		case string(StateSuspended):
			return e, vcSuspend
		case string(StateActive):
			return e, vcReinstate
		}
		p.add(field+".status", "unknown", "choose revoked, suspended or active")
		return e, 0
	}
	if e.Type != credentials.StatusEntryType && e.Type != "BitstringStatusList" {
		p.add(field+".type", "unknown", "the type must be BitstringStatusListEntry")
		return e, 0
	}
	set := in.Status == nil || *in.Status
	switch e.StatusPurpose {
	case credentials.PurposeRevocation:
		if set {
			return e, vcRevoke
		}
		return e, vcNothing
	case credentials.PurposeSuspension:
		if set {
			return e, vcSuspend
		}
		return e, vcReinstate
	case "":
		p.add(field+".statusPurpose", "required", "choose revocation or suspension")
	default:
		p.add(field+".statusPurpose", "unknown", "choose revocation or suspension")
	}
	return e, 0
}

// strictUnmarshal decodes one JSON value into v, refusing unknown members.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// HasStatusPurpose reports whether the credential has an entry of this
// purpose: a credential issued from a registration has both; one issued
// through the VC API those it was issued with.
func (r CredentialRecord) HasStatusPurpose(purpose string) bool {
	return len(r.StatusPurposes) == 0 || slices.Contains(r.StatusPurposes, purpose)
}

// StatusListMediaTypeDI is the media type of a status list credential
// secured with a Data Integrity proof.
const StatusListMediaTypeDI = "application/vc+ld+json"

// StatusListDI signs list number n of an organisation's revocation or
// suspension list as a BitstringStatusListCredential with a Data
// Integrity eddsa-rdfc-2022 proof (JSON-LD verifiers read it), as it
// stands now. Like StatusList, it signs again only when the bits changed
// or half the list's cache lifetime has passed. It fails with ErrNotFound
// for an unknown organisation, kind or list, and ErrUnsupportedKey when
// the organisation's key is not Ed25519.
func (s *Service) StatusListDI(ctx context.Context, org string, kind StatusListKind, n int) (SignedList, error) {
	if s.status == nil || s.baseURL == "" || s.docSigner == nil || n < 0 || (kind != ListRevocation && kind != ListSuspension) {
		return SignedList{}, fmt.Errorf("status list %s/%d: %w", kind, n, ErrNotFound)
	}
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return SignedList{}, err
	}
	bits, err := s.status.StatusBits(ctx, org, n)
	if err != nil {
		return SignedList{}, err
	}
	b := bits.Revoked
	if kind == ListSuspension {
		b = bits.Suspended
	}
	now := s.now().UTC().Truncate(time.Second)
	ck := listKey{org, kind + "+di", n}
	digest := sha256Sum(b)
	if l, ok := s.signedLists.get(ck, digest, now); ok {
		return l, nil
	}
	return s.signedLists.sign(org, ck, digest, now, func() (SignedList, error) {
		return s.signStatusListDI(ctx, org, kind, n, b, now)
	})
}

// signStatusListDI signs list n of kind, whose bits are b, at now, as a
// BitstringStatusListCredential with a Data Integrity proof.
func (s *Service) signStatusListDI(ctx context.Context, org string, kind StatusListKind, n int, b []byte, now time.Time) (SignedList, error) {
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return SignedList{}, err
	}
	if key.Alg != credentials.EdDSA {
		return SignedList{}, fmt.Errorf("status list %s/%d in JSON-LD: %w", kind, n, ErrUnsupportedKey)
	}
	enc, err := credentials.EncodeBitstring(b)
	if err != nil {
		return SignedList{}, err
	}
	until := now.Add(StatusListValidity)
	url := s.StatusBase(org) + "/" + credentials.StatusListPath(string(kind), n)
	doc, err := json.Marshal(map[string]any{
		"@context":   []string{credentials.BaseContext},
		"id":         url,
		"type":       []string{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":     key.DID,
		"validFrom":  now.Format(time.RFC3339),
		"validUntil": until.Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": string(kind),
			"encodedList": enc, "ttl": StatusListTTL.Milliseconds(),
		},
	})
	if err != nil {
		return SignedList{}, err
	}
	body, err := s.docSigner.Sign(ctx, doc, key, now)
	if err != nil {
		return SignedList{}, fmt.Errorf("sign status list %s/%d: %w", kind, n, err)
	}
	return SignedList{Body: body, MediaType: StatusListMediaTypeDI, ValidUntil: until, TTL: StatusListTTL}, nil
}

func sha256Sum(b []byte) [sha256.Size]byte { return sha256.Sum256(b) }
