package pdf

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
)

// A4 sheets of cards: two columns and five rows of ID-1 cards, edge to
// edge so that one cut separates two cards, centred on the page, with cut
// marks in the margins where the cuts run.
const (
	sheetWidth   = 210.0
	sheetHeight  = 297.0
	sheetColumns = 2
	sheetRows    = 5
	// CardsPerSheet is how many cards an A4 sheet holds.
	CardsPerSheet = sheetColumns * sheetRows
	sheetLeft     = (sheetWidth - sheetColumns*cardWidth) / 2
	sheetTop      = (sheetHeight - sheetRows*cardHeight) / 2
	cutMarkGap    = 1.5 // mm between the cards and a cut mark
	cutMarkLength = 6.0
)

// SheetWriter writes cards onto A4 sheets as they come, ten a sheet, as one
// PDF. It keeps only the sheets being drawn in memory, whatever the number
// of cards, and draws sheets on all cores while the caller adds more.
// Add and Close must be called from one goroutine.
type SheetWriter struct {
	p       *Printer
	doc     *document
	cards   []Card // of the sheet being filled
	added   int
	closed  bool
	work    chan *sheetJob
	pending chan *sheetJob // in page order
	done    chan struct{}  // the writing goroutine has ended
	workers sync.WaitGroup

	mu  sync.Mutex
	err error
}

type sheetJob struct {
	first int // index of the sheet's first card
	cards []Card
	page  *page
	err   error
	ready chan struct{}
}

var errSheetsClosed = errors.New("pdf: the sheet writer is closed")

// NewSheetWriter starts a PDF of A4 sheets of cards on w. Close ends it.
func (p *Printer) NewSheetWriter(w io.Writer) *SheetWriter {
	workers := max(runtime.GOMAXPROCS(0), 1)
	s := &SheetWriter{
		p:       p,
		doc:     newDocument(w, p.fonts),
		work:    make(chan *sheetJob, workers),
		pending: make(chan *sheetJob, 2*workers),
		done:    make(chan struct{}),
	}
	for range workers {
		s.workers.Add(1)
		go s.draw()
	}
	go s.write()
	return s
}

// Add puts a card on the sheets. An error is the card's, or an earlier
// card's, or the writer's; after one, the document is abandoned.
func (s *SheetWriter) Add(card Card) error {
	if s.closed {
		return errSheetsClosed
	}
	if err := s.failed(); err != nil {
		return err
	}
	if card.QR == "" {
		return s.fail(fmt.Errorf("card %d: %w", s.added+1, ErrNoQR))
	}
	if _, err := labelsFor(card.Languages); err != nil {
		return s.fail(fmt.Errorf("card %d: %w", s.added+1, err))
	}
	s.cards = append(s.cards, card)
	s.added++
	if len(s.cards) == CardsPerSheet {
		s.flush()
	}
	return nil
}

// flush sends the sheet being filled to be drawn.
func (s *SheetWriter) flush() {
	if len(s.cards) == 0 {
		return
	}
	job := &sheetJob{first: s.added - len(s.cards), cards: s.cards, ready: make(chan struct{})}
	s.cards = make([]Card, 0, CardsPerSheet)
	s.pending <- job // waits while too many sheets are in flight
	s.work <- job
}

// Close draws the last sheet, writes the end of the PDF and returns the
// first error, if any. It does not close the underlying writer.
func (s *SheetWriter) Close() error {
	if s.closed {
		return errSheetsClosed
	}
	s.closed = true
	if s.failed() == nil {
		s.flush()
	}
	close(s.work)
	close(s.pending)
	s.workers.Wait()
	<-s.done
	if err := s.failed(); err != nil {
		return err
	}
	if s.added == 0 {
		return fmt.Errorf("pdf: no cards to print")
	}
	return s.doc.close("Cards")
}

// Cards returns how many cards were added.
func (s *SheetWriter) Cards() int { return s.added }

func (s *SheetWriter) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *SheetWriter) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// draw renders sheets until there are none left.
func (s *SheetWriter) draw() {
	defer s.workers.Done()
	r := s.p.renderers.Get().(*renderer)
	defer s.p.renderers.Put(r)
	for job := range s.work {
		job.page, job.err = s.drawSheet(r, job)
		close(job.ready)
	}
}

// write writes drawn sheets to the document in order.
func (s *SheetWriter) write() {
	defer close(s.done)
	for job := range s.pending {
		<-job.ready
		if job.err != nil {
			s.fail(job.err)
			continue
		}
		if s.failed() != nil {
			continue
		}
		s.doc.addPage(job.page)
		if s.doc.err != nil {
			s.fail(fmt.Errorf("pdf: write: %w", s.doc.err))
		}
	}
}

func (s *SheetWriter) drawSheet(r *renderer, job *sheetJob) (*page, error) {
	cv := canvas{fonts: s.p.fonts, buf: make([]byte, 0, 160<<10)}
	for i := range job.cards {
		card := &job.cards[i]
		m, err := prepare(card)
		if err != nil {
			return nil, fmt.Errorf("card %d: %w", job.first+i+1, err)
		}
		col, row := i%sheetColumns, i/sheetColumns
		ox := (sheetLeft + float64(col)*cardWidth) * mm
		oy := (sheetHeight - sheetTop - float64(row+1)*cardHeight) * mm
		if err := r.drawCard(&cv, card, m, ox, oy); err != nil {
			return nil, fmt.Errorf("card %d: %w", job.first+i+1, err)
		}
	}
	drawCutMarks(&cv)
	sheet := job.first/CardsPerSheet + 1
	cv.gray(labelGray)
	note := r.ts.line("Sheet "+strconv.Itoa(sheet)+" · print at actual size (100 %)", false)
	cv.text(note, 6, 1, (sheetLeft+3)*mm, (sheetHeight-sheetTop+3.5)*mm)
	return &page{
		width:   sheetWidth * mm,
		height:  sheetHeight * mm,
		content: r.deflate(cv.buf),
		glyphs:  cv.glyphs,
	}, nil
}

// drawCutMarks draws a short line in the margins in line with each cut.
func drawCutMarks(cv *canvas) {
	cv.gray(0)
	y := func(v float64) float64 { return (sheetHeight - v) * mm }
	top, bottom := sheetTop, sheetTop+sheetRows*cardHeight
	left, right := sheetLeft, sheetLeft+sheetColumns*cardWidth
	for c := range sheetColumns + 1 {
		x := (sheetLeft + float64(c)*cardWidth) * mm
		cv.line(x, y(top-cutMarkGap), x, y(top-cutMarkGap-cutMarkLength), 0.3)
		cv.line(x, y(bottom+cutMarkGap), x, y(bottom+cutMarkGap+cutMarkLength), 0.3)
	}
	for r := range sheetRows + 1 {
		v := y(sheetTop + float64(r)*cardHeight)
		cv.line((left-cutMarkGap)*mm, v, (left-cutMarkGap-cutMarkLength)*mm, v, 0.3)
		cv.line((right+cutMarkGap)*mm, v, (right+cutMarkGap+cutMarkLength)*mm, v, 0.3)
	}
}
