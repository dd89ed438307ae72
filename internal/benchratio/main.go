// Command benchratio reads `go test -bench` output on standard input and
// prints each benchmark's median time as a ratio to the baseline measured
// in the same run (BenchmarkEd25519Verify), with the targets of DESIGN.md.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
)

const baseline = "BenchmarkEd25519Verify"

// target is a DESIGN.md goal: num's time at most max times den's.
type target struct {
	what     string
	num, den string
	max      float64
}

var targets = []target{
	{"verify a QR card ≤ 1.3 × bare ed25519.Verify", "BenchmarkVerifyQR", baseline, 1.3},
	{"verify a VC-JWT ≤ 1.5 × bare ed25519.Verify", "BenchmarkVerifyJWT", baseline, 1.5},
	{"verify a VC-JWT ≥ 2 × faster than vc-go", "BenchmarkVerifyJWT", "BenchmarkVcGoParseJWT", 0.5},
	{"verify a Data Integrity credential ≤ 15 × bare ed25519.Verify", "BenchmarkVerifyDataIntegrity", baseline, 15},
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

func run(in io.Reader, out io.Writer) int {
	runs := map[string][]float64{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if _, seen := runs[m[1]]; !seen {
			order = append(order, m[1])
		}
		runs[m[1]] = append(runs[m[1]], ns)
	}
	med := map[string]float64{}
	for name, xs := range runs {
		sort.Float64s(xs)
		med[name] = xs[len(xs)/2]
	}
	base, ok := med[baseline]
	if !ok {
		fmt.Fprintf(out, "benchratio: no %s in the input\n", baseline)
		return 1
	}
	fmt.Fprintf(out, "\n%-32s %14s %10s\n", "benchmark (median of runs)", "ns/op", "× bare")
	for _, name := range order {
		fmt.Fprintf(out, "%-32s %14.0f %10.2f\n", name, med[name], med[name]/base)
	}
	fmt.Fprintln(out, "\nTargets (ratios measured in this run):")
	missed := 0
	for _, t := range targets {
		n, okN := med[t.num]
		d, okD := med[t.den]
		if !okN || !okD {
			fmt.Fprintf(out, "  ?    %s: not measured\n", t.what)
			continue
		}
		r := n / d
		verdict := "MET "
		if r > t.max {
			verdict = "MISS"
			missed++
		}
		if t.max < 1 {
			fmt.Fprintf(out, "  %s %s: %.1f × faster\n", verdict, t.what, 1/r)
		} else {
			fmt.Fprintf(out, "  %s %s: %.2f ×\n", verdict, t.what, r)
		}
	}
	if missed > 0 {
		return 1
	}
	return 0
}
