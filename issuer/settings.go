package issuer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tally-id/tally/issuer/audit"
)

// OrgUpdater changes an organisation's record.
type OrgUpdater interface {
	// UpdateOrganisation calls change with the organisation, in one
	// transaction, and stores what it returns: its slug, DID and creation
	// time may not change. ErrNotFound for an unknown slug.
	UpdateOrganisation(ctx context.Context, slug string, change func(Organisation) (Organisation, error)) (Organisation, error)
}

// Settings are what an organisation's administrators may change of it.
type Settings struct {
	// Name is its display name, on cards and pages.
	Name string `json:"name"`
	// Languages are its default languages, the first foremost: the form
	// of a new programme starts with them.
	Languages []string `json:"languages"`
	// Contact is how people and other organisations reach it (an address,
	// a telephone number, a web page), one line.
	Contact string `json:"contact"`
}

// maxContact bounds an organisation's contact, in characters.
const maxContact = 200

// check validates and normalises settings.
func (in *Settings) check() error {
	var p problems
	in.Name = strings.TrimSpace(in.Name)
	checkName(&p, "name", in.Name)
	in.Languages = checkLanguages(&p, in.Languages)
	in.Contact = strings.TrimSpace(in.Contact)
	switch {
	case !utf8.ValidString(in.Contact) || utf8.RuneCountInString(in.Contact) > maxContact:
		p.add("contact", "too_long", fmt.Sprintf("use at most %d characters", maxContact))
	case strings.IndexFunc(in.Contact, unicode.IsControl) >= 0:
		p.add("contact", "format", "use letters, digits, spaces and punctuation only, on one line")
	}
	return p.err()
}

// SettingsOf returns an organisation's settings.
func (o Organisation) SettingsOf() Settings {
	langs := o.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	return Settings{Name: o.Name, Languages: slices.Clone(langs), Contact: o.Contact}
}

// UpdateSettings changes an organisation's settings, and audits it.
func (s *Service) UpdateSettings(ctx context.Context, by Principal, org string, in Settings) (Organisation, error) {
	if err := in.check(); err != nil {
		return Organisation{}, err
	}
	if s.orgUpdater == nil {
		return Organisation{}, errors.New("issuer: no organisation store: settings cannot be changed")
	}
	o, err := s.orgUpdater.UpdateOrganisation(ctx, org, func(o Organisation) (Organisation, error) {
		o.Name, o.Languages, o.Contact = in.Name, in.Languages, in.Contact
		return o, nil
	})
	if err != nil {
		return Organisation{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionSettingsChange,
		Objects: []audit.Object{{Kind: audit.ObjectOrganisation, ID: org}}, Purpose: audit.PurposeAdministration}); err != nil {
		return Organisation{}, err
	}
	return o, nil
}
