package pdf

import (
	"fmt"
	"io"
	"runtime"
	"testing"
)

// benchCards issues n registration cards with varied names, a quarter of
// them Arabic, as a bulk import would: real signed QR payloads of about
// 340 base45 characters (QR version 13 at level Q).
func benchCards(b *testing.B, n int) []Card {
	k := testIssuer(b)
	first := []string{"Fatima", "Amina", "Cabdiraxmaan", "Hodan", "Jean-Baptiste", "Mohamed", "Asha", "Yusuf"}
	last := []string{"Hassan Abdi", "Maxamed Cumar", "Habimana", "Warsame Ali", "Nyirenda", "Osman"}
	arabic := []string{"فاطمة حسن عبدي", "محمد عثمان", "أمينة يوسف علي", "عبد الرحمن محمد"}
	langs := [][]string{{"en", "fr", "ar", "so"}, {"ar", "en"}, {"so", "en"}}
	cards := make([]Card, n)
	for i := range cards {
		name := fmt.Sprintf("%s %s", first[i%len(first)], last[i/len(first)%len(last)])
		if i%4 == 3 {
			name = arabic[i%len(arabic)]
		}
		c, text := issueTestCard(b, k, name)
		cards[i] = CardFor(c, text, "Dadaab Humanitarian Service Point", langs[i%len(langs)]...)
	}
	return cards
}

// BenchmarkPDF10000Cards prints 10,000 cards on A4 sheets to io.Discard:
// the PDF part of the issue's bulk target (10,000 rows to signed
// credentials and their PDF in 20 s on two cores).
func BenchmarkPDF10000Cards(b *testing.B) {
	cards := benchCards(b, 10000)
	chars := 0
	for _, c := range cards {
		chars += len(c.QR)
	}
	b.Logf("%d cards, %d base45 characters a card on average", len(cards), chars/len(cards))
	p, err := NewPrinter()
	if err != nil {
		b.Fatal(err)
	}
	var written countingWriter
	for b.Loop() {
		written = countingWriter{}
		s := p.NewSheetWriter(&written)
		for _, c := range cards {
			if err := s.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(written.n)/1e6, "MB-pdf")
	b.ReportMetric(float64(ms.HeapSys)/1e6, "MB-heap-sys")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return io.Discard.Write(p)
}
