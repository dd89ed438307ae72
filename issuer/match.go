package issuer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/names"
)

// MatchReason says why a registration was found, or why it may be the
// same person as one being registered.
type MatchReason string

// The reasons, strongest first.
const (
	// ReasonRegistrationID: the same registration ID.
	ReasonRegistrationID MatchReason = "registration-id"
	// ReasonName: the same name, allowing for spelling variants and the
	// order of its parts.
	ReasonName MatchReason = "name"
	// ReasonSimilarName: at least two parts of the names are the same (or
	// the only part of the shorter one).
	ReasonSimilarName MatchReason = "similar-name"
	// ReasonNamePart: one part of the names is the same.
	ReasonNamePart MatchReason = "name-part"
	// ReasonDateOfBirth: the same date of birth, as far as both are known.
	ReasonDateOfBirth MatchReason = "date-of-birth"
	// ReasonYearOfBirth: the same year of birth.
	ReasonYearOfBirth MatchReason = "year-of-birth"
)

var reasonWeight = map[MatchReason]int{
	ReasonRegistrationID: 8, ReasonName: 4, ReasonSimilarName: 3, ReasonNamePart: 1,
	ReasonDateOfBirth: 4, ReasonYearOfBirth: 1,
}

// Match is a registration found by a search or a duplicate check, with
// why.
type Match struct {
	Registration Registration  `json:"registration"`
	Reasons      []MatchReason `json:"reasons"`
	// SharedParts of OfParts parts of the names are the same (OfParts
	// counts the parts of the shorter name).
	SharedParts int `json:"sharedParts"`
	OfParts     int `json:"ofParts"`
}

func (m Match) score() int {
	n := 0
	for _, r := range m.Reasons {
		n += reasonWeight[r]
	}
	return n
}

// Has reports whether the match has reason r.
func (m Match) Has(r MatchReason) bool { return slices.Contains(m.Reasons, r) }

// DuplicatesError is the answer to registering a person who may be
// registered already: the likely duplicates, best first. Staff link the
// visit to one of them, or register again confirming it is another
// person. It matches ErrLikelyDuplicates.
type DuplicatesError struct {
	Matches []Match
}

func (e *DuplicatesError) Error() string {
	return fmt.Sprintf("%d registrations may be this person's: link to one, or confirm it is another person", len(e.Matches))
}

// Is makes errors.Is(err, ErrLikelyDuplicates) true.
func (e *DuplicatesError) Is(target error) bool { return target == ErrLikelyDuplicates }

// Bounds of searches.
const (
	// perKeyLimit is the most registrations one index key brings in.
	perKeyLimit = 500
	// MaxMatches is the most matches a search or a duplicate check
	// returns.
	MaxMatches = 50
)

// personNames is every name of a person, for name parts.
func personNames(p credentials.Registration) string {
	return strings.Join([]string{p.FullName, p.FirstName, p.LastName}, " ")
}

// birth returns the date of birth as far as it is known (YYYY,
// YYYY-MM or YYYY-MM-DD) and its year, or "" when it is not known.
func birth(dob string) (date, year string) {
	y, m, d, err := credentials.ParseDate(dob)
	if err != nil || dob == "" {
		return "", ""
	}
	year = fmt.Sprintf("%04d", y)
	switch {
	case d != 0:
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d), year
	case m != 0:
		return fmt.Sprintf("%04d-%02d", y, m), year
	}
	return year, year
}

// indexKeys returns a person's blind index entries.
func (k *orgSecrets) indexKeys(p credentials.Registration) []IndexKey {
	var keys []IndexKey
	add := func(kind IndexKind, value string) {
		if value == "" {
			return
		}
		key := IndexKey{Kind: kind, Value: k.blind(kind, value)}
		if !slices.ContainsFunc(keys, key.equal) {
			keys = append(keys, key)
		}
	}
	add(IndexRegistrationID, p.RegistrationID)
	add(IndexName, names.FullKey(p.FullName))
	for _, part := range names.Keys(personNames(p)) {
		add(IndexNamePart, part)
	}
	date, year := birth(p.DateOfBirth)
	add(IndexDateOfBirth, date)
	add(IndexYearOfBirth, year)
	return keys
}

func (k IndexKey) equal(o IndexKey) bool { return k.Kind == o.Kind && bytes.Equal(k.Value, o.Value) }

// compare says why stored may be the same person as p, if it may.
func compare(p, stored credentials.Registration) (Match, bool) {
	var m Match
	if p.RegistrationID != "" && p.RegistrationID == stored.RegistrationID {
		m.Reasons = append(m.Reasons, ReasonRegistrationID)
	}
	full := names.FullKey(p.FullName)
	m.SharedParts, m.OfParts = names.Shared(personNames(p), personNames(stored))
	switch {
	case full != "" && full == names.FullKey(stored.FullName):
		m.Reasons = append(m.Reasons, ReasonName)
	case names.Similar(personNames(p), personNames(stored)):
		m.Reasons = append(m.Reasons, ReasonSimilarName)
	case m.SharedParts > 0:
		m.Reasons = append(m.Reasons, ReasonNamePart)
	}
	date, year := birth(p.DateOfBirth)
	sdate, syear := birth(stored.DateOfBirth)
	switch {
	case date != "" && date == sdate:
		m.Reasons = append(m.Reasons, ReasonDateOfBirth)
	case year != "" && year == syear:
		m.Reasons = append(m.Reasons, ReasonYearOfBirth)
	}
	likely := m.Has(ReasonRegistrationID) || m.Has(ReasonName) ||
		(m.Has(ReasonDateOfBirth) && m.SharedParts > 0) ||
		(m.Has(ReasonYearOfBirth) && m.Has(ReasonSimilarName))
	return m, likely
}

// duplicates returns the registrations of org that may be the person p,
// best first. Candidates are found by the blind indexes of the
// registration ID and the names; the dates of birth are compared once they
// are opened.
//
// While a data key rotation is under way, records sealed under the older
// keys still hold index entries of their keys: the query has the entries
// of every key kept.
func (s *Service) duplicates(ctx context.Context, ring *keyring, org string, p credentials.Registration, except string) ([]Match, error) {
	hits, err := s.index.FindRegistrations(ctx, org, duplicateQuery(ring, p), perKeyLimit)
	if err != nil {
		return nil, err
	}
	var matches []Match
	for _, h := range hits {
		if h.ID == except {
			continue
		}
		reg, err := s.openHit(ctx, ring, org, h.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if reg.Erased() {
			continue
		}
		if m, ok := compare(p, reg.Person); ok {
			m.Registration = reg
			matches = append(matches, m)
		}
	}
	return best(matches), nil
}

// duplicateQuery is the index keys that find the candidates for p: its
// registration ID and names, under every data key kept.
func duplicateQuery(ring *keyring, p credentials.Registration) []IndexKey {
	var query []IndexKey
	for _, k := range ring.all() {
		for _, key := range k.indexKeys(p) {
			if key.Kind == IndexRegistrationID || key.Kind == IndexName || key.Kind == IndexNamePart {
				query = append(query, key)
			}
		}
	}
	return query
}

func (s *Service) openHit(ctx context.Context, ring *keyring, org, id string) (Registration, error) {
	sr, err := s.registrations.Registration(ctx, org, id)
	if err != nil {
		return Registration{}, err
	}
	return s.openRecord(ring, sr)
}

// best sorts matches by their reasons' weight, then newest first, and
// keeps MaxMatches.
func best(matches []Match) []Match {
	slices.SortStableFunc(matches, func(a, b Match) int {
		if d := b.score() - a.score(); d != 0 {
			return d
		}
		if d := b.Registration.Created.Compare(a.Registration.Created); d != 0 {
			return d
		}
		return strings.Compare(a.Registration.ID, b.Registration.ID)
	})
	if len(matches) > MaxMatches {
		matches = matches[:MaxMatches]
	}
	return matches
}

// SearchQuery looks for registrations by registration ID, name or date of
// birth; at least one is needed. A registration is found by its ID, or by
// its name, and, when a date is given, must have it.
type SearchQuery struct {
	RegistrationID string `json:"registrationId"`
	Name           string `json:"name"`
	// DateOfBirth is YYYY-MM-DD, YYYY-MM or YYYY.
	DateOfBirth string `json:"dateOfBirth"`
}

// Search finds an organisation's registrations through their blind
// indexes: by registration ID exactly, by name (spelling variants
// allowed: any part of the name finds it, the whole name ranks first),
// and by date of birth. It returns at most MaxMatches, best first.
func (s *Service) Search(ctx context.Context, org string, q SearchQuery) ([]Match, error) {
	q.RegistrationID = strings.TrimSpace(q.RegistrationID)
	q.Name = strings.TrimSpace(q.Name)
	q.DateOfBirth = strings.TrimSpace(q.DateOfBirth)
	var p problems
	if q.RegistrationID == "" && q.Name == "" && q.DateOfBirth == "" {
		p.add("query", "required", "give a registration ID, a name or a date of birth")
	}
	if len(q.RegistrationID) > 64 {
		p.add("registrationId", "too_long", "use at most 64 characters")
	}
	if len(q.Name) > 200 {
		p.add("name", "too_long", "use at most 200 characters")
	}
	date, year := birth(q.DateOfBirth)
	if q.DateOfBirth != "" && date == "" {
		p.add("dateOfBirth", "format", "write a date like 1991-03-14 (or 1991-03, or 1991)")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return nil, err
	}
	probe := credentials.Registration{RegistrationID: q.RegistrationID, FullName: q.Name, DateOfBirth: q.DateOfBirth}
	var byWho, byBirth []IndexKey
	for _, k := range ring.all() {
		for _, key := range k.indexKeys(probe) {
			switch {
			case key.Kind == IndexDateOfBirth && date != year, key.Kind == IndexYearOfBirth && date == year:
				byBirth = append(byBirth, key)
			case key.Kind == IndexRegistrationID, key.Kind == IndexName, key.Kind == IndexNamePart:
				byWho = append(byWho, key)
			}
		}
	}
	query := byWho
	if len(query) == 0 {
		query = byBirth
	}
	hits, err := s.index.FindRegistrations(ctx, org, query, perKeyLimit)
	if err != nil {
		return nil, err
	}
	var matches []Match
	for _, h := range hits {
		reg, err := s.openHit(ctx, ring, org, h.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if reg.Erased() {
			continue
		}
		m, _ := compare(probe, reg.Person)
		if q.DateOfBirth != "" && !m.Has(ReasonDateOfBirth) && !(date == year && m.Has(ReasonYearOfBirth)) {
			continue
		}
		if q.RegistrationID != "" && q.Name == "" && len(byWho) > 0 && !m.Has(ReasonRegistrationID) {
			continue
		}
		m.Registration = reg
		matches = append(matches, m)
	}
	return best(matches), nil
}
