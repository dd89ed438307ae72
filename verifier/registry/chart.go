package registry

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ChartLabels are the words of a reconciliation chart, from the message
// catalogue of the reader's language (web/messages, keys registry_chart_*).
// Each is a fmt format; %[n]s and %[n]d let a translation reorder them.
type ChartLabels struct {
	// Title: %[1]s and %[2]s are the agencies, %[3]s the domain.
	Title string
	// Summary: %[1]s A, %[2]d A's tokens, %[3]s B, %[4]d B's tokens,
	// %[5]d tokens in both.
	Summary string
	// Bar: %[1]s the month, %[2]s A's programme, %[3]s B's programme.
	Bar string
	// Value: %[1]d tokens in both, %[2]d A's tokens, %[3]d B's tokens.
	Value string
	// Empty is shown when no token is in both lists in any month.
	Empty string
	// More: %[1]d rows left out of the chart (they are in the CSV report).
	More string
	// NoProgramme names the tokens scanned under no programme.
	NoProgramme string
	// RTL lays the chart out right to left (Arabic).
	RTL bool
}

// EnglishChartLabels are the labels of web/messages/en.json, for callers
// without a catalogue.
func EnglishChartLabels() ChartLabels {
	return ChartLabels{
		Title:       "People served by both %[1]s and %[2]s (domain %[3]s)",
		Summary:     "%[1]s: %[2]d tokens · %[3]s: %[4]d tokens · in both: %[5]d",
		Bar:         "%[1]s · %[2]s ↔ %[3]s",
		Value:       "%[1]d in both (of %[2]d and %[3]d)",
		Empty:       "No token is in both lists in any month they share.",
		More:        "%[1]d more rows in the CSV report",
		NoProgramme: "(no programme)",
	}
}

// Layout of the chart, in SVG user units. The chart is narrow, so that a
// phone shows it at nearly its size and its words stay readable: each
// bar's label sits on its own line above the bar, and the title and the
// summary wrap.
const (
	chartWidth    = 360
	chartMargin   = 12
	chartValueW   = 160
	chartLabelH   = 17
	chartBarH     = 14
	chartRowH     = chartLabelH + chartBarH + 11
	chartLineH    = 19
	maxChartBars  = 40
	chartFontSize = 13
	// Characters per line of the title (15 units) and the summary (13),
	// for the width of an average glyph.
	chartTitleRunes   = 40
	chartSummaryRunes = 48
)

// SVG draws the report as a bar chart, one bar per month and pair of
// programmes with someone in both lists (at most 40; the CSV has every
// row), as a standalone SVG document with no script. It works offline
// and prints.
func (r *Report) SVG(l ChartLabels) []byte {
	var bars []ReportRow
	maxOverlap := 0
	for _, row := range r.Rows {
		if row.Overlap > 0 {
			bars = append(bars, row)
			maxOverlap = max(maxOverlap, row.Overlap)
		}
	}
	more := 0
	if len(bars) > maxChartBars {
		more = len(bars) - maxChartBars
		bars = bars[:maxChartBars]
	}
	title := fmt.Sprintf(l.Title, r.A, r.B, r.Domain)
	titleLines := wrap(title, chartTitleRunes)
	summaryLines := wrap(fmt.Sprintf(l.Summary, r.A, r.TokensA, r.B, r.TokensB, r.Overlap), chartSummaryRunes)
	top := chartMargin + (len(titleLines)+len(summaryLines))*chartLineH + 8
	rows := max(len(bars), 1)
	height := top + rows*chartRowH + chartMargin
	if more > 0 {
		height += chartLineH
	}

	// x mirrors a position for right-to-left charts. Text anchors stay
	// "start" and "end": under direction="rtl" they mean the right and the
	// left end of the text.
	x := func(pos, width int) int {
		if l.RTL {
			return chartWidth - pos - width
		}
		return pos
	}
	start, dir := "start", "ltr"
	if l.RTL {
		dir = "rtl"
	}
	programme := func(p string) string {
		if p == "" {
			return l.NoProgramme
		}
		return p
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" direction="%s" font-family="sans-serif" font-size="%d" role="img">`+"\n",
		chartWidth, height, chartWidth, height, dir, chartFontSize)
	b.WriteString("<title>")
	escape(&b, title)
	b.WriteString("</title>\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	y := chartMargin + 14
	for _, line := range titleLines {
		text(&b, x(chartMargin, 0), y, start, `font-size="15" font-weight="bold"`, line)
		y += chartLineH
	}
	for _, line := range summaryLines {
		text(&b, x(chartMargin, 0), y, start, `fill="#444444"`, line)
		y += chartLineH
	}

	barMax := chartWidth - 2*chartMargin - chartValueW
	if len(bars) == 0 {
		text(&b, x(chartMargin, 0), top+chartLabelH, start, "", l.Empty)
	}
	for i, row := range bars {
		y := top + i*chartRowH
		text(&b, x(chartMargin, 0), y+chartLabelH-4, start, "", fmt.Sprintf(l.Bar, row.Month, programme(row.ProgrammeA), programme(row.ProgrammeB)))
		w := max(row.Overlap*barMax/maxOverlap, 2)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#1f6feb"/>`+"\n", x(chartMargin, w), y+chartLabelH, w, chartBarH)
		text(&b, x(chartMargin+w+6, 0), y+chartLabelH+chartBarH-3, start, `font-size="12"`, fmt.Sprintf(l.Value, row.Overlap, row.TokensA, row.TokensB))
	}
	if more > 0 {
		text(&b, x(chartMargin, 0), top+len(bars)*chartRowH+chartLabelH, start, `fill="#444444"`, fmt.Sprintf(l.More, more))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// wrap breaks s into lines of at most n runes, at spaces; a word longer
// than a line stays whole on its own.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// text writes one text element; attrs are fixed attributes, s is escaped.
func text(b *bytes.Buffer, x, y int, anchor, attrs, s string) {
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="%s"`, x, y, anchor)
	if attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(">")
	escape(b, s)
	b.WriteString("</text>\n")
}

func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }
