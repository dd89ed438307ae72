package http

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
)

// This file serves the web wallet's doors (issue 8): opening a wallet,
// signing in with the PIN on a phone that keeps the wallet's device
// secret, signing out, and the wallet's home page.

// walletView is what the web wallet's pages show.
type walletView struct {
	// ID is the signed-in holder's wallet number, as people read it
	// (ABCDE-FGHIJ); empty on the pages before signing in.
	ID string
	// Opened is a wallet just opened (or reset): its number and recovery
	// code, shown once.
	Opened *holder.Opened
	// Phone lists the wallet numbers this phone keeps (sign-in page).
	Phone []string
	// Credentials are the holder's credentials (home page).
	Credentials []holder.Credential
	// Present is the view of part present (wallet_present_pages.go).
	Present *walletPresentView
	// Account is the account pages' view (wallet/account).
	Account *walletAccountView
	// PWA is the credential pages' view (wallet_pwa.go).
	PWA *pwaView
	// Receive is what the receiving pages show (wallet_receive.go).
	Receive *walletReceiveView
}

// newWalletPage starts a wallet page: the staff layout's data with the
// wallet's header, and the holder's language.
func (s *Server) newWalletPage(c echo.Context, titleKey string) *pageData {
	d := s.newPage(c, titleKey)
	d.Who, d.Org = nil, nil
	d.Wallet = &walletView{}
	c.Response().Header().Set("Content-Security-Policy", walletCSP) // pwa: the worker and the manifest
	if w := walletOf(c); w != nil {
		d.Wallet.ID = holder.FormatID(w.ID())
		s.useWalletLang(c, w, d, titleKey) // wallet/account
	}
	return d
}

// walletHome is the web wallet's first page: the holder's credentials
// when signed in, else the doors (open a wallet, sign in).
func (s *Server) walletHome(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	w, err := s.holders.Wallet(s.holderToken(c))
	if err != nil {
		d := s.newWalletPage(c, "wallet_title")
		d.Wallet.Phone = s.phoneWalletList(c)
		return s.render(c, http.StatusOK, "wallet_welcome", d)
	}
	c.Set(walletKey, w)
	d := s.newWalletPage(c, "wallet_title")
	if d.Wallet.Credentials, err = w.Credentials(c.Request().Context()); err != nil {
		return err
	}
	if err := s.walletHomeCards(c, d, w); err != nil { // pwa: the cards and their status
		return err
	}
	return s.render(c, http.StatusOK, "wallet_home", d)
}

func (s *Server) phoneWalletList(c echo.Context) []string {
	var ids []string
	for id := range s.phoneWallets(c) {
		ids = append(ids, holder.FormatID(id))
	}
	slices.Sort(ids)
	return ids
}

// walletOpenForm asks for a PIN, twice.
func (s *Server) walletOpenForm(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	return s.render(c, http.StatusOK, "wallet_open", s.newWalletPage(c, "wallet_open_title"))
}

// walletOpen opens a wallet, keeps its device secret on this phone, signs
// the holder in and shows the wallet number and recovery code once.
func (s *Server) walletOpen(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	pin, again := c.FormValue("pin"), c.FormValue("pin_again")
	fail := func(status int, key string, args ...any) error {
		d := s.newWalletPage(c, "wallet_open_title")
		d.Message = d.T.Get(key, args...)
		return s.render(c, status, "wallet_open", d)
	}
	if pin != again {
		return fail(http.StatusBadRequest, "wallet_pin_mismatch")
	}
	if err := holder.CheckPIN(pin); err != nil {
		return fail(http.StatusBadRequest, "wallet_pin_rules", holder.MinPINLength, holder.MaxPINLength)
	}
	if err := s.walletOpens.take(clientIP(c)); err != nil {
		setRetryAfter(c, err)
		return fail(http.StatusTooManyRequests, "wallet_open_too_many")
	}
	d := s.newWalletPage(c, "wallet_opened_title")
	o, err := s.holders.Open(c.Request().Context(), pin, d.Lang)
	if err != nil {
		return err
	}
	s.setDeviceSecret(c, o.ID, o.DeviceSecret)
	s.setWalletSession(c, o.Session)
	d.Wallet.ID = holder.FormatID(o.ID)
	d.Wallet.Opened = &holder.Opened{ID: holder.FormatID(o.ID), RecoveryCode: o.RecoveryCode}
	return s.render(c, http.StatusOK, "wallet_opened", d)
}

// walletSigninForm asks for the PIN of one of the wallets this phone
// keeps.
func (s *Server) walletSigninForm(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	d := s.newWalletPage(c, "wallet_signin_title")
	d.Wallet.Phone = s.phoneWalletList(c)
	d.Next = walletNext(c.QueryParam("next"))
	return s.render(c, http.StatusOK, "wallet_signin", d)
}

// walletNext is where signing in goes on to: a page of the web wallet,
// else its home.
func walletNext(next string) string {
	if n := localPath(next); len(n) > len("/wallet/") && n[:len("/wallet/")] == "/wallet/" {
		return n
	}
	return "/wallet/"
}

// walletSignin checks the PIN with this phone's device secret.
func (s *Server) walletSignin(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	id := holder.NormalizeID(c.FormValue("wallet"))
	secret := s.phoneWallets(c)[id]
	tok, err := s.holders.SignIn(c.Request().Context(), id, secret, c.FormValue("pin"))
	if err != nil {
		d := s.newWalletPage(c, "wallet_signin_title")
		d.Wallet.Phone = s.phoneWalletList(c)
		d.Next = walletNext(c.FormValue("next"))
		d.Form = map[string]string{"wallet": holder.FormatID(id)}
		status := problemOf(err).status
		switch {
		case errors.Is(err, holder.ErrLocked):
			var le *holder.LockedError
			errors.As(err, &le)
			if le.Until.IsZero() {
				d.Message = d.T.Get("wallet_locked_for_good")
			} else {
				d.Message = d.T.Get("wallet_locked_until", le.Until.UTC().Format("15:04"))
			}
			setRetryAfter(c, err)
		case secret == "":
			d.Message = d.T.Get("wallet_not_on_phone")
		case errors.Is(err, holder.ErrUnauthenticated):
			d.Message = d.T.Get("wallet_wrong_pin")
		default:
			return err
		}
		return s.render(c, status, "wallet_signin", d)
	}
	s.setWalletSession(c, tok)
	return c.Redirect(http.StatusSeeOther, walletNext(c.FormValue("next")))
}

// walletSignout ends the holder's session.
func (s *Server) walletSignout(c echo.Context) error {
	if s.holders != nil {
		s.holders.SignOut(s.holderToken(c))
	}
	s.clearWalletSession(c)
	return c.Redirect(http.StatusSeeOther, "/wallet/")
}
