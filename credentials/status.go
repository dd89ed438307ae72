package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Status purposes of the W3C Bitstring Status List v1.0.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// StatusEntryType is the credentialStatus type of a Bitstring Status List entry.
const StatusEntryType = "BitstringStatusListEntry"

// MinStatusListSize is the least number of entries of a status list, so
// that an index tells nothing about the person (Bitstring Status List v1.0
// section 6.1: herd privacy).
const MinStatusListSize = 131072

// StatusEntry is one credentialStatus entry of type BitstringStatusListEntry.
//
// tally's issuers serve their lists at {statusBase}/{purpose}/{list}, and give
// a credential the same index in its revocation and its suspension list. A
// QR card carries only the list number and the index; its entries have the
// relative ListCredential "{purpose}/{list}", which a verifier resolves
// against the issuer's status base from the trust list.
type StatusEntry struct {
	ID             string
	Purpose        string
	Index          int
	ListCredential string
}

type jsonStatusEntry struct {
	ID             string `json:"id,omitempty"`
	Type           string `json:"type"`
	Purpose        string `json:"statusPurpose"`
	Index          string `json:"statusListIndex"`
	ListCredential string `json:"statusListCredential"`
}

// MarshalJSON writes the entry as Bitstring Status List v1.0 requires:
// the index is a string of decimal digits.
func (e StatusEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonStatusEntry{
		ID:             e.ID,
		Type:           StatusEntryType,
		Purpose:        e.Purpose,
		Index:          strconv.Itoa(e.Index),
		ListCredential: e.ListCredential,
	})
}

// UnmarshalJSON reads one entry and checks its type and index.
func (e *StatusEntry) UnmarshalJSON(data []byte) error {
	var j jsonStatusEntry
	if err := unmarshalJSON(data, &j); err != nil {
		return fieldError("credentialStatus", "must be an object or a list of objects")
	}
	entry, err := j.entry()
	if err != nil {
		return err
	}
	*e = entry
	return nil
}

// entry checks the entry's type and index.
func (j *jsonStatusEntry) entry() (StatusEntry, error) {
	if j.Type != StatusEntryType {
		return StatusEntry{}, fieldError("credentialStatus.type", "must be %s", StatusEntryType)
	}
	idx, err := strconv.Atoi(j.Index)
	if err != nil || idx < 0 {
		return StatusEntry{}, fieldError("credentialStatus.statusListIndex", "must be a string of decimal digits")
	}
	return StatusEntry{ID: j.ID, Purpose: j.Purpose, Index: idx, ListCredential: j.ListCredential}, nil
}

// parseStatus reads a credentialStatus: one entry, or a list of them.
func parseStatus(raw []byte) ([]jsonStatusEntry, error) {
	raw = bytes.TrimSpace(raw)
	var list []jsonStatusEntry
	if len(raw) > 0 && raw[0] == '[' {
		if err := unmarshalJSON(raw, &list); err != nil {
			return nil, fieldError("credentialStatus", "must be an object or a list of objects")
		}
		return list, nil
	}
	list = make([]jsonStatusEntry, 1)
	if err := unmarshalJSON(raw, &list[0]); err != nil {
		return nil, fieldError("credentialStatus", "must be an object or a list of objects")
	}
	return list, nil
}

// StatusEntries returns the revocation and suspension entries of a credential
// at index in list number list of an issuer whose status base URL is base
// (empty for the relative form a card carries).
func StatusEntries(base string, list, index int) []StatusEntry {
	out := make([]StatusEntry, 0, 2)
	for _, p := range []string{PurposeRevocation, PurposeSuspension} {
		url := StatusListPath(p, list)
		if base != "" {
			url = strings.TrimRight(base, "/") + "/" + url
		}
		out = append(out, StatusEntry{
			ID:             fmt.Sprintf("%s#%d", url, index),
			Purpose:        p,
			Index:          index,
			ListCredential: url,
		})
	}
	return out
}

// StatusListPath is the path of a status list below an issuer's status base.
func StatusListPath(purpose string, list int) string {
	return purpose + "/" + strconv.Itoa(list)
}

// TokenStatusListPath is the path of a Token Status List below an issuer's
// status base: token/{list}. tally serves it from the same status record,
// and with the same list number and indexes, as the Bitstring Status Lists
// {purpose}/{list} (see TokenStatusListOf).
func TokenStatusListPath(list int) string {
	return "token/" + strconv.Itoa(list)
}

// TokenStatusOf returns the Token Status List reference that goes with a
// credential's status entries when they follow tally's layout with
// absolute URLs ({base}/{purpose}/{list}, one index): {base}/token/{list}
// and the same index. It returns nil for entries in another layout, or
// relative ones (a card's), which name no base to build a URI on.
func TokenStatusOf(entries []StatusEntry) *TokenStatusRef {
	list, index, ok := TallyStatus(entries)
	if !ok {
		return nil
	}
	e := entries[0]
	base, ok := strings.CutSuffix(e.ListCredential, "/"+StatusListPath(e.Purpose, list))
	if !ok || !strings.Contains(base, "://") {
		return nil
	}
	for _, other := range entries[1:] {
		if other.ListCredential != base+"/"+StatusListPath(other.Purpose, list) {
			return nil
		}
	}
	return &TokenStatusRef{Index: index, URI: base + "/" + TokenStatusListPath(list)}
}

// TallyStatus reports the list number and index of a credential whose status
// entries follow tally's layout (see StatusEntry); ok is false otherwise.
func TallyStatus(entries []StatusEntry) (list, index int, ok bool) {
	if len(entries) == 0 {
		return 0, 0, false
	}
	list, index = -1, -1
	for _, e := range entries {
		if e.Purpose != PurposeRevocation && e.Purpose != PurposeSuspension {
			return 0, 0, false
		}
		i := strings.LastIndex(e.ListCredential, "/"+e.Purpose+"/")
		var rest string
		switch {
		case i >= 0:
			rest = e.ListCredential[i+len(e.Purpose)+2:]
		case strings.HasPrefix(e.ListCredential, e.Purpose+"/"):
			rest = e.ListCredential[len(e.Purpose)+1:]
		default:
			return 0, 0, false
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		if (list >= 0 && n != list) || (index >= 0 && e.Index != index) {
			return 0, 0, false
		}
		list, index = n, e.Index
	}
	return list, index, true
}
