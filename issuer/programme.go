package issuer

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// Programme is one of an organisation's assistance programmes: what it
// registers people for (its purpose, read to each person before they
// consent), in which languages, which credentials it issues, and how long
// it keeps personal data.
type Programme struct {
	// Org is the organisation's slug.
	Org string `json:"org"`
	// Code names the programme in credentials ("programme": "MPCA-2026")
	// and in the audit log's purposes. It never changes.
	Code string `json:"code"`
	// Name is its display name.
	Name string `json:"name"`
	// Languages are BCP 47 tags, the default first: consent is explained,
	// and cards are labelled, in these.
	Languages []string `json:"languages"`
	// RetentionMonths is how long a registration's personal data is kept
	// after its last change; then it is erased.
	RetentionMonths int `json:"retentionMonths"`
	// CredentialTypes are the credentials the programme issues.
	CredentialTypes []credentials.Type `json:"credentialTypes"`
	// Purpose says in plain words what the data is for: staff read it to
	// the person, who consents to it.
	Purpose string    `json:"purpose"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// ProgrammeInput is what an administrator gives to create or change a
// programme.
type ProgrammeInput struct {
	// Code is required to create; to change, it may be left out, and may
	// not differ from the programme's.
	Code            string   `json:"code"`
	Name            string   `json:"name"`
	Languages       []string `json:"languages"`
	RetentionMonths int      `json:"retentionMonths"`
	// CredentialTypes are credential type names: RegistrationCredential or
	// registration, EligibilityCredential or eligibility, ...
	CredentialTypes []string `json:"credentialTypes"`
	Purpose         string   `json:"purpose"`
}

// ProgrammeStore keeps programmes, by organisation and code.
type ProgrammeStore interface {
	// CreateProgramme stores a new programme; ErrConflict if the code is
	// taken in its organisation.
	CreateProgramme(ctx context.Context, p Programme) error
	// UpdateProgramme replaces a programme; ErrNotFound if there is none.
	UpdateProgramme(ctx context.Context, p Programme) error
	// Programme returns one programme, or ErrNotFound.
	Programme(ctx context.Context, org, code string) (Programme, error)
	// Programmes returns an organisation's programmes, by code.
	Programmes(ctx context.Context, org string) ([]Programme, error)
}

// Limits of a programme's fields.
const (
	maxProgrammeCode      = 40
	maxProgrammeLanguages = 10
	maxRetentionMonths    = 1200
	maxPurpose            = 1000
)

var (
	codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	datePattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
)

// checkCode reports a programme code that is not 1 to 40 ASCII letters,
// digits, dots, underscores and hyphens, or that holds a full date (the
// audit log refuses what looks like a date of birth).
func checkCode(p *problems, code string) {
	switch {
	case code == "":
		p.add("code", "required", "give the programme a short code, such as MPCA-2026")
	case len(code) > maxProgrammeCode:
		p.add("code", "too_long", fmt.Sprintf("use at most %d characters", maxProgrammeCode))
	case !codePattern.MatchString(code):
		p.add("code", "format", "use letters, digits, dots, hyphens and underscores, starting with a letter or digit")
	case datePattern.MatchString(code):
		p.add("code", "format", "do not put a full date (YYYY-MM-DD) in a code; a year is fine")
	}
}

// check validates and normalises the input (but not Code).
func (in *ProgrammeInput) check(p *problems) []credentials.Type {
	in.Name = strings.TrimSpace(in.Name)
	checkName(p, "name", in.Name)

	in.Languages = checkLanguages(p, in.Languages)

	switch {
	case in.RetentionMonths <= 0:
		p.add("retentionMonths", "required", "say how many months personal data is kept (24 for two years)")
	case in.RetentionMonths > maxRetentionMonths:
		p.add("retentionMonths", "format", fmt.Sprintf("keep personal data at most %d months", maxRetentionMonths))
	}

	var types []credentials.Type
	for _, name := range in.CredentialTypes {
		t, ok := credentialType(strings.TrimSpace(name))
		if !ok {
			p.add("credentialTypes", "unknown", "choose among registration, eligibility and referral")
			types = nil
			break
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(in.CredentialTypes) == 0 {
		p.add("credentialTypes", "required", "choose the credentials the programme issues")
	}

	in.Purpose = strings.TrimSpace(in.Purpose)
	switch {
	case in.Purpose == "":
		p.add("purpose", "required", "say in plain words what the personal data is for: staff read it to each person")
	case !utf8.ValidString(in.Purpose) || utf8.RuneCountInString(in.Purpose) > maxPurpose:
		p.add("purpose", "too_long", fmt.Sprintf("use at most %d characters", maxPurpose))
	case strings.IndexFunc(in.Purpose, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }) >= 0:
		p.add("purpose", "format", "use letters, digits, spaces and punctuation only")
	}
	return types
}

// checkLanguages checks a list of language tags (a programme's, an
// organisation's defaults): one to maxProgrammeLanguages BCP 47 tags, each
// once. It returns them trimmed and canonical, blanks left out.
func checkLanguages(p *problems, in []string) []string {
	var langs []string
	for _, l := range in {
		if l = strings.TrimSpace(l); l != "" {
			langs = append(langs, l)
		}
	}
	switch {
	case len(langs) == 0:
		p.add("languages", "required", "give at least one language, such as en")
	case len(langs) > maxProgrammeLanguages:
		p.add("languages", "too_long", fmt.Sprintf("give at most %d languages", maxProgrammeLanguages))
	default:
		for i, l := range langs {
			tag, err := CanonicalLanguage(l)
			if err != nil {
				p.add("languages", "format", "use BCP 47 language tags, such as en, so, ar or fr-CA, separated by commas")
				break
			}
			if slices.Contains(langs[:i], tag) {
				p.add("languages", "format", "give each language once")
				break
			}
			langs[i] = tag
		}
	}
	return langs
}

// CanonicalLanguage returns the canonical form of a BCP 47 language tag
// (so, ar, fr-CA), or an error for what is not one.
func CanonicalLanguage(tag string) (string, error) {
	if tag == "" || len(tag) > 35 {
		return "", fmt.Errorf("not a BCP 47 language tag")
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", fmt.Errorf("not a BCP 47 language tag")
	}
	return t.String(), nil
}

// credentialType reads a credential type by its name or short name.
func credentialType(name string) (credentials.Type, bool) {
	for _, t := range credentials.Types() {
		if name == string(t) || strings.EqualFold(name, strings.TrimSuffix(string(t), "Credential")) {
			return t, true
		}
	}
	return "", false
}

// CreateProgramme adds a programme to organisation org.
func (s *Service) CreateProgramme(ctx context.Context, by Principal, org string, in ProgrammeInput) (Programme, error) {
	var p problems
	in.Code = strings.TrimSpace(in.Code)
	checkCode(&p, in.Code)
	types := in.check(&p)
	if err := p.err(); err != nil {
		return Programme{}, err
	}
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return Programme{}, err
	}
	now := s.now().UTC()
	prog := Programme{
		Org: org, Code: in.Code, Name: in.Name, Languages: in.Languages, RetentionMonths: in.RetentionMonths,
		CredentialTypes: types, Purpose: in.Purpose, Created: now, Updated: now,
	}
	if err := s.programmes.CreateProgramme(ctx, prog); err != nil {
		if isConflict(err) {
			return Programme{}, &InvalidError{Fields: []FieldError{{Field: "code", Code: "taken", Message: "this organisation has a programme with this code: choose another"}}}
		}
		return Programme{}, err
	}
	if err := s.recordProgramme(ctx, by, prog); err != nil {
		return Programme{}, err
	}
	return prog, nil
}

// UpdateProgramme changes a programme's name, languages, retention,
// credential types and purpose. Its code stays. Consents already given
// keep the purpose they were given for.
func (s *Service) UpdateProgramme(ctx context.Context, by Principal, org, code string, in ProgrammeInput) (Programme, error) {
	var p problems
	if c := strings.TrimSpace(in.Code); c != "" && c != code {
		p.add("code", "format", "a programme's code cannot change")
	}
	types := in.check(&p)
	if err := p.err(); err != nil {
		return Programme{}, err
	}
	prog, err := s.programmes.Programme(ctx, org, code)
	if err != nil {
		return Programme{}, err
	}
	prog.Name, prog.Languages, prog.RetentionMonths = in.Name, in.Languages, in.RetentionMonths
	prog.CredentialTypes, prog.Purpose, prog.Updated = types, in.Purpose, s.now().UTC()
	if err := s.programmes.UpdateProgramme(ctx, prog); err != nil {
		return Programme{}, err
	}
	if err := s.recordProgramme(ctx, by, prog); err != nil {
		return Programme{}, err
	}
	return prog, nil
}

func (s *Service) recordProgramme(ctx context.Context, by Principal, prog Programme) error {
	return s.record(ctx, audit.Entry{Actor: by.Actor(), Org: prog.Org, Action: audit.ActionProgrammeChange,
		Objects: []audit.Object{{Kind: audit.ObjectProgramme, ID: prog.Code}}, Purpose: audit.PurposeAdministration})
}

// Programmes lists organisation org's programmes.
func (s *Service) Programmes(ctx context.Context, org string) ([]Programme, error) {
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return nil, err
	}
	return s.programmes.Programmes(ctx, org)
}

// Programme returns one of organisation org's programmes.
func (s *Service) Programme(ctx context.Context, org, code string) (Programme, error) {
	return s.programmes.Programme(ctx, org, code)
}

// Issues reports whether the programme issues credentials of type t.
func (p Programme) Issues(t credentials.Type) bool { return slices.Contains(p.CredentialTypes, t) }
