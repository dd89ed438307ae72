// Package scan reads the QR code of a tally card (or of any QR code) from
// what a verifier's scanning page receives: a camera frame or a photo
// (JPEG, PNG, WebP or GIF), or a PDF. It decodes with gozxing
// (ISO/IEC 18004) and makes the decode robust on real frames by trying, in
// order and stopping at the first success, several views of one image:
// its luminance at a working size, two binarizers (hybrid and global
// histogram), a contrast stretch, a smaller and a smoothed copy, turns of
// 90° and 45°, and enlarged crops for a small code in a large frame.
//
// Images come from untrusted users, so the work per image is bounded: the
// input's size in bytes, the decoded image's pixels (read from the header
// before anything is decoded), the number of attempts and a deadline.
// A PDF is read with no external program and no PDF library: a code drawn
// as filled rectangles (as tally's own cards and sheets draw it) is painted
// back into an image, and JPEG, grey and RGB page images are decoded
// (pdf.go). docs/scanning.md says what the scanner accepts and its limits.
//
// It is an adapter with no HTTP: the verifier service's scanning route
// calls it, and web/static/scan.js sends it camera frames.
package scan
