package http_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"testing"

	"github.com/tally-id/tally/internal/qrtest"
	"github.com/tally-id/tally/issuer"
)

// TestCardPNG: a card's PNG is its QR code, large enough to print 35 mm
// wide at 600 dpi, which reads back as a card the verifier accepts; a
// revoked card has none, and an auditor may not download it.
func TestCardPNG(t *testing.T) {
	e := newEnv(t)
	registrar := e.asStaff("demo", issuer.RoleRegistrar)
	res := e.do(http.MethodGet, "/issuer/credentials/"+e.credID+"/card.png", "", "", registrar)
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w < 827 { // 35 mm at 600 dpi
		t.Fatalf("the PNG is %d px wide", w)
	}
	read, err := qrtest.Read(img)
	if err != nil {
		t.Fatalf("the PNG's QR code does not read: %v", err)
	}
	if _, err := e.verifierOf(t).Verify(context.Background(), []byte(read.GetText())); err != nil {
		t.Fatalf("the PNG's card does not verify: %v", err)
	}
	if res := e.do(http.MethodGet, "/issuer/credentials/"+e.credID+"/card.png", "", "", e.asStaff("demo", issuer.RoleAuditor)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an auditor downloads a card: %d", res.StatusCode)
	}
	if res := e.do(http.MethodPost, "/issuer/credentials/"+e.credID+"/revoke", formType, "", e.asStaff("demo", issuer.RoleSupervisor)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res := e.do(http.MethodGet, "/issuer/credentials/"+e.credID+"/card.png", "", "", registrar); res.StatusCode != http.StatusConflict {
		t.Fatalf("a revoked card's PNG: %d", res.StatusCode)
	}
}
