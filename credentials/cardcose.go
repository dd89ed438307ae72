package credentials

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// The card's outer layers: the COSE_Sign1 envelope (RFC 9052 section 4.2),
// zlib, and the CBOR modes. Cards are signed and verified with go-cose; the
// envelope is decoded here, into structs, because go-cose decodes headers
// into generic maps, which would cost a verifier a tenth of its time. The
// signature still covers the protected header exactly as it was received.

// CBOR tags a card may start with.
const (
	tagCOSESign1 = 0xd2 // tag 18, COSE_Sign1
	cborArray4   = 0x84 // an untagged COSE_Sign1: an array of four items
)

// tagCWT is tag 61 (CWT), which some Claim 169 issuers put around tag 18.
var tagCWT = []byte{0xd8, 0x3d}

// COSE tags of messages that are not a COSE_Sign1 (RFC 9052 section 2),
// which a card may be but tally does not read.
const (
	tagCOSEEncrypt0 = 0xd0 // tag 16
	tagCOSEMac0     = 0xd1 // tag 17
)

// otherCOSE names the COSE messages tally does not read as cards, by their
// two-byte tags (96 COSE_Encrypt, 97 COSE_Mac, 98 COSE_Sign).
var otherCOSE = map[[2]byte]string{
	{0xd8, 0x60}: "an encrypted card (COSE_Encrypt): tally does not decrypt cards",
	{0xd8, 0x61}: "a MACed card (COSE_Mac), which only the holder of a shared key can check",
	{0xd8, 0x62}: "a card with several signatures (COSE_Sign)",
}

// coseSign1 is a COSE_Sign1: [protected, unprotected, payload, signature].
// The fields stay raw so that their major types can be checked: a Go []byte
// would also take an array of small integers.
type coseSign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   cbor.RawMessage
	Unprotected cbor.RawMessage
	Payload     bstr
	Signature   bstr
}

// coseHeader holds the header parameters a card uses.
type coseHeader struct {
	Alg  *int64          `cbor:"1,keyasint,omitempty"`
	Crit cbor.RawMessage `cbor:"2,keyasint,omitempty"`
	Kid  bstr            `cbor:"4,keyasint,omitempty"`
}

// bstr is a CBOR byte string. Unlike []byte it refuses other major types.
type bstr []byte

// UnmarshalCBOR implements cbor.Unmarshaler.
func (b *bstr) UnmarshalCBOR(data []byte) error {
	if len(data) == 0 || data[0]>>5 != 2 {
		return errors.New("cbor: expected a byte string")
	}
	return cardDecMode.Unmarshal(data, (*[]byte)(b))
}

// coseMessage is a decoded COSE_Sign1 with the parameters a card needs.
type coseMessage struct {
	rawProtected []byte // the protected header as received: a bstr item
	alg          cose.Algorithm
	kid          []byte
	payload      []byte
	signature    []byte
}

// decodeCOSESign1 reads a COSE_Sign1, tagged (18, optionally inside tag
// 61) or not. The protected header must name the algorithm; the key id is
// taken from the protected header, else the unprotected one.
func decodeCOSESign1(data []byte) (*coseMessage, error) {
	data = bytes.TrimPrefix(data, tagCWT)
	switch {
	case len(data) > 0 && data[0] == tagCOSESign1:
		data = data[1:]
	case len(data) > 0 && data[0] == tagCOSEEncrypt0:
		return nil, fmt.Errorf("card: an encrypted card (COSE_Encrypt0): tally does not decrypt cards: %w", ErrUnsupported)
	case len(data) > 0 && data[0] == tagCOSEMac0:
		return nil, fmt.Errorf("card: a MACed card (COSE_Mac0), which only the holder of a shared key can check: %w", ErrUnsupported)
	case len(data) > 1 && otherCOSE[[2]byte(data)] != "":
		return nil, fmt.Errorf("card: %s: %w", otherCOSE[[2]byte(data)], ErrUnsupported)
	}
	if len(data) == 0 || data[0] != cborArray4 {
		return nil, fmt.Errorf("card: not a COSE_Sign1 (an array of four items, tag 18): %w", ErrMalformed)
	}
	var raw coseSign1
	if err := cardDecMode.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("card: bad COSE_Sign1: %v: %w", err, ErrMalformed)
	}
	if raw.Protected[0]>>5 != 2 {
		return nil, fmt.Errorf("card: the COSE protected header is not a byte string: %w", ErrMalformed)
	}
	if raw.Unprotected[0]>>5 != 5 {
		return nil, fmt.Errorf("card: the COSE unprotected header is not a map: %w", ErrMalformed)
	}
	if raw.Payload == nil || raw.Signature == nil {
		return nil, fmt.Errorf("card: the COSE_Sign1 has no payload or no signature: %w", ErrMalformed)
	}
	var serialized []byte
	if err := cardDecMode.Unmarshal(raw.Protected, &serialized); err != nil {
		return nil, fmt.Errorf("card: bad COSE protected header: %v: %w", err, ErrMalformed)
	}
	if len(serialized) == 0 || serialized[0]>>5 != 5 {
		return nil, fmt.Errorf("card: the COSE protected header does not hold a map: %w", ErrMalformed)
	}
	var prot, unprot coseHeader
	if err := cardDecMode.Unmarshal(serialized, &prot); err != nil {
		return nil, fmt.Errorf("card: bad COSE protected header: %v: %w", err, ErrMalformed)
	}
	if err := cardDecMode.Unmarshal(raw.Unprotected, &unprot); err != nil {
		return nil, fmt.Errorf("card: bad COSE unprotected header: %v: %w", err, ErrMalformed)
	}
	if prot.Crit != nil || unprot.Crit != nil {
		return nil, fmt.Errorf("card: the COSE header marks parameters critical, and tally understands none: %w", ErrUnsupported)
	}
	if prot.Alg == nil {
		return nil, fmt.Errorf("card: the protected COSE header names no signature algorithm: %w", ErrMalformed)
	}
	if unprot.Alg != nil {
		return nil, fmt.Errorf("card: the algorithm is in the unprotected COSE header: %w", ErrMalformed)
	}
	m := &coseMessage{
		rawProtected: raw.Protected,
		alg:          cose.Algorithm(*prot.Alg),
		kid:          prot.Kid,
		payload:      raw.Payload,
		signature:    raw.Signature,
	}
	if m.kid == nil {
		m.kid = unprot.Kid
	}
	return m, nil
}

// verify checks the signature with go-cose: the Sig_structure over the
// protected header as received and the payload.
func (m *coseMessage) verify(v cose.Verifier) error {
	msg := cose.Sign1Message{
		Headers: cose.Headers{
			RawProtected: m.rawProtected,
			Protected:    cose.ProtectedHeader{cose.HeaderLabelAlgorithm: m.alg},
		},
		Payload:   m.payload,
		Signature: m.signature,
	}
	return msg.Verify(nil, v)
}

// Encoding and decoding modes of the card's CBOR. Decoding is strict: no
// duplicate map keys, no indefinite lengths, no tags inside the claims,
// valid UTF-8, and bounded nesting and sizes.
var (
	cardEncMode = mustEncMode(cbor.EncOptions{
		Sort:        cbor.SortCoreDeterministic,
		IndefLength: cbor.IndefLengthForbidden,
	})
	cardDecMode = mustDecMode(cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 256,
		MaxMapPairs:      256,
		UTF8:             cbor.UTF8RejectInvalid,
	})
)

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic("credentials: card CBOR encoding options: " + err.Error())
	}
	return m
}

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic("credentials: card CBOR decoding options: " + err.Error())
	}
	return m
}

// deflate wraps a card's COSE bytes in zlib, always as one stored
// (uncompressed) block. A compressed deflate stream ends at a bit boundary
// and decoders ignore the padding bits after it, so a changed character
// could carry the same signed card; a stored block has no bits a reader
// ignores (ParseCard checks its header's padding). Compression rarely
// shrinks a card anyway: most of its ~200 bytes are a signature, a seed
// and short names. ParseCard still reads compressed cards of other Claim
// 169 issuers.
func deflate(raw []byte) ([]byte, error) {
	if len(raw) > 0xffff {
		return nil, fmt.Errorf("card: %d bytes is more than a card can hold", len(raw))
	}
	return zlibStored(raw), nil
}

// zlibStoredOverhead is what zlibStored adds to its input: a 2-byte zlib
// header, a 5-byte stored block header and the 4-byte Adler-32.
const zlibStoredOverhead = 11

// zlibStored returns raw (at most 65,535 bytes) as a zlib stream holding one
// final stored deflate block (RFC 1951 section 3.2.4).
func zlibStored(raw []byte) []byte {
	n := uint16(len(raw))
	out := make([]byte, 0, len(raw)+zlibStoredOverhead)
	// CMF 0x78: deflate with a 32 KiB window; FLG 0x01: level "fastest",
	// which is what zlib writes for stored data, and the check bits that
	// make CMF*256+FLG a multiple of 31.
	out = append(out, zlibCMF, 0x01)
	// BFINAL=1, BTYPE=00 (stored), then LEN and its one's complement NLEN.
	out = append(out, 0x01, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	out = append(out, raw...)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(raw))
}

// cardBuffer holds the scratch space of one ParseCard call: the decoded
// base45 bytes, the inflated bytes, and a zlib reader to reuse.
type cardBuffer struct {
	b45 []byte
	out []byte
	src bytes.Reader
	zr  io.ReadCloser
}

// cardBuffers recycles parse buffers and zlib readers (zlib.NewReader
// allocates tens of kilobytes) across ParseCard calls.
var cardBuffers = sync.Pool{New: func() any { return &cardBuffer{} }}

func getCardBuffer() *cardBuffer { return cardBuffers.Get().(*cardBuffer) }

func putCardBuffer(b *cardBuffer) {
	if cap(b.b45) > 2*maxCardText || cap(b.out) > 8<<10 {
		return // do not keep a large buffer alive
	}
	b.src.Reset(nil)
	cardBuffers.Put(b)
}

// inflate decompresses a zlib stream of at most MaxCardSize bytes. The
// result is valid until the buffer is put back.
func (b *cardBuffer) inflate(z []byte) ([]byte, error) {
	if out, ok, err := unwrapStored(z); ok || err != nil {
		return out, err
	}
	b.src.Reset(z)
	var err error
	if b.zr == nil {
		b.zr, err = zlib.NewReader(&b.src)
	} else {
		err = b.zr.(zlib.Resetter).Reset(&b.src, nil)
	}
	if err != nil {
		b.zr = nil
		return nil, fmt.Errorf("card: bad zlib header: %v: %w", err, ErrMalformed)
	}
	out := b.out[:0]
	if cap(out) == 0 {
		out = make([]byte, 0, 512)
	}
	for {
		if len(out) == cap(out) {
			if len(out) > MaxCardSize {
				return nil, fmt.Errorf("card: inflates to more than %d bytes: %w", MaxCardSize, ErrMalformed)
			}
			out = append(out, 0)[:len(out)]
		}
		n, err := b.zr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("card: bad zlib data: %v: %w", err, ErrMalformed)
		}
	}
	if len(out) > MaxCardSize {
		return nil, fmt.Errorf("card: inflates to more than %d bytes: %w", MaxCardSize, ErrMalformed)
	}
	if b.src.Len() != 0 {
		return nil, fmt.Errorf("card: %d bytes follow the zlib stream: %w", b.src.Len(), ErrMalformed)
	}
	b.out = out
	return out, nil
}

// unwrapStored is inflate's fast path for the form deflate writes when a
// card does not compress: one final stored block. ok is false for any other
// stream, which compress/zlib then reads. The padding bits of the block
// header must be zero, so that no two texts carry the same card.
func unwrapStored(z []byte) (out []byte, ok bool, err error) {
	if len(z) < zlibStoredOverhead || z[1]&0x20 != 0 || z[2]&0x07 != 0x01 {
		return nil, false, nil
	}
	if z[2] != 0x01 {
		return nil, true, fmt.Errorf("card: the stored deflate block has padding bits set: %w", ErrMalformed)
	}
	n := int(binary.LittleEndian.Uint16(z[3:]))
	if binary.LittleEndian.Uint16(z[5:]) != ^uint16(n) {
		return nil, true, fmt.Errorf("card: the stored deflate block's length check fails: %w", ErrMalformed)
	}
	if len(z) != zlibStoredOverhead+n {
		return nil, true, fmt.Errorf("card: the zlib stream is %d bytes, but its stored block says %d: %w", len(z), zlibStoredOverhead+n, ErrMalformed)
	}
	out = z[7 : 7+n]
	if adler32.Checksum(out) != binary.BigEndian.Uint32(z[7+n:]) {
		return nil, true, fmt.Errorf("card: the zlib checksum does not match: %w", ErrMalformed)
	}
	return out, true, nil
}
