package registry

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Report is the reconciliation of two agencies' token lists of one
// domain: how many people both served, per month and pair of programmes.
// It holds counts only, never a token.
type Report struct {
	Domain string
	// A and B name the two agencies.
	A, B string
	// Rows has one row per month both lists cover and pair of programmes
	// of that month, by month then programmes.
	Rows []ReportRow
	// TokensA and TokensB count the distinct tokens of each list; Overlap
	// those in both, whatever the programme and month.
	TokensA, TokensB, Overlap int
}

// ReportRow is the overlap of one programme of A and one of B in one
// month.
type ReportRow struct {
	Month      Month
	ProgrammeA string
	ProgrammeB string
	// TokensA is the number of A's tokens in ProgrammeA that month,
	// TokensB of B's in ProgrammeB, Overlap of tokens in both.
	TokensA, TokensB, Overlap int
}

// ReportHeader is the first line of a reconciliation report in CSV.
const ReportHeader = "month,programme_a,programme_b,tokens_a,tokens_b,overlap"

type period struct {
	month     Month
	programme string
}

// Reconcile compares two token lists of one domain. a and b name the
// agencies in the report. An empty programme is written as it is (no
// programme).
func Reconcile(a string, la List, b string, lb List) (*Report, error) {
	if la.Domain != lb.Domain {
		return nil, invalid("domain", "the lists are of two domains, %q and %q: tokens of two domains never match", la.Domain, lb.Domain)
	}
	if a == b {
		return nil, invalid("agencies", "both lists are named %q: name the two agencies apart", a)
	}
	r := &Report{Domain: la.Domain, A: a, B: b}
	// B's programmes of each token and month.
	type tokenMonth struct {
		token string
		month Month
	}
	inB := map[tokenMonth][]string{}
	countB := map[period]int{}
	tokensB := map[string]bool{}
	monthsB := map[Month]bool{}
	for _, row := range lb.Rows {
		k := tokenMonth{row.Token, row.Month}
		if !slices.Contains(inB[k], row.Programme) {
			inB[k] = append(inB[k], row.Programme)
			countB[period{row.Month, row.Programme}]++
		}
		tokensB[row.Token] = true
		monthsB[row.Month] = true
	}
	type pair struct {
		month  Month
		pa, pb string
	}
	overlap := map[pair]int{}
	countA := map[period]int{}
	tokensA := map[string]bool{}
	seenA := map[ListRow]bool{}
	for _, row := range la.Rows {
		key := row
		key.Count = 0
		if seenA[key] {
			continue
		}
		seenA[key] = true
		tokensA[row.Token] = true
		countA[period{row.Month, row.Programme}]++
		for _, pb := range inB[tokenMonth{row.Token, row.Month}] {
			overlap[pair{row.Month, row.Programme, pb}]++
		}
	}
	r.TokensA, r.TokensB = len(tokensA), len(tokensB)
	for t := range tokensA {
		if tokensB[t] {
			r.Overlap++
		}
	}
	// Every pair of programmes of a month both lists cover: a zero says
	// the month was compared and no one was in both.
	byMonthB := map[Month][]string{}
	for p := range countB {
		byMonthB[p.month] = append(byMonthB[p.month], p.programme)
	}
	for pa, na := range countA {
		if !monthsB[pa.month] {
			continue
		}
		for _, pb := range byMonthB[pa.month] {
			r.Rows = append(r.Rows, ReportRow{Month: pa.month, ProgrammeA: pa.programme, ProgrammeB: pb,
				TokensA: na, TokensB: countB[period{pa.month, pb}], Overlap: overlap[pair{pa.month, pa.programme, pb}]})
		}
	}
	slices.SortFunc(r.Rows, func(x, y ReportRow) int {
		return cmp.Or(strings.Compare(string(x.Month), string(y.Month)), strings.Compare(x.ProgrammeA, y.ProgrammeA), strings.Compare(x.ProgrammeB, y.ProgrammeB))
	})
	return r, nil
}

// WriteCSV writes the report's rows under ReportHeader.
func (r *Report) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(ReportHeader + "\n")
	for _, row := range r.Rows {
		// Months and programme codes need no quoting.
		fmt.Fprintf(bw, "%s,%s,%s,%s,%s,%s\n", row.Month, row.ProgrammeA, row.ProgrammeB,
			strconv.Itoa(row.TokensA), strconv.Itoa(row.TokensB), strconv.Itoa(row.Overlap))
	}
	return bw.Flush()
}
