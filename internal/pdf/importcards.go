package pdf

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// CardOfIssued is the card of a credential just issued or reprinted, its
// labels in those of the programme's languages the printer knows.
func CardOfIssued(out issuer.Issued) (Card, error) {
	if out.Record.Format != credentials.FormatQR {
		return Card{}, fmt.Errorf("credential %s is a %s, not a card", out.Record.ID, out.Record.Format)
	}
	parsed, err := credentials.ParseCard([]byte(out.Credential))
	if err != nil {
		return Card{}, err
	}
	var langs []string
	for _, l := range out.Languages {
		if slices.Contains(Languages(), l) {
			langs = append(langs, l)
		}
	}
	return CardFor(parsed.Credential(), out.Credential, out.OrgName, langs...), nil
}

// WriteImportCards writes a PDF of A4 sheets of every card of a done
// import job, in the file's order, each signed again (nothing of them is
// stored), and returns how many.
func (p *Printer) WriteImportCards(ctx context.Context, w io.Writer, im *issuer.Importer, org, id string) (int, error) {
	s := p.NewSheetWriter(w)
	err := im.Cards(ctx, org, id, func(out issuer.Issued) error {
		card, err := CardOfIssued(out)
		if err != nil {
			return err
		}
		return s.Add(card)
	})
	n := s.Cards()
	if err != nil {
		s.Close()
		return n, err
	}
	return n, s.Close()
}
