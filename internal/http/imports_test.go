package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

const importBoundary = "tally-import-boundary"

const multipartType = "multipart/form-data; boundary=" + importBoundary

// upload is a multipart body: the form's fields, and the file when not
// nil.
func upload(file []byte, kv ...string) string {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.SetBoundary(importBoundary)
	for i := 0; i+1 < len(kv); i += 2 {
		w.WriteField(kv[i], kv[i+1])
	}
	if file != nil {
		fw, _ := w.CreateFormFile("file", "people.csv")
		fw.Write(file)
	}
	w.Close()
	return b.String()
}

// peopleCSV is a spreadsheet of people whose names no other registration
// shares (a part of digits is its own key).
func peopleCSV(n int, names ...string) []byte {
	var b bytes.Buffer
	b.WriteString("Registration ID,Full name,Date of birth,Gender\n")
	for i, name := range names {
		fmt.Fprintf(&b, "IMP-%d,%s %d,19%02d-0%d-1%d,female\n", n*10+i, name, n*10+i, 60+i, 1+i, i)
	}
	return b.Bytes()
}

// importDone imports two people into demo, to the end, and returns the
// importer the server runs.
func (e *env) importDone(ctx context.Context) *issuer.Importer {
	t := e.t
	store, err := bolt.NewImportStore(e.db)
	if err != nil {
		t.Fatal(err)
	}
	im := issuer.NewImporter(e.svc, store, issuer.ImporterOptions{Workers: 2})
	t.Cleanup(im.Close)
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: e.staffID["demo/registrar"]}
	job, _, _, err := im.Check(ctx, by, "demo", issuer.ImportInput{Programme: "MPCA-2026", FileName: "people.csv",
		Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentWritten, Language: "so"}}, peopleCSV(0, "Ayaan", "Hibaaq"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, by, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	if job, err = im.Run(ctx, "demo", job.ID, nil); err != nil || job.Issued != 2 {
		t.Fatalf("import: %+v, %v", job, err)
	}
	e.importID = job.ID
	e.secrets = append(e.secrets, "Ayaan", "Hibaaq")
	return im
}

// importCases are the cases of the bulk import routes.
func importCases(e *env) map[string]routeCase {
	declared := []string{"programme", "MPCA-2026", "consent.given", "yes", "consent.method", "written", "consent.language", "so",
		"consent.staffId", e.staffID["demo/registrar"]}
	good := func(n int, extra ...string) string {
		return upload(peopleCSV(n, "Ubah", "Warsan"), append(declared, extra...)...)
	}
	without := func(field string) []string {
		var out []string
		for i := 0; i+1 < len(declared); i += 2 {
			if declared[i] != field {
				out = append(out, declared[i], declared[i+1])
			}
		}
		return out
	}
	garbage := []byte("\x00\x01\x02\xff\xfe not a spreadsheet")
	return map[string]routeCase{
		"GET /issuer/imports": {status: http.StatusOK},
		"POST /issuer/imports": {
			// Another organisation cannot name demo's registrar as who took the
			// consent.
			contentType: multipartType, status: http.StatusSeeOther, otherStatus: http.StatusBadRequest,
			good: func(n int) string { return good(n) },
			bad: []badInput{
				{"no file", multipartType, upload(nil, declared...), http.StatusBadRequest, []string{"file"}, nil},
				{"no consent declared", multipartType, upload(peopleCSV(1, "Ubah"), without("consent.given")...), http.StatusBadRequest, []string{"consent.given"}, nil},
				{"unknown programme", multipartType, upload(peopleCSV(1, "Ubah"), append(without("programme"), "programme", "NOPE")...), http.StatusBadRequest, []string{"programme"}, nil},
				{"garbage", multipartType, upload(garbage, declared...), http.StatusBadRequest, []string{"file"}, nil},
				{"an old Excel file", multipartType, upload(append([]byte{0xD0, 0xCF, 0x11, 0xE0}, make([]byte, 600)...), declared...), http.StatusBadRequest, []string{"file"}, nil},
			},
		},
		"GET /issuer/imports/:id":                     {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /issuer/imports/:id/start":              {contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound},
		"GET /issuer/imports/:id/cards.pdf":           {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"GET /api/v1/orgs/:org/imports/:id":           {status: http.StatusOK},
		"GET /api/v1/orgs/:org/imports/:id/cards.pdf": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/imports": {
			// The walk sends dry runs: a real import would change demo
			// in the background while the walk compares its state.
			contentType: multipartType, status: http.StatusOK,
			good: func(n int) string { return good(n, "dryRun", "true") },
			bad: []badInput{
				{"not multipart", "application/json", `{"programme":"MPCA-2026"}`, http.StatusBadRequest, []string{"file"}, nil},
				{"no file", multipartType, upload(nil, declared...), http.StatusBadRequest, []string{"file"}, nil},
				{"no consent declared", multipartType, upload(peopleCSV(1, "Ubah"), without("consent.given")...), http.StatusBadRequest, []string{"consent.given"}, nil},
				{"consent taken by nobody", multipartType, upload(peopleCSV(1, "Ubah"), append(without("consent.staffId"), "consent.staffId", "nobody")...), http.StatusBadRequest, []string{"consent.staffId"}, nil},
				{"unknown programme", multipartType, upload(peopleCSV(1, "Ubah"), append(without("programme"), "programme", "NOPE")...), http.StatusBadRequest, []string{"programme"}, nil},
				{"garbage", multipartType, upload(garbage, declared...), http.StatusBadRequest, []string{"file"}, nil},
				{"too large", multipartType, upload(make([]byte, issuer.MaxImportBytes+2<<20), declared...), http.StatusRequestEntityTooLarge, nil, nil},
			},
		},
	}
}

// TestImportAPI imports a file through the API to the end, then the same
// file again: the same import, nobody twice; the cards come as one PDF.
func TestImportAPI(t *testing.T) {
	e := newEnv(t)
	registrar := e.asToken("demo", issuer.RoleRegistrar)
	body := upload(peopleCSV(7, "Sahra", "Nimco", "Ifrah"), "programme", "MPCA-2026", "consent.given", "true", "consent.method", "verbal",
		"consent.language", "so", "consent.staffId", e.staffID["demo/registrar"])
	res := e.do(http.MethodPost, "/api/v1/orgs/demo/imports", multipartType, body, registrar)
	var out struct {
		Import   issuer.ImportJob
		Existing bool
	}
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("%d: %s", res.StatusCode, readBody(t, res))
	}
	json.NewDecoder(res.Body).Decode(&out)
	id := out.Import.ID
	deadline := time.Now().Add(10 * time.Second)
	for out.Import.State != issuer.ImportDone {
		if time.Now().After(deadline) {
			t.Fatalf("the import did not end: %+v", out.Import)
		}
		time.Sleep(50 * time.Millisecond)
		res := e.do(http.MethodGet, "/api/v1/orgs/demo/imports/"+id, "", "", e.asToken("demo", issuer.RoleAuditor))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("progress: %d", res.StatusCode)
		}
		json.NewDecoder(res.Body).Decode(&out)
	}
	if out.Import.Issued != 3 || out.Import.Failed != 0 {
		t.Fatalf("import = %+v", out.Import)
	}
	before := e.state("demo")
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/imports", multipartType, body, registrar)
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK || !out.Existing || out.Import.ID != id || e.state("demo") != before {
		t.Fatalf("the same file again: %d, %+v", res.StatusCode, out)
	}
	res = e.do(http.MethodGet, "/api/v1/orgs/demo/imports/"+id+"/cards.pdf", "", "", registrar)
	pdf := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(pdf, "%PDF-") || !strings.Contains(pdf, "%%EOF") {
		t.Fatalf("cards: %d, %.20q", res.StatusCode, pdf)
	}
	// The job page of a done import links to its cards; a running one
	// refreshes itself.
	page := readBody(t, e.do(http.MethodGet, "/issuer/imports/"+id, "", "", e.asStaff("demo", issuer.RoleRegistrar)))
	if !strings.Contains(page, "/issuer/imports/"+id+"/cards.pdf") || strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatalf("the done import's page: %.500s", page)
	}
}

// TestImportUploadSize: the upload route takes files larger than other
// requests' 1 MiB, up to the import's limit.
func TestImportUploadSize(t *testing.T) {
	e := newEnv(t)
	var b bytes.Buffer
	b.WriteString("Registration ID,Full name,Notes\n")
	for i := range 100 {
		fmt.Fprintf(&b, "BIG-%d,Sagal %d,%s\n", i, i, strings.Repeat("n", 30000))
	}
	body := upload(b.Bytes(), "programme", "MPCA-2026", "consent.given", "true", "consent.method", "verbal",
		"consent.language", "so", "consent.staffId", e.staffID["demo/registrar"], "dryRun", "true")
	res := e.do(http.MethodPost, "/api/v1/orgs/demo/imports", multipartType, body, e.asToken("demo", issuer.RoleRegistrar))
	var out struct{ Import issuer.ImportJob }
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK || out.Import.Good != 100 || len(body) < 2<<20 {
		t.Fatalf("a %d-byte upload: %d, %+v", len(body), res.StatusCode, out.Import)
	}
}

// TestImportPageRunning: a running import's page refreshes itself every
// 2 s without JavaScript, and loads the polling script; the upload form
// and the dry run's report come before.
func TestImportPageRunning(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store, err := bolt.NewImportStore(e.db)
	if err != nil {
		t.Fatal(err)
	}
	im := issuer.NewImporter(e.svc, store, issuer.ImporterOptions{})
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: e.staffID["demo/registrar"]}
	file := append(peopleCSV(5, "Deeqa"), "IMP-99,Sagal 99,31/31/1990,female\n"...)
	job, _, _, err := im.Check(ctx, by, "demo", issuer.ImportInput{Programme: "MPCA-2026",
		Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}}, file)
	if err != nil {
		t.Fatal(err)
	}
	registrar := e.asStaff("demo", issuer.RoleRegistrar)
	page := readBody(t, e.do(http.MethodGet, "/issuer/imports/"+job.ID, "", "", registrar))
	if !strings.Contains(page, "Issue 1 credentials") || !strings.Contains(page, "line 3") || strings.Contains(page, "31/31") {
		t.Fatalf("the checked import's page: %s", page)
	}
	if _, err := im.Start(ctx, by, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	page = readBody(t, e.do(http.MethodGet, "/issuer/imports/"+job.ID, "", "", registrar))
	if !strings.Contains(page, `<meta http-equiv="refresh" content="2">`) || !strings.Contains(page, `<script src="/static/import.js" defer>`) ||
		!strings.Contains(page, "<progress") {
		t.Fatalf("the running import's page: %s", page)
	}
	res := e.do(http.MethodGet, "/static/import.js", "", "", who{})
	if res.StatusCode != http.StatusOK || !strings.Contains(readBody(t, res), "fetch(") {
		t.Fatalf("the script: %d", res.StatusCode)
	}
	list := readBody(t, e.do(http.MethodGet, "/issuer/imports", "", "", e.asStaff("demo", issuer.RoleAuditor)))
	if !strings.Contains(list, "/issuer/imports/"+job.ID) || strings.Contains(list, `enctype="multipart/form-data"`) {
		t.Fatal("an auditor's list: the import missing, or an upload form shown")
	}
}
