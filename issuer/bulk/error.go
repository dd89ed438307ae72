package bulk

import (
	"fmt"
	"strings"
)

// Reason says what is wrong, for callers to switch on. The first group is
// about the whole file (Open refuses it, and nothing is issued); the second
// about one row (the row is reported, the others go on).
type Reason int

// Reasons that refuse the whole file.
const (
	ReasonFileTooLarge      Reason = iota + 1 // over Limits.MaxFileBytes
	ReasonTooManyRows                         // over Limits.MaxRows
	ReasonTooManyColumns                      // a row fills more than Limits.MaxColumns
	ReasonCellTooLong                         // a cell over Limits.MaxCellBytes
	ReasonUnzippedTooLarge                    // an XLSX unpacks to over Limits.MaxUnzippedBytes
	ReasonUnknownEncoding                     // not UTF-8, and no confident guess
	ReasonBadEncoding                         // bytes that are not text in the file's encoding
	ReasonMalformedCSV                        // quotes out of place
	ReasonMalformedXLSX                       // a damaged workbook
	ReasonUnsupportedFormat                   // .xls, encrypted, .ods, .xlsb
	ReasonNoSheet                             // no such sheet, or no sheet at all
	ReasonNoHeader                            // an empty file
	ReasonMissingColumn                       // a claim a registration needs has no column
	ReasonDuplicateColumn                     // two columns hold the same claim
)

// Reasons about one row.
const (
	ReasonMissingValue   Reason = iota + 100 // a value a registration needs is empty
	ReasonDate                               // not a date tally reads
	ReasonDateAmbiguous                      // 03/04/1991 with no date order
	ReasonDateOutOfRange                     // a date of birth in the future or before 1900
	ReasonGender                             // not a gender word tally knows
	ReasonCountry                            // not an ISO 3166 country code
	ReasonLanguage                           // not an ISO 639 language code
	ReasonNumber                             // not a whole number in range
	ReasonDigitsLost                         // a long number Excel rounded
	ReasonFormulaError                       // #N/A, #REF! and the like
	ReasonDuplicateRow                       // the same person as an earlier line
	ReasonInvalid                            // the credentials package's validation refused the value
)

var reasonNames = map[Reason]string{
	ReasonFileTooLarge:      "file-too-large",
	ReasonTooManyRows:       "too-many-rows",
	ReasonTooManyColumns:    "too-many-columns",
	ReasonCellTooLong:       "cell-too-long",
	ReasonUnzippedTooLarge:  "unzipped-too-large",
	ReasonUnknownEncoding:   "unknown-encoding",
	ReasonBadEncoding:       "bad-encoding",
	ReasonMalformedCSV:      "malformed-csv",
	ReasonMalformedXLSX:     "malformed-xlsx",
	ReasonUnsupportedFormat: "unsupported-format",
	ReasonNoSheet:           "no-sheet",
	ReasonNoHeader:          "no-header",
	ReasonMissingColumn:     "missing-column",
	ReasonDuplicateColumn:   "duplicate-column",
	ReasonMissingValue:      "missing-value",
	ReasonDate:              "date",
	ReasonDateAmbiguous:     "date-ambiguous",
	ReasonDateOutOfRange:    "date-out-of-range",
	ReasonGender:            "gender",
	ReasonCountry:           "country",
	ReasonLanguage:          "language",
	ReasonNumber:            "number",
	ReasonDigitsLost:        "digits-lost",
	ReasonFormulaError:      "formula-error",
	ReasonDuplicateRow:      "duplicate-row",
	ReasonInvalid:           "invalid",
}

// String returns the reason's stable name, like "date-ambiguous".
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// FileLevel reports whether the reason refuses the whole file.
func (r Reason) FileLevel() bool { return r < ReasonMissingValue }

// Error is one problem: with the file, or with one cell or row. It never
// holds a cell's value.
type Error struct {
	Reason Reason
	// Line is the line a spreadsheet shows (the header is line 1), or 0
	// when the problem is not on one line.
	Line int
	// Column is the column the problem is in; its Letter is empty when the
	// problem is not in one column.
	Column Column
	// Claim is the credentialSubject claim concerned, like "dateOfBirth",
	// or empty.
	Claim string
	// Other is the earlier line a duplicate row repeats, or the column
	// index a duplicate column repeats.
	Other int
	// Detail says more, in plain words that quote no value: the
	// credentials package's words for ReasonInvalid, the part of the
	// workbook for ReasonMalformedXLSX, the limit for limits.
	Detail string
}

// Error says where and what, then what to do: `line 7, column E ("Date of
// birth"): could be read day-first or month-first: write it as YYYY-MM-DD, ...`.
func (e *Error) Error() string {
	var b strings.Builder
	var where []string
	if e.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", e.Line))
	}
	if e.Column.Letter != "" {
		where = append(where, "column "+e.Column.String())
	} else if e.Claim != "" && !e.Reason.FileLevel() {
		where = append(where, claimLabel(e.Claim))
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(": ")
	}
	b.WriteString(e.message())
	return b.String()
}

func (e *Error) message() string {
	label := claimLabel(e.Claim)
	switch e.Reason {
	case ReasonFileTooLarge:
		return fmt.Sprintf("the file is larger than %s: split it into smaller files", e.Detail)
	case ReasonTooManyRows:
		return fmt.Sprintf("the file has more than %s rows: split it into smaller files", e.Detail)
	case ReasonTooManyColumns:
		return fmt.Sprintf("the row fills more than %s columns: remove the columns that are not needed", e.Detail)
	case ReasonCellTooLong:
		return fmt.Sprintf("the cell is longer than %s; in a CSV file this is often a quote mark (\") that opens a cell and is never closed", e.Detail)
	case ReasonUnzippedTooLarge:
		return fmt.Sprintf("the workbook unpacks to more than %s: keep only the sheet to import, or save it as CSV UTF-8", e.Detail)
	case ReasonUnknownEncoding:
		return "the file is not UTF-8 and tally cannot tell its encoding: in Excel, save it as \"CSV UTF-8\", or choose its encoding (Windows-1256 for Arabic, Windows-1252 for French)"
	case ReasonBadEncoding:
		return fmt.Sprintf("the text is not valid %s: save the file again as \"CSV UTF-8\", or choose its encoding", e.Detail)
	case ReasonMalformedCSV:
		return fmt.Sprintf("%s: a cell that holds a comma, a quote or a line break must be between quotes (\"), and a quote inside it written twice (\"\")", e.Detail)
	case ReasonMalformedXLSX:
		return fmt.Sprintf("the workbook is damaged (%s): open it in Excel and save it again as .xlsx, or as CSV UTF-8", e.Detail)
	case ReasonUnsupportedFormat:
		return fmt.Sprintf("this is %s, which tally does not read: save it as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8", e.Detail)
	case ReasonNoSheet:
		return e.Detail
	case ReasonNoHeader:
		return "the file has no header: its first line must name the columns (see the sample file)"
	case ReasonMissingColumn:
		spec, _ := lookupSpec(e.Claim)
		return fmt.Sprintf("no column holds the %s: add a column named %q, or tagged %s in an HXL row", label, spec.header, spec.tag)
	case ReasonDuplicateColumn:
		return fmt.Sprintf("this column and column %s both hold the %s: keep one of them", columnLetter(e.Other), label)
	case ReasonMissingValue:
		return "is empty, and a registration needs it: fill it in"
	case ReasonDate:
		return "is not a date tally can read" + e.detail() + ": write it as YYYY-MM-DD (1991-03-14), as DD/MM/YYYY, or the year alone (1991) when only that is known"
	case ReasonDateAmbiguous:
		return "could be read day-first or month-first: write it as YYYY-MM-DD, or import the file again saying whether its dates are day-first or month-first"
	case ReasonDateOutOfRange:
		return "is in the future or before 1900: check the date (are the day and the month swapped?)"
	case ReasonGender:
		return "is not a gender tally knows: write female, male or other, or leave it empty"
	case ReasonCountry:
		return "is not a country code: write the two-letter ISO code, like SO for Somalia or KE for Kenya"
	case ReasonLanguage:
		return "is not a language code: write the ISO 639 code, like som for Somali or ar for Arabic"
	case ReasonNumber:
		return "is not a whole number from 0 to 200: write the number, like 5"
	case ReasonDigitsLost:
		return "is a long number that Excel has rounded, so digits are lost: format the column as Text, type the values again, and save"
	case ReasonFormulaError:
		return "holds a formula error (like #N/A or #REF!): correct the formula, or type the value"
	case ReasonDuplicateRow:
		if e.Claim == "registrationId" {
			return fmt.Sprintf("has the same registration ID as line %d: each person once in a file; remove or correct one of the rows", e.Other)
		}
		return fmt.Sprintf("repeats line %d: remove one of the rows", e.Other)
	case ReasonInvalid:
		return e.Detail
	}
	return e.Reason.String()
}

func (e *Error) detail() string {
	if e.Detail == "" {
		return ""
	}
	return " (" + e.Detail + ")"
}

// FileError refuses a whole file: Open returns it with every problem it
// found in the header, or with the first problem in the rest of the file.
// errors.As finds each *Error in it.
type FileError struct {
	Problems []*Error
}

// Error lists the problems, one per line.
func (e *FileError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return "the file cannot be imported: " + strings.Join(parts, "\n")
}

// Unwrap returns the problems, for errors.As and errors.Is.
func (e *FileError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// fileError is a FileError of one problem.
func fileError(reason Reason, line int, col Column, detail string) *FileError {
	return &FileError{Problems: []*Error{{Reason: reason, Line: line, Column: col, Detail: detail}}}
}

// sizeWords writes a byte limit in plain words: 64 MB, 32 KB, 900 bytes.
func sizeWords(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
