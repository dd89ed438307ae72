// Package qrtest reads QR code images in tests, as a phone would.
package qrtest

import (
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Read decodes the QR code in img with gozxing, turning the image a quarter
// at a time until it reads: gozxing's finder-pattern search misses about
// one drawn code in a hundred in one orientation (their module matrices all
// decode), never in all four.
func Read(img image.Image) (*gozxing.Result, error) {
	var firstErr error
	for turn := range 4 {
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			return nil, err
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err == nil {
			return res, nil
		}
		if turn == 0 {
			firstErr = err
		}
		img = rotate(img)
	}
	return nil, firstErr
}

// rotate turns an image a quarter clockwise.
func rotate(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.Y-1-y, x-b.Min.X, img.At(x, y))
		}
	}
	return out
}
