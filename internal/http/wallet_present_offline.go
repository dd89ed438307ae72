package http

// Offline presentation QR codes (issue 8, part present): at a service
// point without a network link to the wallet, the holder shows a QR code
// of an SD-JWT presentation with only the claims she chose and a
// key-binding JWT for the audience "tally:offline" with a fresh random
// nonce; the desk accepts it once, within a few minutes
// (verifier/servicepoint/offline.go). A QR card is shown as it is.

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/servicepoint"
)

// offlineRefresh is how often the wallet makes a new offline QR code.
const offlineRefresh = time.Minute

// offlinePNGSize is the width in pixels of an offline QR code: a
// presentation is longer than a card, so the image is larger.
const offlinePNGSize = 512

// offlineQR is an offline presentation ready to show.
type offlineQR struct {
	// Text is what the QR code holds; Image its PNG as a data URL.
	Text  string
	Image template.URL
	// Claims are the claims it discloses (nil for a QR card: all of the
	// card's); Expires when the desk will no longer accept it.
	Claims  []string
	Expires time.Time
	Format  string
}

// offlinePresentation makes the QR code of credential id disclosing
// claims.
func (s *Server) offlinePresentation(ctx context.Context, w *holder.Wallet, id string, claims []string) (*offlineQR, error) {
	c, err := w.Credential(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.svc.Now()
	out := &offlineQR{Format: c.Format, Expires: now.Add(servicepoint.OfflineWindow)}
	switch c.Format {
	case "qr":
		out.Text, out.Expires = c.Raw, time.Time{}
	case oid4vp.FormatSDJWTVC:
		h, err := oid4vp.HeldFrom(c.ID, c.Format, c.Raw)
		if err != nil {
			return nil, err
		}
		if len(claims) == 0 {
			return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "claims", Code: "required", Message: "choose the claims to show"}}}
		}
		for _, name := range claims {
			if !slices.Contains(h.Disclosable, name) {
				return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "claims", Code: "unknown", Message: "the credential has no claim " + clipText(name, 40) + " to show"}}}
			}
		}
		key, err := s.holderKeyFor(ctx, w, c)
		if err != nil {
			return nil, err
		}
		nonce, err := randomToken(s.rand, 16)
		if err != nil {
			return nil, err
		}
		if out.Text, err = credentials.PresentSDJWT(c.Raw, claims, key.Signer, servicepoint.OfflineAudience, nonce, now); err != nil {
			return nil, err
		}
		out.Claims = claims
	default:
		return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "credential", Code: "format", Message: "this credential cannot be shown as a QR code: share it when a verifier asks"}}}
	}
	png, err := offlinePNG(out.Text)
	if err != nil {
		return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "claims", Code: "too_long", Message: "too much to fit in one QR code: choose fewer claims"}}}
	}
	out.Image = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	return out, nil
}

// offlinePNG draws an offline QR code: a presentation is longer than a
// card, so it is drawn with the error correction of level M (15%) when
// that fits in a QR code, else L (7%), on a phone's clean screen.
func offlinePNG(text string) ([]byte, error) {
	if len(text) > 2331 { // beyond level M's capacity in bytes (version 40)
		return qrcode.Encode(text, qrcode.Low, offlinePNGSize)
	}
	return qrcode.Encode(text, qrcode.Medium, offlinePNGSize)
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

type apiOfflineIn struct {
	Credential string   `json:"credential"`
	Claims     []string `json:"claims"`
	// Refresh, when true, is a new code for a choice already logged.
	Refresh bool `json:"refresh"`
}

type apiOfflineOut struct {
	QR      string    `json:"qr"`
	Image   string    `json:"image"`
	Format  string    `json:"format"`
	Claims  []string  `json:"claims,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	// RefreshAfter says when to ask for a new code, in seconds.
	RefreshAfter int `json:"refresh_after,omitempty"`
}

// apiWalletOffline makes an offline presentation QR code.
func (s *Server) apiWalletOffline(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, 16<<10)
	var in apiOfflineIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Credential == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "credential", Code: "required", Message: "choose the credential to show"}}}
	}
	if len(in.Claims) > 64 {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "claims", Code: "too_many", Message: "at most 64 claims"}}}
	}
	w, ctx := walletOf(c), c.Request().Context()
	qr, err := s.offlinePresentation(ctx, w, in.Credential, in.Claims)
	if err != nil {
		return err
	}
	if !in.Refresh {
		if err := s.logOffline(ctx, w, in.Credential, qr); err != nil {
			return err
		}
	}
	out := apiOfflineOut{QR: qr.Text, Image: string(qr.Image), Format: qr.Format, Claims: qr.Claims, Expires: qr.Expires}
	if qr.Format == oid4vp.FormatSDJWTVC {
		out.RefreshAfter = int(offlineRefresh / time.Second)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// logOffline puts a shown QR code in the share log: its credential and
// claim names, mode "qr", no verifier (whoever scans it).
func (s *Server) logOffline(ctx context.Context, w *holder.Wallet, id string, qr *offlineQR) error {
	claims := qr.Claims
	if claims == nil {
		claims = []string{}
	}
	_, err := w.LogShare(ctx, holder.Share{Credentials: []string{id}, Claims: claims, Mode: "qr", Outcome: "shown"})
	if errors.Is(err, holder.ErrFull) {
		return nil
	}
	return err
}
