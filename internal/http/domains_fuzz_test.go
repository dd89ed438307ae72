package http

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// FuzzReadPeerUpload feeds the peer list form's reader (domains, issue 7)
// any body: it never panics, refuses with field errors or the body limit,
// and what it accepts is a list of the domain that checks.
func FuzzReadPeerUpload(f *testing.F) {
	form := func(peer, name, list string) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary("fuzzboundary")
		if peer != "" {
			w.WriteField("peer", peer)
		}
		fw, _ := w.CreateFormFile("file", name)
		fw.Write([]byte(list))
		w.Close()
		return b.Bytes()
	}
	good := "domain,token,programme,month,count\nd,aaaqeayeaudaocajbifqydiob4,P,2026-03,2\n"
	f.Add(form("agency-b", "b.csv", good))
	f.Add(form("", "b.csv", good))
	f.Add(form("agency-b", "", good))
	f.Add(form("agency-b", "b.csv", "domain,token,programme,month,count\nother,aaaqeayeaudaocajbifqydiob4,P,2026-03,2\n"))
	f.Add(form("agency-b", "b.csv", "\"a\nb,"))
	f.Add([]byte("--fuzzboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/admin/domains/d/peers", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=fuzzboundary")
		rec := httptest.NewRecorder()
		req.Body = http.MaxBytesReader(rec, req.Body, 1<<16)
		c := echo.New().NewContext(req, rec)
		fields := map[string]string{}
		l, err := readPeerUpload(c, "d", fields)
		var ie *issuer.InvalidError
		var tooLarge *http.MaxBytesError
		switch {
		case err == nil:
			if l.Domain != "d" || l.Check() != nil || fields["peer"] == "" {
				t.Fatalf("accepted a list of %q (%v), peer %q", l.Domain, l.Check(), fields["peer"])
			}
		case errors.As(err, &ie):
			if len(ie.Fields) == 0 {
				t.Fatal("a refusal names no field")
			}
		case errors.As(err, &tooLarge):
		default:
			t.Fatalf("an error that is neither a field's nor the limit: %v", err)
		}
	})
}
