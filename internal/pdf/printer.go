package pdf

import (
	"compress/zlib"
	"io"
	"sync"
)

// Printer prints cards. It is safe for concurrent use.
type Printer struct {
	fonts     *fontSet
	renderers sync.Pool // of *renderer
}

// NewPrinter returns a printer with the embedded fonts.
func NewPrinter() (*Printer, error) {
	fonts, err := loadFonts()
	if err != nil {
		return nil, err
	}
	p := &Printer{fonts: fonts}
	p.renderers.New = func() any { return &renderer{ts: newTypesetter(fonts)} }
	return p, nil
}

// WriteCard writes a PDF of one page the size of the card, 85.6 × 54 mm,
// for a card printer or for printing at actual size and cutting out.
func (p *Printer) WriteCard(w io.Writer, card Card) error {
	m, err := prepare(&card)
	if err != nil {
		return err
	}
	r := p.renderers.Get().(*renderer)
	defer p.renderers.Put(r)
	cv := canvas{fonts: p.fonts}
	if err := r.drawCard(&cv, &card, m, 0, 0); err != nil {
		return err
	}
	doc := newDocument(w, p.fonts)
	doc.addPage(&page{
		width:   cardWidth * mm,
		height:  cardHeight * mm,
		content: deflate(cv.buf, zlib.DefaultCompression),
		glyphs:  cv.glyphs,
	})
	return doc.close("Card")
}
