package bulk

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/tally-id/tally/credentials"
)

// Row is one row of data, read into a draft registration.
type Row struct {
	// Line is the row's line as a spreadsheet shows it (the header is 1).
	Line int
	// Key identifies the person the row registers, the same in every file
	// and every run: from the registration ID when the row has one, else
	// from the row's values (Fingerprint). An import remembers the keys it
	// has issued (for its organisation), and skips them when it meets them
	// again: the same file twice, or a run resumed after a crash, issues
	// nobody twice. It is a hash, so it can be stored and logged without
	// the ID.
	Key string
	// Fingerprint is a hash of the row's values once read, the same however
	// they were written (" fatima ", "F" and 14/03/1991 as "Fatima",
	// "female" and 1991-03-14): a row with a known Key and another
	// Fingerprint has changed since it was issued. The values have little
	// entropy: treat it as personal data, not as a secret.
	Fingerprint string
	// Draft is the registration credential the row holds, without issuer,
	// id, validity, status or dedup seed (credentials.Prepare adds them),
	// or nil when the row has problems.
	Draft *credentials.Credential
	// Problems lists everything wrong with the row: every cell that cannot
	// be read, every claim the credentials package refuses, a repeated
	// person.
	Problems []*Error
	// Progress is how far the pass has gone, this row included.
	Progress Progress
	dates    dateSeen
}

// OK reports whether the row has no problem, and so a draft.
func (r Row) OK() bool { return len(r.Problems) == 0 }

// rowState gathers one row's values and problems.
type rowState struct {
	s        *Sheet
	row      *Row
	reg      *credentials.Registration
	flagged  map[string]bool // claims already given a problem
	composed bool            // the full name was made of first and last names
}

func (st *rowState) problem(col Column, claim string, reason Reason, detail string) {
	st.row.Problems = append(st.row.Problems, &Error{Reason: reason, Line: st.row.Line, Column: col, Claim: claim, Detail: detail})
	st.flagged[claim] = true
}

// row reads one record into a Row. seen maps the keys of the rows before
// it to their lines, to tell a repeated person.
func (s *Sheet) row(rec record, seen map[string]int) Row {
	row := Row{Line: rec.line}
	st := &rowState{s: s, row: &row, reg: &credentials.Registration{}, flagged: map[string]bool{}}
	for _, col := range s.head.columns {
		if col.Claim == "" || col.Index >= len(rec.cells) || rec.cells[col.Index].blank() {
			continue
		}
		st.set(col, rec.cells[col.Index])
	}
	reg := st.reg
	if _, ok := s.head.byClaim["fullName"]; !ok && reg.FirstName != "" && reg.LastName != "" {
		reg.FullName = reg.FirstName + " " + reg.LastName
		st.composed = true
	}
	if reg.RegistrationID == "" && !st.flagged["registrationId"] {
		st.problem(st.column("registrationId"), "registrationId", ReasonMissingValue, "")
	}
	if reg.FullName == "" && !st.flagged["fullName"] {
		st.problem(st.column("fullName"), "fullName", ReasonMissingValue, "")
	}
	draft := &credentials.Credential{Type: credentials.TypeRegistration, Subject: reg}
	var ve *credentials.ValidationError
	if err := draft.Validate(); errors.As(err, &ve) {
		for _, p := range ve.Problems {
			claim, ok := strings.CutPrefix(p.Field, "credentialSubject.")
			if !ok || st.flagged[claim] {
				// A draft has no issuer, by design; a claim already
				// reported is not reported twice.
				continue
			}
			st.problem(st.column(claim), claim, ReasonInvalid, p.Problem)
		}
	}
	row.Fingerprint = fingerprint(reg)
	row.Key = "row-" + row.Fingerprint
	if reg.RegistrationID != "" {
		sum := sha256.Sum256([]byte("tally-bulk-key-v1\x00registrationId\x00" + reg.RegistrationID))
		row.Key = "id-" + hex.EncodeToString(sum[:16])
	}
	if first, dup := seen[row.Key]; dup {
		claim := ""
		if reg.RegistrationID != "" {
			claim = "registrationId"
		}
		row.Problems = append(row.Problems, &Error{Reason: ReasonDuplicateRow, Line: row.Line, Column: st.column(claim), Claim: claim, Other: first})
	} else {
		seen[row.Key] = row.Line
	}
	if row.OK() {
		row.Draft = draft
	}
	return row
}

// column returns the column that holds a claim, or none.
func (st *rowState) column(claim string) Column {
	if claim == "fullName" && st.composed {
		return Column{}
	}
	if i, ok := st.s.head.byClaim[claim]; ok {
		return st.s.head.columns[i]
	}
	return Column{}
}

// set reads one cell into its claim, or records why it cannot.
func (st *rowState) set(col Column, c cell) {
	reg := st.reg
	if col.Claim == "dateOfBirth" {
		d, reason, detail := st.dateOfBirth(c)
		if reason != 0 {
			st.problem(col, col.Claim, reason, detail)
			return
		}
		reg.DateOfBirth = d
		return
	}
	text, reason := st.s.cellText(c)
	if reason != 0 {
		st.problem(col, col.Claim, reason, "")
		return
	}
	switch col.Claim {
	case "registrationId":
		reg.RegistrationID = text
	case "fullName":
		reg.FullName = text
	case "firstName":
		reg.FirstName = text
	case "lastName":
		reg.LastName = text
	case "gender":
		reg.Gender, reason = gender(text)
	case "nationality":
		reg.Nationality, reason = country(text)
	case "legalStatus":
		reg.LegalStatus = legalStatus(text)
	case "locationCode":
		reg.LocationCode = text
	case "language":
		reg.Language, reason = languageCode(text)
	case "programme":
		reg.Programme = text
	case "householdSize":
		reg.HouseholdSize, reason = wholeNumber(text)
	}
	if reason != 0 {
		st.problem(col, col.Claim, reason, "")
	}
}

// serialLike is a number of five digits: in a CSV file's date column, an
// Excel day number exported without its date format.
var serialLike = regexp.MustCompile(`^[1-9][0-9]{4}(\.[0-9]+)?$`)

// dateOfBirth reads a date of birth from a date cell, an Excel serial
// number in a date format, or text.
func (st *rowState) dateOfBirth(c cell) (string, Reason, string) {
	var d date
	switch c.kind {
	case cellError:
		return "", ReasonFormulaError, ""
	case cellDate:
		var ok bool
		if d, ok = serialDate(c.text, st.s.date1904()); !ok {
			return "", ReasonDate, ""
		}
	default:
		text := c.text
		if c.kind == cellISODate {
			text, _, _ = strings.Cut(text, "T")
		}
		var seen dateSeen
		var reason Reason
		var detail string
		d, seen, reason, detail = parseDate(text, st.s.opts.DateOrder)
		st.row.dates = seen
		if reason == ReasonDate && serialLike.MatchString(strings.TrimSpace(text)) {
			detail = "it looks like an Excel day number: format the column as a date before saving"
		}
		if reason != 0 {
			return "", reason, detail
		}
	}
	if d.year < 1900 || d.after(st.s.today) {
		return "", ReasonDateOutOfRange, ""
	}
	return d.String(), 0, ""
}

// fingerprint hashes a registration's values, each with its length, in
// the order of the schema.
func fingerprint(r *credentials.Registration) string {
	h := sha256.New()
	h.Write([]byte("tally-bulk-fingerprint-v1"))
	for _, v := range []string{
		r.RegistrationID, r.FullName, r.FirstName, r.LastName, r.DateOfBirth, r.Gender,
		r.Nationality, r.LegalStatus, r.LocationCode, r.Language, r.Programme, strconv.Itoa(r.HouseholdSize),
	} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
