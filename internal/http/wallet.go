package http

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/issuer"
)

// This file is the wallet's part of the server (issue 8): how holders
// authenticate, apart from staff. A holder's session is a token of the
// holder service (holder.TokenPrefix), sent as the wallet's session
// cookie by the web wallet or as Authorization: Bearer by wallet apps.
// The device secret that, with the PIN, opens a wallet lives on the
// holder's phone: in a cookie per wallet for the web wallet (so that a
// shared phone can hold several), in the app for wallet apps.

// walletKey is where guardHolder leaves the request's wallet.
const walletKey = "tally.wallet"

// walletOf returns the signed-in holder's wallet of a Holder route.
func walletOf(c echo.Context) *holder.Wallet {
	w, _ := c.Get(walletKey).(*holder.Wallet)
	return w
}

// walletCookie names the wallet's session cookie (__Host- under TLS).
func (s *Server) walletCookie() string {
	if s.secure {
		return "__Host-tally_wallet"
	}
	return "tally_wallet"
}

// deviceCookiePrefix starts the name of the cookie that keeps a wallet's
// device secret on this phone; the wallet number ends it.
func (s *Server) deviceCookiePrefix() string {
	if s.secure {
		return "__Host-tally_wd_"
	}
	return "tally_wd_"
}

// holderToken is the wallet session a request carries: a Bearer token
// with the holder prefix, or the wallet cookie. A staff member's token or
// cookie is never a holder's.
func (s *Server) holderToken(c echo.Context) string {
	r := c.Request()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(tok)
	}
	if ck, err := r.Cookie(s.walletCookie()); err == nil {
		return ck.Value
	}
	return ""
}

// guardHolder admits a Holder route's request when it carries a live
// wallet session, and leaves the wallet for the handler: every handler
// reads and writes through that wallet, so no route can reach another
// holder's data. Without a session, a page asks the holder to sign in and
// the API says 401.
func (s *Server) guardHolder(c echo.Context, r Route) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	w, err := s.holders.Wallet(s.holderToken(c))
	if err != nil {
		if r.Kind == Page && c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, "/wallet/signin?next="+urlQueryEscape(c.Request().URL.RequestURI()))
		}
		return err
	}
	c.Set(walletKey, w)
	return r.Handler(c)
}

// setWalletSession gives the browser the wallet's session cookie:
// HttpOnly, SameSite=Strict, Secure under TLS, gone when the browser
// closes.
func (s *Server) setWalletSession(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{
		Name: s.walletCookie(), Value: token, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) clearWalletSession(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: s.walletCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// deviceSecretMaxAge keeps a phone's device secret for ten years: it is
// the phone's half of the key, and losing it means the recovery sheet.
const deviceSecretMaxAge = 10 * 365 * 24 * 3600

// setDeviceSecret keeps a wallet's device secret on this phone.
func (s *Server) setDeviceSecret(c echo.Context, id, secret string) {
	c.SetCookie(&http.Cookie{
		Name: s.deviceCookiePrefix() + id, Value: secret, Path: "/", MaxAge: deviceSecretMaxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// clearDeviceSecret forgets a wallet on this phone.
func (s *Server) clearDeviceSecret(c echo.Context, id string) {
	c.SetCookie(&http.Cookie{
		Name: s.deviceCookiePrefix() + id, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// phoneWallets are the wallet numbers whose device secret this phone
// keeps, and the secrets.
func (s *Server) phoneWallets(c echo.Context) map[string]string {
	out := map[string]string{}
	for _, ck := range c.Request().Cookies() {
		if id, ok := strings.CutPrefix(ck.Name, s.deviceCookiePrefix()); ok && id == holder.NormalizeID(id) && id != "" && len(out) < 8 {
			out[id] = ck.Value
		}
	}
	return out
}

// walletDetail is the English detail of a wallet's error for the API:
// what the holder service said (it names no person and no secret).
func walletDetail(err error, status int) string {
	if status >= 500 {
		return ""
	}
	for _, e := range []error{holder.ErrInvalid, holder.ErrUnauthenticated, holder.ErrLocked, holder.ErrFull} {
		if errors.Is(err, e) {
			return err.Error()
		}
	}
	return ""
}

// didWeb resolves did:web DIDs for the wallet: this instance's
// organisations without a round trip, others through s.fetch.
func (s *Server) didWeb() fetch.DIDWeb { return fetch.DIDWeb{Client: s.fetch, Local: s.localDID} }

// localOrg is this server's organisation whose did:web did is, if any:
// its slug read from the DID (did:web:HOST:orgs:SLUG), its record checked.
func (s *Server) localOrg(ctx context.Context, did string) (issuer.Organisation, bool) {
	rest, ok := strings.CutPrefix(did, "did:web:")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 || parts[1] != "orgs" || s.svc == nil {
		return issuer.Organisation{}, false
	}
	org, err := s.svc.Organisation(ctx, parts[2])
	if err != nil || org.DID != did {
		return issuer.Organisation{}, false
	}
	return org, true
}

// localDID is the DID document of one of this server's organisations,
// when did is one of theirs.
func (s *Server) localDID(ctx context.Context, did string) (*credentials.DIDDocument, bool, error) {
	org, ok := s.localOrg(ctx, did)
	if !ok {
		return nil, false, nil
	}
	doc, err := s.svc.DIDDocument(ctx, org.Slug)
	if err != nil {
		return nil, false, err
	}
	return doc, true, nil
}
