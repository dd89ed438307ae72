// Package web holds the staff pages' templates (html/template), their
// style sheet and the message catalogues, embedded in the binary so that
// tally serves them with no network and no CDN. internal/http renders
// them.
//
//   - templates/: layout.html wraps every page; each other file is a page.
//   - static/: served under /static/.
//   - messages/: one JSON catalogue per language (en.json first; every
//     other language translates its keys).
package web

import "embed"

// FS is the embedded files. It is read-only.
//
//go:embed templates/*.html static/* messages/*.json
var FS embed.FS
