package scan

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// A PDF is read without a PDF library or an external program, and without
// rendering fonts: what this reader looks for is a QR code, which PDF
// writers put on a page in one of two ways.
//
//   - As vectors: filled rectangles (the "re" and "f" operators of
//     ISO 32000-1 section 8.5), as tally's own cards and sheets draw it.
//     The filled rectangles of each content stream are painted into a
//     grey image, each cluster of dark rectangles (one code) on its own.
//   - As an image: a JPEG (DCTDecode) image stream, or an 8-bit grey or
//     RGB FlateDecode one, decoded like any photo.
//
// The streams are found by their "stream" keyword, so cross-reference
// streams and object streams (PDF 1.5) are no obstacle; an encrypted
// PDF, a code drawn as curves or another kind of image is not read, and
// says so. Work is bounded: the bytes inflated per stream and per file,
// the operators interpreted, the shapes painted, the pixels of each
// rendering, and the attempts and deadline of the decoder.

// Limits of the PDF reader.
const (
	maxStreamInflated = 16 << 20 // one stream, once inflated
	maxFileInflated   = 48 << 20 // all the streams of one file
	maxOperators      = 2_000_000
	maxShapes         = 400_000
	maxStreams        = 4096
	maxGraphicsDepth  = 64
	pdfModulePixels   = 6         // pixels per module of a rendered code
	maxRenderPixels   = 6_000_000 // of one rendered code
)

// ErrPDFNoCode reports a PDF in which no QR code was read.
var ErrPDFNoCode = errors.New("scan: no QR code was found in the PDF (only codes drawn as filled rectangles or as JPEG, grey or RGB images are read; an encrypted PDF is not)")

// pdfStream is one stream object of a PDF: its dictionary's text and its
// raw (still encoded) data.
type pdfStream struct {
	dict []byte
	data []byte
}

var (
	reStreamKeyword = regexp.MustCompile(`>>\s*stream(\r\n|\n|\r)`)
	reLength        = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)
	reIntEntry      = func(name string) *regexp.Regexp { return regexp.MustCompile(`/` + name + `\s+(\d+)\b`) }
	reWidth         = reIntEntry("Width")
	reHeight        = reIntEntry("Height")
	reBits          = reIntEntry("BitsPerComponent")
)

// pdfStreams finds the stream objects of a PDF.
func pdfStreams(data []byte) []pdfStream {
	var out []pdfStream
	for _, m := range reStreamKeyword.FindAllIndex(data, maxStreams) {
		dictEnd := bytes.LastIndex(data[:m[1]], []byte(">>")) + 2
		start := matchingDictStart(data, dictEnd-1)
		if start < 0 {
			continue
		}
		dict := data[start:dictEnd]
		body := data[m[1]:]
		n := -1
		if l := reLength.FindSubmatch(dict); l != nil && len(l[2]) == 0 {
			if v, err := strconv.Atoi(string(l[1])); err == nil && v <= len(body) {
				n = v
			}
		}
		if n < 0 || !bytes.HasPrefix(bytes.TrimLeft(body[n:], "\r\n \t"), []byte("endstream")) {
			end := bytes.Index(body, []byte("endstream"))
			if end < 0 {
				continue
			}
			n = len(bytes.TrimRight(body[:end], "\r\n"))
		}
		out = append(out, pdfStream{dict: dict, data: body[:n]})
	}
	return out
}

// matchingDictStart returns where the dictionary ending with the ">>" at
// end (its last byte) starts, or -1.
func matchingDictStart(data []byte, end int) int {
	depth := 0
	for i := end; i > 0; i-- {
		switch {
		case data[i] == '>' && data[i-1] == '>':
			depth++
			i--
		case data[i] == '<' && data[i-1] == '<':
			depth--
			i--
			if depth == 0 {
				return i
			}
		}
		if end-i > 8<<10 { // no stream dictionary is that long
			return -1
		}
	}
	return -1
}

// has reports whether a dictionary has the name /key followed by /value
// (or by "[ /value", an array of filters), or just /key when value is
// empty. Names are compared whole.
func has(dict []byte, key, value string) bool {
	k := []byte("/" + key)
	for i := 0; ; {
		j := bytes.Index(dict[i:], k)
		if j < 0 {
			return false
		}
		rest := dict[i+j+len(k):]
		i += j + len(k)
		if len(rest) > 0 && !isSpace(rest[0]) && !isDelim(rest[0]) {
			continue // a longer name: /Length1 is not /Length
		}
		if value == "" {
			return true
		}
		rest = bytes.TrimLeft(rest, " \t\r\n\f\x00[")
		v := []byte("/" + value)
		if bytes.HasPrefix(rest, v) && (len(rest) == len(v) || isSpace(rest[len(v)]) || isDelim(rest[len(v)])) {
			return true
		}
	}
}

// inflater inflates streams within the file's budget.
type inflater struct{ left int64 }

var errInflated = errors.New("scan: the PDF is too large once decompressed")

func (f *inflater) inflate(data []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	limit := min(f.left, maxStreamInflated)
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if int64(len(out)) > limit {
		return nil, errInflated
	}
	f.left -= int64(len(out))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return out, nil // a truncated stream is read as far as it goes
}

// decodePDF reads the first QR code of a PDF: vector codes first (they
// read at once), then images.
func (d *Decoder) decodePDF(ctx context.Context, data []byte) (*Result, error) {
	if bytes.Contains(data, []byte("/Encrypt")) {
		return nil, fmt.Errorf("%w (it is encrypted)", ErrPDFNoCode)
	}
	streams := pdfStreams(data)
	bud := &budget{left: d.opts.MaxAttempts}
	inf := &inflater{left: maxFileInflated}
	var images []pdfStream
	for _, s := range streams {
		if has(s.dict, "Subtype", "Image") {
			images = append(images, s)
			continue
		}
		isContent := !has(s.dict, "Length1", "") &&
			(has(s.dict, "Subtype", "Form") || !has(s.dict, "Type", "") && !has(s.dict, "Subtype", ""))
		if !isContent {
			continue // fonts, cross-reference and object streams, metadata
		}
		content := s.data
		if has(s.dict, "Filter", "FlateDecode") {
			var err error
			if content, err = inf.inflate(s.data); err != nil {
				if errors.Is(err, errInflated) {
					return nil, err
				}
				continue
			}
		} else if has(s.dict, "Filter", "") {
			continue
		}
		for _, p := range paintVectors(ctx, content, d.opts.MaxPixels) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w (%d attempts)", ErrGaveUp, bud.used)
			}
			if res, err := d.decodePlane(ctx, p, bud); err == nil {
				return res, nil
			}
			if bud.left <= 0 {
				return nil, fmt.Errorf("%w (%d attempts)", ErrPDFNoCode, bud.used)
			}
		}
	}
	for _, s := range images {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%d attempts)", ErrGaveUp, bud.used)
		}
		p, err := d.pdfImage(s, inf)
		if errors.Is(err, errInflated) {
			return nil, err
		}
		if err != nil || p == nil {
			continue
		}
		if res, err := d.decodePlane(ctx, p, bud); err == nil {
			return res, nil
		}
		if bud.left <= 0 {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w (%d attempts)", ErrGaveUp, bud.used)
	}
	return nil, fmt.Errorf("%w (%d attempts)", ErrPDFNoCode, bud.used)
}

// pdfImage decodes an image stream to a plane: a JPEG, or 8-bit grey or
// RGB samples compressed with FlateDecode and no predictor.
func (d *Decoder) pdfImage(s pdfStream, inf *inflater) (*plane, error) {
	switch {
	case has(s.dict, "Filter", "DCTDecode"):
		img, err := d.readImage(s.data)
		if err != nil {
			return nil, err
		}
		return grey(img), nil
	case has(s.dict, "Filter", "FlateDecode") && !has(s.dict, "DecodeParms", ""):
		w, h, bits := dictInt(s.dict, reWidth), dictInt(s.dict, reHeight), dictInt(s.dict, reBits)
		channels := 0
		switch {
		case has(s.dict, "ColorSpace", "DeviceGray"):
			channels = 1
		case has(s.dict, "ColorSpace", "DeviceRGB"):
			channels = 3
		}
		if bits != 8 || channels == 0 || d.checkSize(w, h) != nil {
			return nil, nil
		}
		raw, err := inf.inflate(s.data)
		if err != nil {
			return nil, err
		}
		if len(raw) < w*h*channels {
			return nil, nil
		}
		p := newPlane(w, h)
		for i := range p.pix {
			if channels == 1 {
				p.pix[i] = raw[i]
			} else {
				p.pix[i] = byte(luma(uint32(raw[3*i]), uint32(raw[3*i+1]), uint32(raw[3*i+2])))
			}
		}
		return p, nil
	}
	return nil, nil
}

// dictInt is a direct integer entry of a dictionary, or 0.
func dictInt(dict []byte, re *regexp.Regexp) int {
	m := re.FindSubmatch(dict)
	if m == nil {
		return 0
	}
	v, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return 0
	}
	return v
}
