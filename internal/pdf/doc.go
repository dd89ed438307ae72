// Package pdf prints QR cards as PDF: one ID-1 card (ISO/IEC 7810,
// 85.6 × 54 mm) per page, or A4 sheets of cards with cut marks for a batch.
// The QR code is drawn as vectors at error-correction level Q, as the card
// profile asks (docs/qr-card.md), and the text is shaped with
// go-text/typesetting, so Arabic letters join and run right to left. The
// fonts are embedded in the binary. docs/printing.md describes the layout.
//
// It is an adapter: it imports credentials, never the other way round.
package pdf
