// Package bulk reads spreadsheets of people to register — CSV and XLSX
// exports of Excel, LibreOffice, KoBoToolbox and the like — into draft
// registration credentials, one row at a time, with every bad row explained.
//
// It is the reading half of bulk issuance: Open checks the whole file's
// shape (encoding, delimiter, columns, limits) before a single row is handed
// out, Sheet.Rows streams the rows as drafts with their progress, and
// Sheet.DryRun lists every bad row without issuing anything. Signing the
// drafts (credentials.Prepare, then a format) and remembering which rows
// were issued belong to the caller: each good row carries a stable Key for
// that.
//
// What it reads:
//
//   - CSV (RFC 4180, as encoding/csv reads it) in UTF-8 with or without a
//     byte order mark, UTF-16 LE or BE, Windows-1256 (Arabic Excel) and
//     Windows-1252 (French Excel). A byte order mark is believed first;
//     then the caller's Options.Encoding; then a file that is valid UTF-8
//     is UTF-8; then a heuristic that must be confident (see Encoding).
//     The delimiter — comma, semicolon or tab — is the one that occurs
//     most in the header row, unless the file starts with Excel's
//     "sep=X" line.
//   - XLSX (ECMA-376 SpreadsheetML, transitional or strict): the first
//     visible sheet, or the one Options.Sheet names, read on archive/zip
//     and encoding/xml with shared strings, inline strings, and cells
//     formatted as dates turned from Excel serial numbers (1900 or 1904
//     date system) into dates.
//
// Columns are matched to claims by an HXL hashtag row (https://hxlstandard.org)
// when there is one, else by their header, in English, French or Arabic,
// ignoring case, accents, spaces and punctuation. Line numbers are those a
// spreadsheet shows: the header is line 1.
//
// Nothing here quotes a cell's value in an error: values are personal data,
// and errors end up in logs. An error names the line, the column and what
// to do.
package bulk
