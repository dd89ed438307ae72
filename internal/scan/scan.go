package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"time"

	"golang.org/x/image/webp"
)

// Defaults of Options.
const (
	// DefaultMaxBytes is the largest file read: a phone photo, with room
	// to spare.
	DefaultMaxBytes = 12 << 20
	// DefaultMaxPixels is the largest image decoded: a 24-megapixel photo
	// (6000 × 4000), about 36 MB while it is decoded.
	DefaultMaxPixels = 24_000_000
	// DefaultMaxAttempts is how many views of one image are tried.
	DefaultMaxAttempts = 24
	// DefaultTimeout bounds the work on one file.
	DefaultTimeout = 3 * time.Second
)

// Options bound the work done on one file. The zero value of a field
// means its default.
type Options struct {
	MaxBytes    int64
	MaxPixels   int
	MaxAttempts int
	Timeout     time.Duration
}

// Validate names a bad value.
func (o Options) Validate() error {
	switch {
	case o.MaxBytes < 0:
		return fmt.Errorf("scan: MaxBytes %d must not be negative", o.MaxBytes)
	case o.MaxPixels < 0:
		return fmt.Errorf("scan: MaxPixels %d must not be negative", o.MaxPixels)
	case o.MaxAttempts < 0:
		return fmt.Errorf("scan: MaxAttempts %d must not be negative", o.MaxAttempts)
	case o.Timeout < 0:
		return fmt.Errorf("scan: Timeout %s must not be negative", o.Timeout)
	}
	return nil
}

// Errors a decode returns, wrapped; each message is plain words a page
// can show after its own translation.
var (
	ErrEmpty    = errors.New("scan: the file is empty")
	ErrTooLarge = errors.New("scan: the file is too large")
	ErrTooBig   = errors.New("scan: the image has too many pixels")
	ErrFormat   = errors.New("scan: the file is not a JPEG, PNG, WebP or GIF image")
	ErrBadFile  = errors.New("scan: the file is damaged and cannot be read")
	ErrNoCode   = errors.New("scan: no QR code could be read")
	ErrGaveUp   = errors.New("scan: no QR code was read in the time allowed")
	ErrPDF      = errors.New("scan: a PDF cannot be read yet; send a photo or a screenshot of the card instead")
)

// Decoder reads QR codes from files. It is safe for concurrent use.
type Decoder struct {
	opts Options
}

// New returns a decoder bounded by opts.
func New(opts Options) (*Decoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxPixels == 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Decoder{opts: opts}, nil
}

// Result is a QR code read.
type Result struct {
	// Text is the code's content, as encoded.
	Text string
	// View names the view of the image that read, e.g. "base/hybrid".
	View string
	// Attempts counts the views tried, the one that read included.
	Attempts int
}

// Decode reads the first QR code found in data: a JPEG, PNG, WebP or GIF
// image, or a PDF (its codes drawn as rectangles or embedded as images). It stops at the deadline of ctx or the decoder's
// timeout, whichever comes first.
func (d *Decoder) Decode(ctx context.Context, data []byte) (*Result, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if int64(len(data)) > d.opts.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), d.opts.MaxBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return d.decodePDF(ctx, data)
	}
	img, err := d.readImage(data)
	if err != nil {
		return nil, err
	}
	return d.decode(ctx, img, &budget{left: d.opts.MaxAttempts})
}

// DecodeImage reads the first QR code found in an image already decoded.
func (d *Decoder) DecodeImage(ctx context.Context, img image.Image) (*Result, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, ErrEmpty
	}
	if b.Dx() > d.opts.MaxPixels/b.Dy() {
		return nil, fmt.Errorf("%w: %d × %d", ErrTooBig, b.Dx(), b.Dy())
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	return d.decode(ctx, img, &budget{left: d.opts.MaxAttempts})
}

// imageFormat is a decoder of one image format.
type imageFormat struct {
	config func(*bytes.Reader) (image.Config, error)
	decode func(*bytes.Reader) (image.Image, error)
}

// formatOf tells the format from the file's first bytes, not from a name
// or a media type the sender chose.
func formatOf(data []byte) (imageFormat, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return imageFormat{
			func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) },
			func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) },
		}, true
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return imageFormat{
			func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) },
			func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) },
		}, true
	case bytes.HasPrefix(data, []byte("GIF8")):
		return imageFormat{
			func(r *bytes.Reader) (image.Config, error) { return gif.DecodeConfig(r) },
			func(r *bytes.Reader) (image.Image, error) { return gif.Decode(r) },
		}, true
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return imageFormat{
			func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) },
			func(r *bytes.Reader) (image.Image, error) { return webp.Decode(r) },
		}, true
	}
	return imageFormat{}, false
}

// readImage decodes an image file, after checking from its header that
// its pixels are within bounds.
func (d *Decoder) readImage(data []byte) (image.Image, error) {
	f, ok := formatOf(data)
	if !ok {
		return nil, ErrFormat
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrBadFile, err)
	}
	if err := d.checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrBadFile, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%w (its size changed while it was read)", ErrBadFile)
	}
	return img, nil
}

// checkSize refuses an image of no pixels or of more than MaxPixels.
func (d *Decoder) checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w (it has no pixels)", ErrBadFile)
	}
	if w > d.opts.MaxPixels/h {
		return fmt.Errorf("%w: %d × %d, at most %d pixels", ErrTooBig, w, h, d.opts.MaxPixels)
	}
	return nil
}

// budget is the number of attempts left for one file (all its pages).
type budget struct {
	left, used int
}
