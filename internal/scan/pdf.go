package scan

import (
	"context"
	"fmt"
)

// decodePDF reads the first QR code on a PDF's pages.
func (d *Decoder) decodePDF(ctx context.Context, data []byte) (*Result, error) {
	return nil, fmt.Errorf("%w: PDF", errNoSupport)
}
