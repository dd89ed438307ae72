package http

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// TestImportFormKeepsFileOffDisk: an upload just under the body limit but
// over net/http's default 32 MB of memory is read without a temporary
// file, where its personal data would lie in clear.
func TestImportFormKeepsFileOffDisk(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("programme", "MPCA-2026")
	fw, _ := w.CreateFormFile("file", "people.csv")
	fw.Write(bytes.Repeat([]byte("x"), int(issuer.MaxImportBytes)+512<<10))
	w.Close()
	if int64(b.Len()) > maxUpload {
		t.Fatalf("body of %d bytes, over the limit of %d", b.Len(), maxUpload)
	}
	req := httptest.NewRequest(http.MethodPost, "/issuer/imports", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	rec := httptest.NewRecorder()
	req.Body = http.MaxBytesReader(rec, req.Body, maxUpload)
	c := echo.New().NewContext(req, rec)
	form := map[string]string{}
	_, data, err := importForm(c, form)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != issuer.MaxImportBytes+1 || form["programme"] != "MPCA-2026" {
		t.Fatalf("read %d bytes, programme %q", len(data), form["programme"])
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("temporary file %s left on disk", e.Name())
	}
	req.MultipartForm.RemoveAll()
}
