package issuer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/issuer/names"
)

// NewRegistration is the input that registers a person.
type NewRegistration struct {
	// Person holds the registration claims; Programme is required, and
	// RegistrationID is drawn when empty. ID and DedupSeed must be empty:
	// a holder's DID is bound at issuance, and tally draws the seed.
	Person credentials.Registration
	// Consent is the person's informed consent to the programme's purpose.
	// No consent, no registration.
	Consent ConsentInput
	// Confirm registers the person even though likely duplicates exist:
	// staff looked at them and found the person is not one of them.
	Confirm bool
}

// ConsentInput is the consent staff record.
type ConsentInput struct {
	// Given must be true: the person heard the purpose and agreed.
	Given bool `json:"given"`
	// Method is verbal, written or guardian.
	Method ConsentMethod `json:"method"`
	// Language is the BCP 47 tag of the language the purpose was
	// explained in.
	Language string `json:"language"`
	// Date is the day consent was given, YYYY-MM-DD; today if empty. It
	// may be up to a year ago (registrations taken offline), not later
	// than today.
	Date string `json:"date,omitempty"`
	// StaffID is the staff member who took the consent: a registrar or
	// supervisor of the organisation. Empty, it is the staff member signed
	// in; an API token must name one.
	StaffID string `json:"staffId,omitempty"`
}

// Ref is how records name who did something: a staff member's id, or
// "token:" and an API token's id.
func (p Principal) Ref() string {
	switch {
	case p.TokenID != "":
		return "token:" + p.TokenID
	case p.System != "":
		return "system:" + p.System
	}
	return p.StaffID
}

// registrationIDDigits is the length of the random part of a drawn
// registration ID.
const registrationIDDigits = 8

// Register registers a person with their consent, unless they may be
// registered already: then, without in.Confirm, it returns a
// *DuplicatesError with the likely duplicates and stores nothing. The
// registration's personal data is sealed under the organisation's data
// key; its dedup seed is drawn here, once.
func (s *Service) Register(ctx context.Context, by Principal, org string, in NewRegistration) (Registration, error) {
	return s.register(ctx, by, org, in, "")
}

// register is Register with the registration's internal id given, or
// drawn when id is empty: a bulk import derives it from the job and the
// row, so that a retried row finds the registration it made.
func (s *Service) register(ctx context.Context, by Principal, org string, in NewRegistration, id string) (Registration, error) {
	var p problems
	checkPerson(&p, &in.Person, true)
	if in.Person.ID != "" {
		p.add("id", "format", "a holder's DID is bound when a credential is issued, not at registration")
	}
	if in.Person.DedupSeed != nil {
		p.add("dedupSeed", "format", "tally draws the dedup seed: do not send one")
	}
	prog, consent, err := s.checkConsent(ctx, &p, by, org, in.Person.Programme, in.Consent)
	if err != nil {
		return Registration{}, err
	}
	if err := p.err(); err != nil {
		return Registration{}, err
	}
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return Registration{}, err
	}
	k := ring.current
	if in.Person.RegistrationID == "" {
		if in.Person.RegistrationID, err = s.drawRegistrationID(prog.Code); err != nil {
			return Registration{}, err
		}
	}
	if id == "" {
		if id, err = newID(s.rand); err != nil {
			return Registration{}, err
		}
	}
	seed, err := credentials.NewSeed(s.rand)
	if err != nil {
		return Registration{}, err
	}
	now := s.now().UTC()
	consent.Recorded = now
	reg := Registration{
		ID: id, Org: org, Programme: prog.Code, Person: in.Person, Seed: seed, Consent: consent,
		Created: now, CreatedBy: by.Ref(), Updated: now, UpdatedBy: by.Ref(), Rev: 1,
	}
	sr := SealedRegistration{
		ID: id, Org: org, Programme: prog.Code, Created: now, CreatedBy: by.Ref(), Updated: now, UpdatedBy: by.Ref(),
		Rev: 1, Index: k.indexKeys(reg.Person),
	}
	if err := s.sealRecord(k, reg, &sr); err != nil {
		return Registration{}, err
	}
	if err := s.storeNew(ctx, org, in, sr); err != nil {
		return Registration{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionRegister,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: id}, {Kind: audit.ObjectConsent, ID: consent.ID}},
		Purpose: audit.ProgrammePurpose(prog.Code)}); err != nil {
		return Registration{}, err
	}
	return reg, nil
}

// raceRetries is how many times Register checks for duplicates again when
// another registration was stored between its check and its insert.
const raceRetries = 8

// storeNew stores a new registration. Unless staff confirmed it is
// another person, the check for likely duplicates and the insert are one
// atomic step: the insert is refused (ErrRaced) if, since the check began,
// a registration holding any of the index keys the check looked up was
// stored, or any registration of the organisation was updated (a
// correction, a data key rotation re-sealing it); then the check runs
// again, and sees it. Two registrars registering the same person at the
// same moment do not both create a registration, while registrations of
// other people (a bulk import makes them by the hundred) do not hold each
// other up.
func (s *Service) storeNew(ctx context.Context, org string, in NewRegistration, sr SealedRegistration) error {
	if in.Confirm {
		return registrationIDTaken(s.registrations.CreateRegistration(ctx, sr))
	}
	for range raceRetries {
		ring, err := s.keyring(ctx, org)
		if err != nil {
			return err
		}
		keys := duplicateQuery(ring, in.Person)
		gen, err := s.registrations.RegistrationGeneration(ctx, org, keys)
		if err != nil {
			return err
		}
		// A data key rotation makes its new key current before it
		// re-seals any record: if the keys are still current now, every
		// re-seal to come moves the generation on.
		if again, err := s.keyring(ctx, org); err != nil {
			return err
		} else if again.current.version != ring.current.version {
			continue
		}
		matches, err := s.duplicates(ctx, ring, org, in.Person, "")
		if err != nil {
			return err
		}
		if len(matches) > 0 {
			return &DuplicatesError{Matches: matches}
		}
		err = s.registrations.CreateRegistrationIf(ctx, sr, keys, gen)
		if !errors.Is(err, ErrRaced) {
			return registrationIDTaken(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("registration %s: other registrations kept being stored during the check for duplicates: %w", sr.ID, ErrRaced)
}

// drawRegistrationID makes a registration ID for a person who has none
// yet: the programme's code and eight random letters and digits.
func (s *Service) drawRegistrationID(code string) (string, error) {
	raw, err := newID(s.rand)
	if err != nil {
		return "", err
	}
	return code + "-" + strings.ToUpper(raw[:registrationIDDigits]), nil
}

func registrationIDTaken(err error) error {
	if isConflict(err) {
		return &InvalidError{Fields: []FieldError{{Field: "registrationId", Code: "taken",
			Message: "another registration has this registration ID: link to it, or give another"}}}
	}
	return err
}

// LinkInput records a visit against an existing registration: the
// programme the person comes for now, and their consent to its purpose.
type LinkInput struct {
	Programme string       `json:"programme"`
	Consent   ConsentInput `json:"consent"`
}

// Link records a visit against registration id instead of registering the
// person again: the programme and the consent given for it.
func (s *Service) Link(ctx context.Context, by Principal, org, id string, in LinkInput) (Registration, error) {
	sr, reg, k, err := s.load(ctx, org, id)
	if err != nil {
		return Registration{}, err
	}
	var p problems
	in.Programme = strings.TrimSpace(in.Programme)
	prog, consent, err := s.checkConsent(ctx, &p, by, org, in.Programme, in.Consent)
	if err != nil {
		return Registration{}, err
	}
	if err := p.err(); err != nil {
		return Registration{}, err
	}
	now := s.now().UTC()
	consent.Recorded = now
	reg.Links = append(reg.Links, Link{At: now, By: by.Ref(), Programme: prog.Code, Consent: consent})
	sr.Updated, sr.UpdatedBy, sr.Rev = now, by.Ref(), sr.Rev+1
	if err := s.sealRecord(k, reg, &sr); err != nil {
		return Registration{}, err
	}
	// The link seals the record under the current data key; its index is
	// that key's too.
	sr.Index = k.indexKeys(reg.Person)
	if err := s.registrations.UpdateRegistration(ctx, sr); err != nil {
		return Registration{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionLink,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: id}, {Kind: audit.ObjectConsent, ID: consent.ID}},
		Purpose: audit.ProgrammePurpose(prog.Code)}); err != nil {
		return Registration{}, err
	}
	return s.openRecord(&keyring{current: k}, sr)
}

// load reads and opens a registration to change it, and returns the
// organisation's current data key, which seals the change. An erased
// registration cannot change (ErrErased).
func (s *Service) load(ctx context.Context, org, id string) (SealedRegistration, Registration, *orgSecrets, error) {
	sr, err := s.registrations.Registration(ctx, org, id)
	if err != nil {
		return SealedRegistration{}, Registration{}, nil, err
	}
	if sr.Erasure != nil {
		return SealedRegistration{}, Registration{}, nil, fmt.Errorf("registration %s: %w", id, ErrErased)
	}
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return SealedRegistration{}, Registration{}, nil, err
	}
	reg, err := s.openRecord(ring, sr)
	return sr, reg, ring.current, err
}

// PersonCorrection is the input that corrects a registration: each field
// that is not nil replaces the registration's (an empty string clears an
// optional field). The programme and the dedup seed cannot be corrected.
type PersonCorrection struct {
	RegistrationID *string `json:"registrationId,omitempty"`
	FullName       *string `json:"fullName,omitempty"`
	FirstName      *string `json:"firstName,omitempty"`
	LastName       *string `json:"lastName,omitempty"`
	DateOfBirth    *string `json:"dateOfBirth,omitempty"`
	Gender         *string `json:"gender,omitempty"`
	Nationality    *string `json:"nationality,omitempty"`
	LegalStatus    *string `json:"legalStatus,omitempty"`
	LocationCode   *string `json:"locationCode,omitempty"`
	Language       *string `json:"language,omitempty"`
	HouseholdSize  *int    `json:"householdSize,omitempty"`
	// Rev, when not zero, is the revision the correction was made on: if
	// the registration changed since, the correction is refused with
	// ErrConflict, so that no one overwrites a change they did not see.
	Rev int `json:"rev,omitempty"`
}

// apply sets the given fields on p and returns the names of those that
// changed.
func (c PersonCorrection) apply(p *credentials.Registration) []string {
	var changed []string
	str := func(name string, v *string, field *string) {
		if v != nil && strings.TrimSpace(*v) != *field {
			*field = strings.TrimSpace(*v)
			changed = append(changed, name)
		}
	}
	str("registrationId", c.RegistrationID, &p.RegistrationID)
	str("fullName", c.FullName, &p.FullName)
	str("firstName", c.FirstName, &p.FirstName)
	str("lastName", c.LastName, &p.LastName)
	str("dateOfBirth", c.DateOfBirth, &p.DateOfBirth)
	str("gender", c.Gender, &p.Gender)
	str("nationality", c.Nationality, &p.Nationality)
	str("legalStatus", c.LegalStatus, &p.LegalStatus)
	str("locationCode", c.LocationCode, &p.LocationCode)
	str("language", c.Language, &p.Language)
	if c.HouseholdSize != nil && *c.HouseholdSize != p.HouseholdSize {
		p.HouseholdSize = *c.HouseholdSize
		changed = append(changed, "householdSize")
	}
	return changed
}

// Corrected is what a correction changed. The issuance of credentials
// acts on it (Options.OnCorrected): it re-issues the registration's
// credentials, with the same dedup seed, and revokes those issued before.
type Corrected struct {
	Org          string
	Registration string
	// Rev is the revision the correction made.
	Rev    int
	Fields []string
	By     Principal
	At     time.Time
}

// Correct corrects a registration's data. The dedup seed and the consent
// stay; who corrected which fields, and when, is recorded. When nothing
// changes, nothing is recorded and the registration is returned as it is.
// After the correction is stored and audited, Options.OnCorrected is
// called; its error is returned, but the correction stays.
func (s *Service) Correct(ctx context.Context, by Principal, org, id string, in PersonCorrection) (Registration, error) {
	sr, reg, k, err := s.load(ctx, org, id)
	if err != nil {
		return Registration{}, err
	}
	if in.Rev != 0 && in.Rev != sr.Rev {
		return Registration{}, fmt.Errorf("registration %s changed since revision %d (now %d): reload it: %w", id, in.Rev, sr.Rev, ErrConflict)
	}
	person := reg.Person
	changed := in.apply(&person)
	var p problems
	checkPerson(&p, &person, false)
	if err := p.err(); err != nil {
		return Registration{}, err
	}
	if len(changed) == 0 {
		return reg, nil
	}
	now := s.now().UTC()
	reg.Person = person
	sr.Updated, sr.UpdatedBy, sr.Rev = now, by.Ref(), sr.Rev+1
	sr.Corrections = append(sr.Corrections, Correction{At: now, By: by.Ref(), Fields: changed, Rev: sr.Rev})
	sr.Index = k.indexKeys(person)
	if err := s.sealRecord(k, reg, &sr); err != nil {
		return Registration{}, err
	}
	if err := s.registrations.UpdateRegistration(ctx, sr); err != nil {
		return Registration{}, registrationIDTaken(err)
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionCorrect,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: id}}, Purpose: audit.PurposeRectification}); err != nil {
		return Registration{}, err
	}
	out, err := s.openRecord(&keyring{current: k}, sr)
	if err != nil {
		return Registration{}, err
	}
	if s.onCorrected != nil {
		if err := s.onCorrected(ctx, Corrected{Org: org, Registration: id, Rev: sr.Rev, Fields: changed, By: by, At: now}); err != nil {
			return out, fmt.Errorf("registration %s was corrected, but acting on the correction failed: %w", id, err)
		}
	}
	return out, nil
}

// checkPerson validates and trims the registration claims, with the rules
// of credentials (a RegistrationCredential must be valid), naming each bad
// field as the API and the forms do. An empty registration ID is allowed
// when one is to be drawn.
func checkPerson(p *problems, person *credentials.Registration, drawID bool) {
	for _, f := range []*string{&person.RegistrationID, &person.FullName, &person.FirstName, &person.LastName, &person.DateOfBirth,
		&person.Gender, &person.Nationality, &person.LegalStatus, &person.LocationCode, &person.Language, &person.Programme} {
		*f = strings.TrimSpace(*f)
	}
	probe := *person
	probe.ID, probe.DedupSeed = "", nil
	if drawID && probe.RegistrationID == "" {
		probe.RegistrationID = "drawn"
	}
	c := credentials.Credential{Type: credentials.TypeRegistration, Issuer: "did:web:tally.invalid", Subject: &probe}
	var ve *credentials.ValidationError
	if err := c.Validate(); errors.As(err, &ve) {
		for _, f := range ve.Problems {
			field := strings.TrimPrefix(f.Field, "credentialSubject.")
			code := "format"
			if f.Problem == "is missing" {
				code = "required"
			}
			p.add(field, code, f.Problem)
		}
	} else if err != nil {
		p.add("person", "format", err.Error())
	}
	if person.FullName != "" && names.FullKey(person.FullName) == "" && !p.has("fullName") {
		p.add("fullName", "format", "write the person's name in letters")
	}
}

// checkConsent checks the programme and the consent given for it, and
// returns them as recorded. Bad input goes into p; the error is for
// anything else.
func (s *Service) checkConsent(ctx context.Context, p *problems, by Principal, org, code string, in ConsentInput) (Programme, Consent, error) {
	var prog Programme
	if code == "" {
		p.add("programme", "required", "choose the programme the person is registered for")
	} else {
		var err error
		prog, err = s.programmes.Programme(ctx, org, code)
		if errors.Is(err, ErrNotFound) {
			p.add("programme", "unknown", "this organisation has no such programme")
		} else if err != nil {
			return Programme{}, Consent{}, err
		}
	}
	if !in.Given {
		p.add("consent.given", "required", "no consent, no registration: read the purpose to the person, and tick when they agree")
	}
	switch {
	case in.Method == "":
		p.add("consent.method", "required", "say how consent was given: verbal, written or guardian")
	case !slices.Contains(ConsentMethods(), in.Method):
		p.add("consent.method", "unknown", "choose verbal, written or guardian")
	}
	lang, err := CanonicalLanguage(strings.TrimSpace(in.Language))
	switch {
	case strings.TrimSpace(in.Language) == "":
		p.add("consent.language", "required", "say in which language the purpose was explained")
	case err != nil:
		p.add("consent.language", "format", "use a BCP 47 language tag, such as so or ar")
	}
	today := s.now().UTC().Format(time.DateOnly)
	date := strings.TrimSpace(in.Date)
	if date == "" {
		date = today
	} else if d, err := time.Parse(time.DateOnly, date); err != nil {
		p.add("consent.date", "format", "write the date like 2026-11-03")
	} else if date > today || d.Before(s.now().UTC().AddDate(-1, 0, -1)) {
		p.add("consent.date", "format", "give the day consent was given: not later than today, nor more than a year ago")
	}
	staff := strings.TrimSpace(in.StaffID)
	switch {
	case staff == "" && by.StaffID != "":
		staff = by.StaffID
	case staff == "" || staff != by.StaffID:
		if err := s.checkConsentStaff(ctx, p, org, staff); err != nil {
			return Programme{}, Consent{}, err
		}
	}
	id, err := newID(s.rand)
	if err != nil {
		return Programme{}, Consent{}, err
	}
	return prog, Consent{ID: id, Programme: prog.Code, Purpose: prog.Purpose, Method: in.Method, Language: lang, Date: date, StaffID: staff}, nil
}

// checkConsentStaff checks that the staff member an API token names as
// having taken a consent is a registrar or supervisor of the organisation.
func (s *Service) checkConsentStaff(ctx context.Context, p *problems, org, id string) error {
	if id == "" {
		p.add("consent.staffId", "required", "name the staff member who took the consent, by their id")
		return nil
	}
	st, err := s.staff.StaffByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && (st.Org != org || st.Disabled || (st.Role != RoleRegistrar && st.Role != RoleSupervisor))) {
		p.add("consent.staffId", "unknown", "name a registrar or supervisor of this organisation")
		return nil
	}
	return err
}
