package credentials

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// CardQRLevel is the error-correction level of a card's QR code: Q, which
// restores up to a quarter of the code (a worn, folded or stained card).
// skip2/go-qrcode calls it High.
const CardQRLevel = qrcode.High

// CardQRMaxVersion is the largest QR version a registration card may need
// (docs/qr-card.md): version 13 at level Q holds 352 base45 characters.
const CardQRMaxVersion = 13

// QRVersion returns the smallest QR code version (1 to 40) that holds text
// at error-correction level Q. Base45 text is all in the QR alphanumeric
// character set, so the encoder uses alphanumeric mode (11 bits per two
// characters) and may switch to numeric mode for long runs of digits.
func QRVersion(text string) (int, error) {
	q, err := qrcode.New(text, CardQRLevel)
	if err != nil {
		return 0, fmt.Errorf("qr: %w", err)
	}
	return q.VersionNumber, nil
}

// CardPNG draws a card's text as a QR code at level Q, size pixels wide
// (with the standard four-module quiet zone), as a PNG image.
func CardPNG(text string, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("qr: image size %d must be positive", size)
	}
	q, err := qrcode.New(text, CardQRLevel)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	png, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return png, nil
}
