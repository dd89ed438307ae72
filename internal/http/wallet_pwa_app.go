package http

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// This file makes the web wallet an installable, offline web app (issue
// 8, part pwa): its manifest, its icons (drawn at start-up with Go's image
// packages, so that no binary is committed), its service worker (served
// from /wallet/ so that its scope is /wallet/ with no extra header) and
// the page it shows offline for a page it never kept.

// walletCSP is the wallet pages' Content-Security-Policy: the server's,
// with the service worker and the manifest allowed from this origin.
const walletCSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; worker-src 'self'; manifest-src 'self'"

// walletThemeColour is the wallet's colour in the manifest and the pages.
const walletThemeColour = "#0b5cad"

// walletManifest is the Web App Manifest.
func (s *Server) walletManifest(c echo.Context) error {
	t := s.cat.pick(c.Request())
	m := map[string]any{
		"name":             t.Get("wallet_brand"),
		"short_name":       t.Get("wallet_pwa_short_name"),
		"description":      t.Get("wallet_pwa_description"),
		"lang":             t.Lang(),
		"dir":              t.Dir(),
		"id":               "/wallet/",
		"start_url":        "/wallet/",
		"scope":            "/wallet/",
		"display":          "standalone",
		"orientation":      "portrait",
		"theme_color":      walletThemeColour,
		"background_color": "#f6f8fa",
		"icons": []map[string]string{
			{"src": "/wallet/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
			{"src": "/wallet/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
			{"src": "/wallet/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
		},
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	c.Response().Header().Set(echo.HeaderContentType, "application/manifest+json")
	return c.JSON(http.StatusOK, m)
}

// walletServiceWorker serves the service worker script.
func (s *Server) walletServiceWorker(c echo.Context) error {
	body, err := fs.ReadFile(s.files, "static/wallet-sw.js")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	// The browser checks for a new worker on every visit.
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", body)
}

// walletIcons are the app's icons, drawn once.
type walletIcons struct {
	once  sync.Once
	small []byte
	large []byte
	err   error
}

// walletIcon serves the 192 or 512 pixel icon.
func (s *Server) walletIcon(size int) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.icons.once.Do(func() {
			if s.icons.small, s.icons.err = drawWalletIcon(192); s.icons.err == nil {
				s.icons.large, s.icons.err = drawWalletIcon(512)
			}
		})
		if s.icons.err != nil {
			return s.icons.err
		}
		body := s.icons.small
		if size == 512 {
			body = s.icons.large
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		return c.Blob(http.StatusOK, "image/png", body)
	}
}

// drawWalletIcon draws the wallet's icon: a white card with a QR-like
// mark and two lines of text on the wallet's blue, inside the safe zone
// of a maskable icon (the middle 80%).
func drawWalletIcon(size int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	blue := color.RGBA{0x0b, 0x5c, 0xad, 0xff}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink := color.RGBA{0x1b, 0x1f, 0x23, 0xff}
	f := func(x float64) int { return int(x * float64(size)) }
	fill := func(x0, y0, x1, y1 float64, r float64, col color.RGBA) {
		rad := r * float64(size)
		for y := f(y0); y < f(y1); y++ {
			for x := f(x0); x < f(x1); x++ {
				// Round the corners: skip pixels outside the corner circles.
				cx, cy := float64(x)+.5, float64(y)+.5
				lx, rx := float64(f(x0))+rad, float64(f(x1))-rad
				ty, by := float64(f(y0))+rad, float64(f(y1))-rad
				dx, dy := 0.0, 0.0
				switch {
				case cx < lx:
					dx = lx - cx
				case cx > rx:
					dx = cx - rx
				}
				switch {
				case cy < ty:
					dy = ty - cy
				case cy > by:
					dy = cy - by
				}
				if dx*dx+dy*dy > rad*rad {
					continue
				}
				img.SetRGBA(x, y, col)
			}
		}
	}
	fill(0, 0, 1, 1, 0, blue)
	fill(.17, .27, .83, .73, .04, white)
	// The QR-like mark: three finder squares and a few modules.
	for _, p := range [][2]float64{{.23, .33}, {.39, .33}, {.23, .49}} {
		fill(p[0], p[1], p[0]+.12, p[1]+.12, 0, ink)
		fill(p[0]+.025, p[1]+.025, p[0]+.095, p[1]+.095, 0, white)
		fill(p[0]+.045, p[1]+.045, p[0]+.075, p[1]+.075, 0, ink)
	}
	for _, p := range [][2]float64{{.42, .52}, {.46, .57}, {.40, .58}} {
		fill(p[0], p[1], p[0]+.035, p[1]+.035, 0, ink)
	}
	// Two lines of text.
	fill(.56, .38, .77, .42, .01, blue)
	fill(.56, .50, .72, .54, .01, blue)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// walletOffline is the page the service worker shows for a wallet page it
// did not keep, when the network is out of reach.
func (s *Server) walletOffline(c echo.Context) error {
	d := s.newWalletPage(c, "wallet_pwa_offline_title")
	// Shown from the worker's copy when offline: it must not lock the
	// wallet (delete the kept pages) as a signed-out page does.
	d.Wallet.PWA = &pwaView{}
	return s.render(c, http.StatusOK, "wallet_pwa_offline", d)
}
