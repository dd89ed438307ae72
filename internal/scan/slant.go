package scan

import (
	"math"

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
// candidates are bounded (at most slantRegions × 3 grids sampled).
func readSlanted(bits *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any) (string, bool) {
	info, err := detector.NewFinderPatternFinder(bits, nil).Find(hints)
	if err != nil {
		return "", false
	}
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	module := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if module < 1 {
		return "", false
	}
	across := (gozxing.ResultPoint_Distance(tl, tr) + gozxing.ResultPoint_Distance(tl, bl)) / 2 / module
	dims := codeSizes(across)
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
	for _, dim := range dims {
		// Where the alignment pattern would be on a parallelogram.
		span := float64(dim - 7)
		k := 1 - 3/span
		ex := tl.GetX() + k*(tr.GetX()-tl.GetX()+bl.GetX()-tl.GetX())
		ey := tl.GetY() + k*(tr.GetY()-tl.GetY()+bl.GetY()-tl.GetY())
		step := 6 * module
		for _, off := range slantOffsets {
			x0 := int(ex + off[0]*step - step/2 - module*2)
			y0 := int(ey + off[1]*step - step/2 - module*2)
			w := int(step + module*4)
			x0, y0 = max(x0, 0), max(y0, 0)
			w1, h1 := min(w, bits.GetWidth()-x0), min(w, bits.GetHeight()-y0)
			if float64(w1) < 3*module || float64(h1) < 3*module {
				continue
			}
			align, err := detector.NewAlignmentPatternFinder(bits, x0, y0, w1, h1, module, nil).Find()
			if err != nil || align == nil {
				continue
			}
			if text, ok := try(align, dim); ok {
				return text, true
			}
		}
		if text, ok := try(nil, dim); ok {
			return text, true
		}
	}
	return "", false
}

// slantOffsets are the regions searched for the alignment pattern, in
// steps of six modules from the parallelogram's guess, nearest first.
var slantOffsets = func() [][2]float64 {
	var offs [][2]float64
	for r := 0; r <= 3; r++ {
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

// codeSizes are the QR code sizes (17 + 4 × version modules) nearest to a
// distance of across modules between finder centres, nearest first.
func codeSizes(across float64) []int {
	est := int(math.Round(across)) + 7
	best := est - (est-17)%4 // at or below
	if est-best > 2 {
		best += 4
	}
	var dims []int
	for _, d := range []int{best, best + 4, best - 4} {
		if d >= 21 && d <= 177 {
			dims = append(dims, d)
		}
	}
	return dims
}
