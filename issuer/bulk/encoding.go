package bulk

import (
	"bytes"
	"io"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// textStats are what the encoding heuristics look at, gathered in one pass
// over the file.
type textStats struct {
	size int64
	// invalidAt is the offset of the first byte that is not UTF-8, or -1.
	invalidAt int64
	// invalidLine is the line of that byte.
	invalidLine int
	// zeroEven and zeroOdd count the zero bytes at even and odd offsets.
	zeroEven, zeroOdd int64
	// high counts the bytes above 0x7F; paired those with such a byte
	// beside them; arabic those that are Arabic in Windows-1256; latin
	// those that are Latin letters in Windows-1252.
	high, paired, arabic, latin int64
}

// scanText reads the whole file once for the statistics its encoding is
// told from.
func scanText(r io.Reader) (st textStats, err error) {
	st.invalidAt = -1
	st.invalidLine = 1
	buf := make([]byte, 64<<10)
	var carry []byte // the start of a rune cut at the end of the last chunk
	var prevHigh bool
	var pending bool // the last byte was high and not yet counted as paired
	for {
		n, rerr := r.Read(buf)
		chunk := buf[:n]
		for i, b := range chunk {
			off := st.size + int64(i)
			if b == 0 {
				if off%2 == 0 {
					st.zeroEven++
				} else {
					st.zeroOdd++
				}
			}
			if b == '\n' && st.invalidAt < 0 {
				st.invalidLine++
			}
			high := b >= 0x80
			if high {
				st.high++
				if unicode.Is(unicode.Arabic, charmap.Windows1256.DecodeByte(b)) {
					st.arabic++
				}
				if r := charmap.Windows1252.DecodeByte(b); unicode.IsLetter(r) && unicode.Is(unicode.Latin, r) {
					st.latin++
				}
				if prevHigh {
					st.paired++
					if pending {
						st.paired++
					}
					pending = false
				} else {
					pending = true
				}
			} else {
				pending = false
			}
			prevHigh = high
		}
		if st.invalidAt < 0 {
			data := chunk
			if len(carry) > 0 {
				data = append(carry, chunk...)
			}
			valid, rest := utf8Prefix(data, rerr != nil)
			if rest < 0 {
				st.invalidAt = st.size + int64(n) - int64(len(data)-valid)
				// Lines were counted up to the chunk's end: count back.
				st.invalidLine -= bytes.Count(data[valid:], []byte{'\n'})
			} else {
				carry = append(carry[:0], data[rest:]...)
			}
		}
		st.size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return st, rerr
		}
	}
	return st, nil
}

// utf8Prefix checks data as UTF-8. It returns how many bytes are valid and,
// when all are valid but a rune may be cut at the end (and more data
// follows), the offset where the cut rune starts; rest is -1 when data holds
// a byte that is not UTF-8.
func utf8Prefix(data []byte, last bool) (valid, rest int) {
	i := 0
	for i < len(data) {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			if !last && !utf8.FullRune(data[i:]) {
				return i, i
			}
			return i, -1
		}
		i += size
	}
	return i, len(data)
}

// detectEncoding decides a CSV file's encoding (see Encoding) from its
// first bytes and its statistics. It returns the encoding and the length of
// its byte order mark.
func detectEncoding(head []byte, st textStats, want Encoding) (Encoding, int, error) {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		return checkUTF8(EncodingUTF8, 3, st)
	case bytes.HasPrefix(head, bomUTF16LE):
		return EncodingUTF16LE, 2, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return EncodingUTF16BE, 2, nil
	case want == EncodingUTF8:
		return checkUTF8(EncodingUTF8, 0, st)
	case want != EncodingAuto:
		return want, 0, nil
	}
	// Text never holds a zero byte; UTF-16 of mostly Latin text holds one
	// in every other byte.
	if half := st.size / 2; half > 0 {
		switch {
		case st.zeroOdd*10 >= half*4 && st.zeroEven*20 < half:
			return EncodingUTF16LE, 0, nil
		case st.zeroEven*10 >= half*4 && st.zeroOdd*20 < half:
			return EncodingUTF16BE, 0, nil
		}
	}
	if st.invalidAt < 0 {
		return EncodingUTF8, 0, nil
	}
	if st.high > 0 {
		// Arabic words are written wholly in high bytes, nearly all of them
		// Arabic letters in Windows-1256.
		if st.arabic*10 >= st.high*9 && st.paired*10 >= st.high*6 {
			return EncodingWindows1256, 0, nil
		}
		// French accents stand alone among ASCII letters.
		if st.latin*10 >= st.high*9 && st.paired*10 <= st.high*2 {
			return EncodingWindows1252, 0, nil
		}
	}
	return 0, 0, fileError(ReasonUnknownEncoding, 0, Column{}, "")
}

func checkUTF8(enc Encoding, bom int, st textStats) (Encoding, int, error) {
	if st.invalidAt >= 0 {
		return 0, 0, fileError(ReasonBadEncoding, st.invalidLine, Column{}, "UTF-8")
	}
	return enc, bom, nil
}

// decoder turns the file's bytes into UTF-8.
func decoder(r io.Reader, enc Encoding) io.Reader {
	switch enc {
	case EncodingUTF16LE:
		return transform.NewReader(r, xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM).NewDecoder())
	case EncodingUTF16BE:
		return transform.NewReader(r, xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM).NewDecoder())
	case EncodingWindows1256:
		return transform.NewReader(r, charmap.Windows1256.NewDecoder())
	case EncodingWindows1252:
		return transform.NewReader(r, charmap.Windows1252.NewDecoder())
	}
	return r
}

// crToLF reads a file whose lines end in a lone CR (old Mac exports) as one
// whose lines end in LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
