package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
)

// Card is what one printed card shows.
type Card struct {
	// QR is the card's text, as credentials.IssueCard returns it.
	QR string
	// Name is the person's full name, in any script.
	Name string
	// ID is the registration number; empty leaves it off.
	ID string
	// Expiry is the last day the card is valid; zero leaves it off.
	Expiry time.Time
	// Organisation is the issuing organisation's name.
	Organisation string
	// Languages are the languages of the labels, as codes of Languages(),
	// the programme's main language first: a right-to-left one lays the
	// card out from the right. None means English.
	Languages []string
}

// CardFor returns the card of credential c, whose QR card text (from
// credentials.IssueCard) is qr: the name and registration number of a
// registration credential, and the expiry of any.
func CardFor(c *credentials.Credential, qr, organisation string, languages ...string) Card {
	card := Card{QR: qr, Organisation: organisation, Languages: languages, Expiry: c.ValidUntil}
	if r, ok := c.Subject.(*credentials.Registration); ok {
		card.Name = r.FullName
	}
	card.ID = credentials.SubjectRegistrationID(c.Subject)
	return card
}

// ErrNoQR reports a card without QR text.
var ErrNoQR = errors.New("pdf: the card has no QR text")

// The card, ID-1 of ISO/IEC 7810, in millimetres from its top left corner.
const (
	cardWidth    = 85.6
	cardHeight   = 54.0
	cardMargin   = 3.0
	headerBottom = 10.5 // the rule under the organisation's name
	minQRWidth   = 35.0 // DESIGN.md asks at least this
	maxQRWidth   = 40.0
	quietModules = 4 // the QR code's quiet zone, ISO/IEC 18004
)

// qrPlacement sizes a QR symbol of n modules: the symbol with its quiet
// zone fills the height under the header, reaching the card's edge, within
// the minimum and maximum widths. It returns the symbol's width and the
// width of the box it takes with its quiet zone.
func qrPlacement(n int) (symbol, box float64) {
	module := (cardHeight - headerBottom) / float64(n+2*quietModules)
	symbol = min(max(module*float64(n), minQRWidth), maxQRWidth)
	module = symbol / float64(n)
	return symbol, symbol + 2*quietModules*module
}

// Type sizes in points.
const (
	labelSize     = 5.2
	orgSize       = 8.5
	nameSize      = 10.5
	valueSize     = 9.0
	minValueSize  = 6.5
	labelLeading  = 2.15 // mm between label lines
	valueLeading  = 1.2  // mm from a value's baseline to the next label's top
	labelGray     = 0.35
	ruleGray      = 0.6
	labelSepRunes = "  ·  "
)

// renderer draws cards. Each goroutine that draws has its own.
type renderer struct {
	ts *typesetter
	zw *zlib.Writer // reused: a new one costs 800 KB of tables
}

// deflate compresses a sheet's content stream, favouring speed: a sheet
// of ten cards is about 5 KB a card compressed.
func (r *renderer) deflate(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) / 3)
	if r.zw == nil {
		r.zw, _ = zlib.NewWriterLevel(&b, zlib.BestSpeed) // a valid level
	} else {
		r.zw.Reset(&b)
	}
	r.zw.Write(data)
	r.zw.Close()
	return b.Bytes()
}

// drawCard draws card, whose QR code is m, with the card's bottom left
// corner at ox, oy (in points) on cv.
func (r *renderer) drawCard(cv *canvas, card *Card, m *qrMatrix, ox, oy float64) error {
	ls, err := labelsFor(card.Languages)
	if err != nil {
		return err
	}
	rtl := r.ts.line(firstLabel(ls), false).rtl
	// pt converts a point of the card in millimetres from its top left
	// corner to page coordinates, mirrored on a right-to-left card.
	px := func(x float64) float64 {
		if rtl {
			x = cardWidth - x
		}
		return ox + x*mm
	}
	py := func(y float64) float64 { return oy + (cardHeight-y)*mm }

	symbol, box := qrPlacement(m.size)
	quiet := (box - symbol) / 2
	qrLeft := cardWidth - quiet - symbol
	if rtl {
		qrLeft = quiet
	}
	cv.qr(m, ox+qrLeft*mm, py(cardHeight-quiet-symbol), symbol*mm)

	// The header: the organisation, across the card unless the QR code's
	// quiet zone rises into it.
	columnEnd := cardWidth - box - 0.5
	headerEnd := cardWidth - cardMargin
	if cardHeight-box < headerBottom-0.01 {
		headerEnd = columnEnd
	}
	w := headerEnd - cardMargin
	cv.gray(labelGray)
	r.labelLine(cv, ls, func(l cardLabels) string { return l.IssuedBy }, w, 1, px, py(4.4), rtl)
	cv.gray(0)
	r.fitLine(cv, card.Organisation, true, orgSize, minValueSize, w, px(cardMargin), py(8.5), rtl)
	cv.gray(ruleGray)
	cv.line(px(cardMargin), py(headerBottom-0.4), px(headerEnd), py(headerBottom-0.4), 0.3)

	// The fields, down the column beside the QR code.
	w = columnEnd - cardMargin
	type field struct {
		label func(cardLabels) string
		value string
		size  float64
		bold  bool
	}
	fields := []field{{func(l cardLabels) string { return l.Name }, card.Name, nameSize, true}}
	if !card.Expiry.IsZero() {
		fields = append(fields, field{func(l cardLabels) string { return l.ValidUntil }, card.Expiry.UTC().Format(time.DateOnly), valueSize, false})
	}
	if card.ID != "" {
		fields = append(fields, field{func(l cardLabels) string { return l.ID }, card.ID, valueSize - 1, false})
	}
	// Lay the fields out at full size, and smaller while they overflow.
	bottom := cardHeight - cardMargin
	for _, scale := range []float64{1, 0.9, 0.8, 0.7} {
		y := headerBottom + 1.2
		values := make([]valueLines, len(fields))
		for i, f := range fields {
			values[i] = r.fitValue(f.value, f.bold, f.size*scale, minValueSize*scale, w)
			y += r.labelHeight(ls, f.label, w, scale) + values[i].height() + valueLeading
		}
		if y-valueLeading > bottom && scale > 0.7 {
			continue
		}
		y = headerBottom + 1.2
		for i, f := range fields {
			cv.gray(labelGray)
			y += r.labelLine(cv, ls, f.label, w, scale, px, py(y+labelSize*scale/72*25.4), rtl)
			cv.gray(0)
			v := values[i]
			for _, l := range v.lines {
				y += v.size / 72 * 25.4 * lineSpacing
				left := px(cardMargin)
				if rtl {
					left -= l.width * v.size / emUnits * v.hscale
				}
				cv.text(l, v.size, v.hscale, left, py(y-v.size/72*25.4*(lineSpacing-1)))
			}
			y += valueLeading
		}
		break
	}
	cv.gray(0)
	return nil
}

func firstLabel(ls []cardLabels) string {
	if len(ls) == 0 {
		return ""
	}
	return ls[0].Name
}

// lineSpacing is the height of a line of values, in font sizes.
const lineSpacing = 1.15

// valueLines is a value laid out: one line, or two for a long name.
type valueLines struct {
	lines  []*shapedLine
	size   float64 // points
	hscale float64
}

func (v valueLines) height() float64 {
	return float64(len(v.lines)) * v.size / 72 * 25.4 * lineSpacing
}

// fitValue lays text out at most width millimetres wide: on one line at
// size points, or smaller down to minSize; failing that, on two lines
// broken at a space, at the largest size that fits; failing that, on one
// line at minSize, narrowed.
func (r *renderer) fitValue(text string, bold bool, size, minSize, width float64) valueLines {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return valueLines{}
	}
	limit := width * mm
	fit := func(lines ...*shapedLine) (float64, bool) {
		widest := 0.0
		for _, l := range lines {
			widest = max(widest, l.width)
		}
		s := min(size, limit*emUnits/max(widest, 1))
		s = float64(int(s*4)) / 4 // quarter points
		return s, s >= minSize
	}
	one := r.ts.line(text, bold)
	if s, ok := fit(one); ok && s >= size*0.85 {
		return valueLines{[]*shapedLine{one}, s, 1}
	}
	// Two lines, broken at the space that balances them best.
	best := valueLines{}
	bestSize := 0.0
	for i, c := range text {
		if c != ' ' {
			continue
		}
		a, b := r.ts.shape(text[:i], bold), r.ts.shape(text[i+1:], bold)
		if s, ok := fit(a, b); ok && s > bestSize {
			best, bestSize = valueLines{[]*shapedLine{a, b}, s, 1}, s
		}
	}
	if s, ok := fit(one); ok && s >= bestSize {
		return valueLines{[]*shapedLine{one}, s, 1}
	}
	if bestSize > 0 {
		return best
	}
	w := one.width * minSize / emUnits
	return valueLines{[]*shapedLine{one}, minSize, min(1, limit/w)}
}

// fitLine draws text on one line at most width millimetres wide: at size
// points, smaller down to minSize, then narrower, from x (its start: the
// left end, or the right end of a right-to-left card).
func (r *renderer) fitLine(cv *canvas, text string, bold bool, size, minSize, width, x, baseline float64, rtl bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	l := r.ts.line(text, bold)
	limit := width * mm
	s := size
	for s > minSize && l.width*s/emUnits > limit {
		s -= 0.25
	}
	hscale := 1.0
	if w := l.width * s / emUnits; w > limit {
		hscale = limit / w
	}
	left := x
	if rtl {
		left = x - l.width*s/emUnits*hscale
	}
	cv.text(l, s, hscale, left, baseline)
}

// labelItems shapes one label in each language.
func (r *renderer) labelItems(ls []cardLabels, pick func(cardLabels) string) []*shapedLine {
	items := make([]*shapedLine, 0, len(ls))
	for _, l := range ls {
		if s := pick(l); s != "" {
			items = append(items, r.ts.line(s, false))
		}
	}
	return items
}

// labelRows packs the labels onto as few lines as the width allows, in
// language order, and returns the items of each line.
func (r *renderer) labelRows(items []*shapedLine, width, size float64) [][]*shapedLine {
	sep := r.ts.line(labelSepRunes, false).width * size / emUnits
	limit := width * mm
	var rows [][]*shapedLine
	var cur []*shapedLine
	used := 0.0
	for _, it := range items {
		w := it.width * size / emUnits
		if len(cur) > 0 && used+sep+w > limit {
			rows = append(rows, cur)
			cur, used = nil, 0
		}
		if len(cur) > 0 {
			used += sep
		}
		cur = append(cur, it)
		used += w
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

// labelHeight is the height in millimetres of a field's labels.
func (r *renderer) labelHeight(ls []cardLabels, pick func(cardLabels) string, width, scale float64) float64 {
	rows := r.labelRows(r.labelItems(ls, pick), width, labelSize*scale)
	return float64(len(rows)) * labelLeading * scale
}

// labelLine draws a field's labels, the first line's baseline at baseline,
// and returns the height they take in millimetres.
func (r *renderer) labelLine(cv *canvas, ls []cardLabels, pick func(cardLabels) string, width, scale float64, px func(float64) float64, baseline float64, rtl bool) float64 {
	size := labelSize * scale
	rows := r.labelRows(r.labelItems(ls, pick), width, size)
	sep := r.ts.line(labelSepRunes, false)
	k := size / emUnits
	limit := width * mm
	for i, row := range rows {
		total := 0.0
		for j, it := range row {
			if j > 0 {
				total += sep.width * k
			}
			total += it.width * k
		}
		hscale := 1.0
		if total > limit {
			hscale = limit / total
		}
		y := baseline - float64(i)*labelLeading*scale*mm
		// Items go from the card's start side: left to right, or right
		// to left on a right-to-left card.
		x := px(cardMargin)
		for j, it := range row {
			if j > 0 {
				if rtl {
					x -= sep.width * k * hscale
					cv.text(sep, size, hscale, x, y)
				} else {
					cv.text(sep, size, hscale, x, y)
					x += sep.width * k * hscale
				}
			}
			if rtl {
				x -= it.width * k * hscale
				cv.text(it, size, hscale, x, y)
			} else {
				cv.text(it, size, hscale, x, y)
				x += it.width * k * hscale
			}
		}
	}
	return float64(len(rows)) * labelLeading * scale
}

// prepare checks a card and encodes its QR code.
func prepare(card *Card) (*qrMatrix, error) {
	if card.QR == "" {
		return nil, ErrNoQR
	}
	if _, err := labelsFor(card.Languages); err != nil {
		return nil, err
	}
	m, err := encodeQR(card.QR)
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return m, nil
}
