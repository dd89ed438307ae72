package pdf

import (
	"fmt"
	"slices"
	"strings"
)

// cardLabels are the words a card prints beside its values, in one language.
type cardLabels struct {
	// IssuedBy heads the issuing organisation's name.
	IssuedBy string
	// Name heads the person's name.
	Name string
	// ValidUntil heads the expiry date.
	ValidUntil string
	// ID heads the registration number.
	ID string
}

// labels is the message table: one entry per language, by its ISO 639-1
// code (ISO 639-3 where there is none). To add a language, add an entry
// with all four labels; TestLabels checks that each is set and that the
// embedded fonts draw every character (a script they lack needs a font
// in fonts/ first, see docs/printing.md). Right-to-left languages need
// nothing more: the direction comes from the script.
//
// Translations other than English and French should be checked by a
// native speaker of the programme before cards are printed for it.
var labels = map[string]cardLabels{
	"en": {IssuedBy: "Issued by", Name: "Name", ValidUntil: "Valid until", ID: "Registration no."},
	"fr": {IssuedBy: "Délivrée par", Name: "Nom", ValidUntil: "Valable jusqu’au", ID: "N° d’enregistrement"},
	"ar": {IssuedBy: "صادرة عن", Name: "الاسم", ValidUntil: "صالحة حتى", ID: "رقم التسجيل"},
	"so": {IssuedBy: "Waxaa bixiyay", Name: "Magaca", ValidUntil: "Ansax ilaa", ID: "Lambarka diiwaangelinta"},
	"sw": {IssuedBy: "Imetolewa na", Name: "Jina", ValidUntil: "Inatumika hadi", ID: "Nambari ya usajili"},
}

// Languages returns the languages cards can be labelled in, sorted.
func Languages() []string {
	out := make([]string, 0, len(labels))
	for lang := range labels {
		out = append(out, lang)
	}
	slices.Sort(out)
	return out
}

// labelsFor returns the labels of each language, in order. No languages
// means English.
func labelsFor(langs []string) ([]cardLabels, error) {
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	out := make([]cardLabels, 0, len(langs))
	for _, lang := range langs {
		l, ok := labels[strings.ToLower(lang)]
		if !ok {
			return nil, fmt.Errorf("pdf: no card labels in language %q (there are %s)", lang, strings.Join(Languages(), ", "))
		}
		out = append(out, l)
	}
	return out, nil
}
