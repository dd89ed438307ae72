package scan

import (
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// readSlanted reads a code seen at a slant, where gozxing's own detector
// gives up. That detector guesses where the bottom-right alignment
// pattern is as if the code were a parallelogram, searches around the
// guess and takes the first pattern it finds: under a strong perspective
// the guess is several modules off, and what it finds is often a look-alike
// in the data. Here the three finder patterns gozxing found are kept, and
// every alignment pattern found in a grid of small regions around the
// guess is tried in turn, each with the code sizes the finder distances
// allow: the Reed-Solomon check of the decode tells the right one. The
// candidates are bounded: 121 regions and 5 code sizes.
func readSlanted(bits *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any) (string, bool) {
	info, err := detector.NewFinderPatternFinder(bits, nil).Find(hints)
	if err != nil {
		return "", false
	}
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	module := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if module < 1 || module > 1000 {
		return "", false
	}
	// The code's size in modules, from each side on its own (under a slant
	// the modules are not square) and from both.
	top := gozxing.ResultPoint_Distance(tl, tr) / ((tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize()) / 2)
	left := gozxing.ResultPoint_Distance(tl, bl) / ((tl.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 2)
	dims := codeSizes(top, left, (top+left)/2)
	// The module size near the bottom-right corner, where the alignment
	// pattern is: larger there when that corner is nearer the camera.
	brModule := min(max(tr.GetEstimatedModuleSize()+bl.GetEstimatedModuleSize()-tl.GetEstimatedModuleSize(), module/2), module*2)
	dec := decoder.NewDecoder()
	try := func(align *detector.AlignmentPattern, dim int) (string, bool) {
		transform := detector.Detector_createTransform(tl, tr, bl, align, dim)
		grid, err := detector.Detector_sampleGrid(bits, transform, dim)
		if err != nil {
			return "", false
		}
		res, err := dec.Decode(grid, hints)
		if err != nil || res.GetText() == "" {
			return "", false
		}
		return res.GetText(), true
	}
	tried := map[[3]int]bool{}
	for _, dim := range dims {
		// Where the alignment pattern would be on a parallelogram.
		span := float64(dim - 7)
		k := 1 - 3/span
		ex := tl.GetX() + k*(tr.GetX()-tl.GetX()+bl.GetX()-tl.GetX())
		ey := tl.GetY() + k*(tr.GetY()-tl.GetY()+bl.GetY()-tl.GetY())
		step := 6 * brModule
		for _, off := range slantOffsets {
			x0 := int(ex + off[0]*step - step/2 - brModule*2)
			y0 := int(ey + off[1]*step - step/2 - brModule*2)
			w := int(step + brModule*4)
			x0, y0 = max(x0, 0), max(y0, 0)
			w1, h1 := min(w, bits.GetWidth()-x0), min(w, bits.GetHeight()-y0)
			if float64(w1) < 3*brModule || float64(h1) < 3*brModule {
				continue
			}
			// Modules are not square under a slant: the finder checks the
			// pattern's size, so a few sizes are tried.
			for _, size := range []float64{brModule, 1.2 * brModule, 0.85 * brModule} {
				align, err := detector.NewAlignmentPatternFinder(bits, x0, y0, w1, h1, size, nil).Find()
				if err != nil || align == nil {
					continue
				}
				key := [3]int{int(align.GetX()), int(align.GetY()), dim}
				if tried[key] {
					continue
				}
				tried[key] = true
				if text, ok := try(align, dim); ok {
					return text, true
				}
			}
		}
		if text, ok := try(nil, dim); ok {
			return text, true
		}
	}
	return "", false
}

// slantOffsets are the regions searched for the alignment pattern, in
// steps of six modules from the parallelogram's guess, nearest first, up to
// 30 modules away.
var slantOffsets = func() [][2]float64 {
	var offs [][2]float64
	for r := 0; r <= 5; r++ {
		for dy := -r; dy <= r; dy++ {
			for dx := -r; dx <= r; dx++ {
				if max(abs(dx), abs(dy)) == r {
					offs = append(offs, [2]float64{float64(dx), float64(dy)})
				}
			}
		}
	}
	return offs
}()

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// codeSizes are the QR code sizes (17 + 4 × version modules) near the
// estimates of the distance between finder centres (in modules, which is
// the size less 7), nearest first, at most five.
func codeSizes(estimates ...float64) []int {
	type cand struct {
		dim  int
		dist float64
	}
	var cands []cand
	for v := 1; v <= 40; v++ {
		dim := 17 + 4*v
		d := math.Inf(1)
		for _, e := range estimates {
			d = math.Min(d, math.Abs(float64(dim-7)-e))
		}
		if d <= 6 {
			cands = append(cands, cand{dim, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var dims []int
	for _, c := range cands[:min(len(cands), 5)] {
		dims = append(dims, c.dim)
	}
	return dims
}
