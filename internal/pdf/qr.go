package pdf

import (
	"errors"
	"fmt"
)

// This file is a QR code encoder (ISO/IEC 18004:2015) for error-correction
// level Q only, the level of the card profile (DESIGN.md). It exists because
// skip2/go-qrcode, which credentials.CardPNG uses, takes about 4 ms for one
// version-13 code (its Reed-Solomon code allocates a polynomial per step):
// 40 core-seconds for a batch of 10,000 cards. This one takes a few hundred
// microseconds. Its tests check that it draws exactly the module matrix
// skip2/go-qrcode draws for the same mask, and that gozxing reads it.

// qrBlocks describes the error-correction blocks of one QR version at level
// Q: every block has ec error-correction codewords; n1 blocks hold d1 data
// codewords and n2 blocks hold d1+1.
type qrBlocks struct{ ec, n1, d1, n2 int }

// qrLevelQ is ISO/IEC 18004 table 9 for level Q, versions 1 to 40.
var qrLevelQ = [41]qrBlocks{
	{},
	{13, 1, 13, 0}, {22, 1, 22, 0}, {18, 2, 17, 0}, {26, 2, 24, 0}, {18, 2, 15, 2},
	{24, 4, 19, 0}, {18, 2, 14, 4}, {22, 4, 18, 2}, {20, 4, 16, 4}, {24, 6, 19, 2},
	{28, 4, 22, 4}, {26, 4, 20, 6}, {24, 8, 20, 4}, {20, 11, 16, 5}, {30, 5, 24, 7},
	{24, 15, 19, 2}, {28, 1, 22, 15}, {28, 17, 22, 1}, {26, 17, 21, 4}, {30, 15, 24, 5},
	{28, 17, 22, 6}, {30, 7, 24, 16}, {30, 11, 24, 14}, {30, 11, 24, 16}, {30, 7, 24, 22},
	{28, 28, 22, 6}, {30, 8, 23, 26}, {30, 4, 24, 31}, {30, 1, 23, 37}, {30, 15, 24, 25},
	{30, 42, 24, 1}, {30, 10, 24, 35}, {30, 29, 24, 19}, {30, 44, 24, 7}, {30, 39, 24, 14},
	{30, 46, 24, 10}, {30, 49, 24, 10}, {30, 48, 24, 14}, {30, 43, 24, 22}, {30, 34, 24, 34},
}

func (b qrBlocks) dataCodewords() int { return b.n1*b.d1 + b.n2*(b.d1+1) }

// qrRawModules is the number of modules of a version that carry codewords
// (data, error correction and remainder bits): all but the function patterns.
func qrRawModules(version int) int {
	n := (16*version+128)*version + 64
	if version >= 2 {
		align := version/7 + 2
		n -= (25*align-10)*align - 55
		if version >= 7 {
			n -= 36
		}
	}
	return n
}

// errQRTooLong reports text that no QR version holds at level Q.
var errQRTooLong = errors.New("qr: the text does not fit a QR code at level Q")

// encodeQR encodes text as a QR code at level Q, in alphanumeric mode when
// every character is in that set (base45 text always is) and in byte mode
// otherwise, at the smallest version that holds it, with the mask of lowest
// penalty.
func encodeQR(text string) (*qrMatrix, error) {
	alnum := true
	for i := 0; i < len(text); i++ {
		if alnumValue(text[i]) < 0 {
			alnum = false
			break
		}
	}
	version := 0
	for v := 1; v <= 40; v++ {
		if qrDataBits(text, alnum, v) <= qrLevelQ[v].dataCodewords()*8 {
			version = v
			break
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("%w (%d characters)", errQRTooLong, len(text))
	}
	data := qrDataCodewords(text, alnum, version)
	codewords := qrInterleave(data, qrLevelQ[version])
	return qrDraw(version, codewords, -1), nil
}

// alnumValue is c's value in the alphanumeric set, or -1.
func alnumValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	switch c {
	case ' ':
		return 36
	case '$':
		return 37
	case '%':
		return 38
	case '*':
		return 39
	case '+':
		return 40
	case '-':
		return 41
	case '.':
		return 42
	case '/':
		return 43
	case ':':
		return 44
	}
	return -1
}

// qrCountBits is the width of the character count indicator.
func qrCountBits(alnum bool, version int) int {
	i := 0
	if version >= 27 {
		i = 2
	} else if version >= 10 {
		i = 1
	}
	if alnum {
		return [3]int{9, 11, 13}[i]
	}
	return [3]int{8, 16, 16}[i]
}

// qrDataBits is the length of the encoded segment: mode, count and data.
func qrDataBits(text string, alnum bool, version int) int {
	n := len(text)
	if alnum {
		return 4 + qrCountBits(true, version) + 11*(n/2) + 6*(n%2)
	}
	return 4 + qrCountBits(false, version) + 8*n
}

// bitWriter appends bits, most significant first.
type bitWriter struct {
	buf []byte
	n   int // bits written
}

func (w *bitWriter) write(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.buf[w.n/8] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

// qrDataCodewords encodes text as the data codewords of version: one
// segment, the terminator, and the pad bytes.
func qrDataCodewords(text string, alnum bool, version int) []byte {
	capacity := qrLevelQ[version].dataCodewords()
	w := bitWriter{buf: make([]byte, 0, capacity)}
	if alnum {
		w.write(0b0010, 4)
		w.write(uint32(len(text)), qrCountBits(true, version))
		i := 0
		for ; i+1 < len(text); i += 2 {
			w.write(uint32(alnumValue(text[i])*45+alnumValue(text[i+1])), 11)
		}
		if i < len(text) {
			w.write(uint32(alnumValue(text[i])), 6)
		}
	} else {
		w.write(0b0100, 4)
		w.write(uint32(len(text)), qrCountBits(false, version))
		for i := 0; i < len(text); i++ {
			w.write(uint32(text[i]), 8)
		}
	}
	w.write(0, min(4, capacity*8-w.n))
	if w.n%8 != 0 {
		w.write(0, 8-w.n%8)
	}
	for pad := byte(0xEC); len(w.buf) < capacity; pad ^= 0xEC ^ 0x11 {
		w.buf = append(w.buf, pad)
	}
	return w.buf
}

// qrInterleave splits data into blocks, appends each block's Reed-Solomon
// codewords, and interleaves them as the symbol carries them.
func qrInterleave(data []byte, b qrBlocks) []byte {
	n := b.n1 + b.n2
	divisor := rsDivisor(b.ec)
	blocks := make([][]byte, n)
	ecs := make([][]byte, n)
	off := 0
	for i := range n {
		size := b.d1
		if i >= b.n1 {
			size++
		}
		blocks[i] = data[off : off+size]
		off += size
		ecs[i] = rsRemainder(blocks[i], divisor)
	}
	out := make([]byte, 0, len(data)+n*b.ec)
	for i := 0; i <= b.d1; i++ {
		for _, blk := range blocks {
			if i < len(blk) {
				out = append(out, blk[i])
			}
		}
	}
	for i := 0; i < b.ec; i++ {
		for _, ec := range ecs {
			out = append(out, ec[i])
		}
	}
	return out
}

// gfExp and gfLog are the powers and logarithms of 2 in GF(256) modulo the
// QR code's polynomial x⁸+x⁴+x³+x²+1.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return exp, log
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsDivisor returns the generator polynomial of degree n, (x-1)(x-2)…(x-2ⁿ⁻¹),
// without its leading 1, highest power first.
func rsDivisor(n int) []byte {
	g := make([]byte, n)
	g[n-1] = 1
	root := byte(1)
	for range n {
		for j := range g {
			g[j] = gfMul(g[j], root)
			if j+1 < n {
				g[j] ^= g[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	return g
}

// rsRemainder returns the Reed-Solomon error-correction codewords of data.
func rsRemainder(data, divisor []byte) []byte {
	r := make([]byte, len(divisor))
	for _, d := range data {
		f := d ^ r[0]
		copy(r, r[1:])
		r[len(r)-1] = 0
		if f == 0 {
			continue
		}
		lf := int(gfLog[f])
		for i, g := range divisor {
			if g != 0 {
				r[i] ^= gfExp[int(gfLog[g])+lf]
			}
		}
	}
	return r
}
