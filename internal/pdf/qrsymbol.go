package pdf

import "math/bits"

// This file draws a QR symbol from its codewords: the function patterns,
// the zigzag placement, and the choice of mask. Rows and columns are bit
// sets, so scoring the eight masks costs a few bit operations per 64
// modules rather than a branch per module.

// qrRow is one row or column of modules, module i in bit i%64 of word
// i/64: 192 bits hold the 177 modules of version 40 and a quiet zone of 4
// on either side. It is a struct rather than an array so that the compiler
// keeps it in registers.
type qrRow struct{ w0, w1, w2 uint64 }

func (r *qrRow) word(i int) *uint64 {
	switch i >> 6 {
	case 0:
		return &r.w0
	case 1:
		return &r.w1
	default:
		return &r.w2
	}
}

func (r *qrRow) set(i int)           { *r.word(i) |= 1 << uint(i&63) }
func (r qrRow) has(i int) bool       { return *r.word(i)>>uint(i&63)&1 == 1 }
func (r qrRow) and(o qrRow) qrRow    { return qrRow{r.w0 & o.w0, r.w1 & o.w1, r.w2 & o.w2} }
func (r qrRow) xor(o qrRow) qrRow    { return qrRow{r.w0 ^ o.w0, r.w1 ^ o.w1, r.w2 ^ o.w2} }
func (r qrRow) not() qrRow           { return qrRow{^r.w0, ^r.w1, ^r.w2} }
func (r qrRow) andNot(o qrRow) qrRow { return qrRow{r.w0 &^ o.w0, r.w1 &^ o.w1, r.w2 &^ o.w2} }
func (r qrRow) count() int {
	return bits.OnesCount64(r.w0) + bits.OnesCount64(r.w1) + bits.OnesCount64(r.w2)
}

// next shifts by k modules (1 ≤ k < 64) so that module i holds module i+k.
func (r qrRow) next(k uint) qrRow {
	return qrRow{r.w0>>k | r.w1<<(64-k), r.w1>>k | r.w2<<(64-k), r.w2 >> k}
}

// prev shifts by k modules (1 ≤ k < 64) so that module i holds module i-k.
func (r qrRow) prev(k uint) qrRow {
	return qrRow{r.w0 << k, r.w1<<k | r.w0>>(64-k), r.w2<<k | r.w1>>(64-k)}
}

// qrFirst returns the row whose first n modules are set.
func qrFirst(n int) qrRow {
	var r qrRow
	for i := 0; i < n; i++ {
		r.set(i)
	}
	return r
}

// qrMatrix is a QR code's module matrix, without its quiet zone.
type qrMatrix struct {
	size int
	rows []qrRow
}

func (m *qrMatrix) at(x, y int) bool { return m.rows[y].has(x) }

// qrMaskRows holds each mask's pattern: row y of mask k is
// qrMaskRows[k][y%12], as the patterns repeat every 6 columns and every
// 12 rows; qrMaskColumns[k][x%6] is column x.
var qrMaskRows, qrMaskColumns = func() (rows [8][12]qrRow, cols [8][6]qrRow) {
	for k := range 8 {
		for i := range 192 {
			for j := range 12 {
				if qrMaskBit(k, i, j) {
					rows[k][j].set(i)
				}
				if j < 6 && qrMaskBit(k, j, i) {
					cols[k][j].set(i)
				}
			}
		}
	}
	return rows, cols
}()

// qrMaskBit reports whether mask k inverts the module at column x, row y
// (ISO/IEC 18004 table 10).
func qrMaskBit(k, x, y int) bool {
	switch k {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// qrDraw places the function patterns and the codewords of a version, and
// applies mask (0 to 7), or the mask of lowest penalty when mask is -1.
func qrDraw(version int, codewords []byte, mask int) *qrMatrix {
	size := 4*version + 17
	dark := make([]bool, size*size)
	fn := make([]bool, size*size)
	set := func(x, y int, d bool) {
		dark[y*size+x] = d
		fn[y*size+x] = true
	}
	// Timing patterns, then finders (with their separators) over them.
	for i := range size {
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	for _, c := range [3][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || x >= size || y < 0 || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	align := qrAlignment(version)
	for i, ay := range align {
		for j, ax := range align {
			if (i == 0 && j == 0) || (i == 0 && j == len(align)-1) || (i == len(align)-1 && j == 0) {
				continue // under a finder pattern
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(ax+dx, ay+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// The format areas are drawn for each mask; the dark module is fixed.
	qrFormatModules(size, func(_, x, y int) { set(x, y, false) })
	set(8, size-8, true)
	if version >= 7 {
		rem := version
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := version<<12 | rem
		for i := range 18 {
			d := bits>>uint(i)&1 == 1
			a, b := size-11+i%3, i/3
			set(a, b, d)
			set(b, a, d)
		}
	}
	// Codewords, in the two-column zigzag from the bottom right corner.
	i := 0
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range size {
			for j := range 2 {
				x := right - j
				y := vert
				if (right+1)&2 == 0 {
					y = size - 1 - vert
				}
				if fn[y*size+x] || i >= len(codewords)*8 {
					continue
				}
				dark[y*size+x] = codewords[i>>3]>>(7-uint(i&7))&1 == 1
				i++
			}
		}
	}
	s := newQRSymbol(size, dark, fn)
	if mask < 0 {
		best := -1
		for k := range 8 {
			if p := s.penalty(k); best < 0 || p < best {
				best, mask = p, k
			}
		}
	}
	m := &qrMatrix{size: size, rows: make([]qrRow, size)}
	s.masked(mask, m.rows, nil)
	return m
}

// qrSymbol is a drawn symbol before masking, as rows and as columns, with
// the function modules apart.
type qrSymbol struct {
	size               int
	rows, rowFn        []qrRow
	cols, colFn        []qrRow
	scratchR, scratchC []qrRow
}

func newQRSymbol(size int, dark, fn []bool) *qrSymbol {
	s := &qrSymbol{size: size}
	for _, p := range []*[]qrRow{&s.rows, &s.rowFn, &s.cols, &s.colFn, &s.scratchR, &s.scratchC} {
		*p = make([]qrRow, size)
	}
	// Modules past the edge count as function modules, so no mask
	// darkens them.
	outside := qrFirst(size).not()
	for i := range size {
		s.rowFn[i], s.colFn[i] = outside, outside
	}
	for y := range size {
		for x := range size {
			if dark[y*size+x] {
				s.rows[y].set(x)
				s.cols[x].set(y)
			}
			if fn[y*size+x] {
				s.rowFn[y].set(x)
				s.colFn[x].set(y)
			}
		}
	}
	return s
}

// masked writes the symbol under mask k, with its format information, as
// rows, and as columns when cols is not nil.
func (s *qrSymbol) masked(k int, rows, cols []qrRow) {
	for y := range s.size {
		rows[y] = s.rows[y].xor(qrMaskRows[k][y%12].andNot(s.rowFn[y]))
	}
	if cols != nil {
		for x := range s.size {
			cols[x] = s.cols[x].xor(qrMaskColumns[k][x%6].andNot(s.colFn[x]))
		}
	}
	bits := qrFormatBits(k)
	qrFormatModules(s.size, func(i, x, y int) {
		if bits>>uint(i)&1 == 1 {
			rows[y].set(x)
			if cols != nil {
				cols[x].set(y)
			}
		}
	})
}

// penalty scores the symbol under mask k.
func (s *qrSymbol) penalty(k int) int {
	s.masked(k, s.scratchR, s.scratchC)
	return qrScore(s.size, s.scratchR, s.scratchC)
}

// qrScore scores a masked symbol, given as rows and as columns, by the four
// rules of ISO/IEC 18004 section 7.8.3: runs of one colour, 2×2 blocks,
// finder-like patterns, and the balance of dark and light.
func qrScore(size int, rows, cols []qrRow) int {
	p := 0
	dark := 0
	valid, pairs := qrFirst(size-4), qrFirst(size-1)
	for y, row := range rows {
		p += qrLinePenalty(row, valid) + qrLinePenalty(cols[y], valid)
		dark += row.count()
		if y+1 < size {
			// Rule 2: each 2×2 block of one colour.
			vertical := row.xor(rows[y+1]).not()
			horizontal := row.xor(row.next(1)).not()
			p += 3 * horizontal.and(vertical).and(vertical.next(1)).and(pairs).count()
		}
	}
	total := size * size
	k := (abs(dark*20-total*10)+total-1)/total - 1
	return p + max(k, 0)*10
}

// qrLinePenalty scores one row or column for rules 1 and 3; valid holds
// the first n-4 modules of a line of n.
func qrLinePenalty(line, valid qrRow) int {
	// Rule 1: a run of L ≥ 5 modules of one colour scores L-2. It holds
	// L-4 windows of five equal modules, one of which starts the run.
	same := line.xor(line.next(1)).not() // module i equals module i+1
	five := same.and(same.next(1)).and(same.next(2)).and(same.next(3)).and(valid)
	starts := five.andNot(same.prev(1))
	p := five.count() + 2*starts.count()
	// Rule 3: dark-light-dark³-light-dark with four light modules before
	// or after it, each 40; outside the symbol counts as light. Module i
	// of p0 is module i-4 of the line.
	p0 := line.prev(4)
	p1, p2, p3, p4, p5 := p0.next(1), p0.next(2), p0.next(3), p0.next(4), p0.next(5)
	p6, p7, p8, p9, p10 := p0.next(6), p0.next(7), p0.next(8), p0.next(9), p0.next(10)
	after := p4.andNot(p5).and(p6).and(p7).and(p8).andNot(p9).and(p10)
	after = after.andNot(p0).andNot(p1).andNot(p2).andNot(p3)
	before := p0.andNot(p1).and(p2).and(p3).and(p4).andNot(p5).and(p6)
	before = before.andNot(p7).andNot(p8).andNot(p9).andNot(p10)
	return p + 40*(after.count()+before.count())
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// qrAlignment lists the centre coordinates of a version's alignment patterns.
func qrAlignment(version int) []int {
	if version == 1 {
		return nil
	}
	n := version/7 + 2
	step := (version*8 + n*3 + 5) / (n*4 - 4) * 2
	pos := make([]int, n)
	pos[0] = 6
	for i, p := n-1, 4*version+10; i >= 1; i, p = i-1, p-step {
		pos[i] = p
	}
	return pos
}

// qrFormatBits is the 15-bit format information of level Q with mask k.
func qrFormatBits(k int) int {
	const levelQ = 0b11
	data := levelQ<<3 | k
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	return (data<<10 | rem) ^ 0x5412
}

// qrFormatModules calls f with each format information bit's index and its
// two places in a symbol of size modules.
func qrFormatModules(size int, f func(i, x, y int)) {
	for i := range 6 {
		f(i, 8, i)
	}
	f(6, 8, 7)
	f(7, 8, 8)
	f(8, 7, 8)
	for i := 9; i < 15; i++ {
		f(i, 14-i, 8)
	}
	for i := range 8 {
		f(i, size-1-i, 8)
	}
	for i := 8; i < 15; i++ {
		f(i, 8, size-15+i)
	}
}
