package bulk

import (
	"fmt"
	"time"
)

// Format is the kind of file Open found: it looks at the bytes, not at the
// file's name.
type Format int

// The formats Open reads.
const (
	FormatCSV Format = iota + 1
	FormatXLSX
)

// String returns CSV or XLSX.
func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "CSV"
	case FormatXLSX:
		return "XLSX"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Encoding is the character encoding of a CSV file.
//
// How Open decides, for a file whose caller left Options.Encoding as
// EncodingAuto:
//
//  1. A byte order mark wins: UTF-8, UTF-16 LE or UTF-16 BE.
//  2. A file that is valid UTF-8 is UTF-8 (plain ASCII included).
//  3. A file with no byte order mark whose even or odd bytes are nearly all
//     zero is UTF-16 (BE or LE).
//  4. Otherwise, looking at the bytes above 0x7F: when nearly all of them
//     are Arabic letters in Windows-1256 and most stand next to another
//     one (Arabic words are written wholly in such bytes), the file is
//     Windows-1256; when nearly all stand alone between ASCII letters and
//     are Latin letters in Windows-1252 (é in "Prénom"), it is
//     Windows-1252.
//  5. Anything else is refused (ReasonUnknownEncoding): the officer saves
//     the file as "CSV UTF-8", or says which encoding it is.
//
// A caller that names an encoding is believed, unless a byte order mark
// says otherwise.
type Encoding int

// The encodings Open reads.
const (
	EncodingAuto Encoding = iota
	EncodingUTF8
	EncodingUTF16LE
	EncodingUTF16BE
	EncodingWindows1256
	EncodingWindows1252
)

// String returns the encoding's usual name.
func (e Encoding) String() string {
	switch e {
	case EncodingAuto:
		return "auto"
	case EncodingUTF8:
		return "UTF-8"
	case EncodingUTF16LE:
		return "UTF-16LE"
	case EncodingUTF16BE:
		return "UTF-16BE"
	case EncodingWindows1256:
		return "Windows-1256"
	case EncodingWindows1252:
		return "Windows-1252"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// DateOrder says how to read a date like 03/04/1991, whose first two
// numbers could each be the day or the month.
type DateOrder int

// The date orders. With DateOrderUnknown, a date written with slashes is
// read only when it is unambiguous: 14/03/1991 (the 14 can only be a day),
// 03/14/1991, or 05/05/1991; 03/04/1991 is refused with
// ReasonDateAmbiguous.
const (
	DateOrderUnknown DateOrder = iota
	DayFirst                   // DD/MM/YYYY
	MonthFirst                 // MM/DD/YYYY
)

// String returns unknown, day-first or month-first.
func (o DateOrder) String() string {
	switch o {
	case DateOrderUnknown:
		return "unknown"
	case DayFirst:
		return "day-first"
	case MonthFirst:
		return "month-first"
	}
	return fmt.Sprintf("DateOrder(%d)", int(o))
}

// Limits bound what one file may cost to read. A zero field takes its
// default.
type Limits struct {
	// MaxFileBytes bounds the file's size (default 32 MiB: about 250,000
	// rows of CSV like the sample).
	MaxFileBytes int64
	// MaxRows bounds the rows of data, blank rows aside (default 100,000).
	MaxRows int
	// MaxColumns bounds the columns that hold anything (default 256).
	MaxColumns int
	// MaxCellBytes bounds one cell, in bytes of UTF-8 (default 32 KiB, about
	// Excel's own limit of 32,767 characters).
	MaxCellBytes int
	// MaxUnzippedBytes bounds what an XLSX file may unpack to, counting
	// each part tally reads: the workbook, its relationships, styles,
	// shared strings and the sheet (default 128 MiB). It is checked against
	// the sizes the zip declares before anything is unpacked, and enforced
	// while unpacking, so a zip bomb costs nothing.
	//
	// Reading a CSV file holds one row at a time. Reading an XLSX file
	// holds its shared strings (at most about MaxUnzippedBytes) and
	// archive/zip's list of its parts (at most a few hundred bytes per 47
	// bytes of file).
	MaxUnzippedBytes int64
}

// The default limits.
const (
	DefaultMaxFileBytes     = 32 << 20
	DefaultMaxRows          = 100_000
	DefaultMaxColumns       = 256
	DefaultMaxCellBytes     = 32 << 10
	DefaultMaxUnzippedBytes = 128 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxRows == 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxColumns == 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxCellBytes == 0 {
		l.MaxCellBytes = DefaultMaxCellBytes
	}
	if l.MaxUnzippedBytes == 0 {
		l.MaxUnzippedBytes = DefaultMaxUnzippedBytes
	}
	return l
}

// Options says how to read a file. The zero value reads any file tally
// supports with the default limits.
type Options struct {
	// Encoding of a CSV file; EncodingAuto detects it (see Encoding).
	Encoding Encoding
	// Sheet names the XLSX sheet to read; empty means the first visible one.
	Sheet string
	// DateOrder reads dates like 03/04/1991; see DateOrder.
	DateOrder DateOrder
	// Now is today, for refusing dates of birth in the future; time.Now
	// when nil.
	Now func() time.Time
	// Limits bound the cost of reading the file.
	Limits Limits
}

// Validate says which option is out of range.
func (o Options) Validate() error {
	if o.Encoding < EncodingAuto || o.Encoding > EncodingWindows1252 {
		return fmt.Errorf("bulk: unknown encoding %d", int(o.Encoding))
	}
	if o.DateOrder < DateOrderUnknown || o.DateOrder > MonthFirst {
		return fmt.Errorf("bulk: unknown date order %d", int(o.DateOrder))
	}
	l := o.Limits
	if l.MaxFileBytes < 0 || l.MaxRows < 0 || l.MaxColumns < 0 || l.MaxCellBytes < 0 || l.MaxUnzippedBytes < 0 {
		return fmt.Errorf("bulk: a limit is negative")
	}
	return nil
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
