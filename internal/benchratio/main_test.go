package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkEd25519Verify-2   	   20000	     50000 ns/op	       0 B/op
BenchmarkEd25519Verify-2   	   20000	     52000 ns/op	       0 B/op
BenchmarkEd25519Verify-2   	   20000	     90000 ns/op	       0 B/op
BenchmarkVerifyQR-2        	   20000	     60000 ns/op	    2500 B/op
BenchmarkVerifyJWT-2       	   20000	     80000 ns/op	    9000 B/op
BenchmarkVcGoParseJWT-2    	    4000	    300000 ns/op	  106000 B/op
PASS
`

func TestRatios(t *testing.T) {
	var out bytes.Buffer
	code := run(strings.NewReader(sample), &out)
	got := out.String()
	// The median baseline is 52000 (the outlier 90000 is ignored).
	for _, want := range []string{
		"BenchmarkVerifyQR                         60000       1.15",
		"MET  verify a QR card ≤ 1.3 × bare ed25519.Verify: 1.15 ×",
		"MISS verify a VC-JWT ≤ 1.5 × bare ed25519.Verify: 1.54 ×",
		"MET  verify a VC-JWT ≥ 2 × faster than vc-go: 3.8 × faster",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if code != 1 {
		t.Fatalf("a missed target exits %d, want 1", code)
	}
	if run(strings.NewReader("PASS\n"), &out) != 1 {
		t.Fatal("input without the baseline was accepted")
	}
}
