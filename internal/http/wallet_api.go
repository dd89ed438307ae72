package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
)

// This file is the wallet API's doors and credentials (issue 8, DESIGN.md
// "The services"): wallet apps open a wallet, sign in with the device
// secret and PIN, and read and delete the holder's credentials. Every
// route but opening and signing in is a Holder route.

type apiWalletOpen struct {
	PIN  string `json:"pin"`
	Lang string `json:"lang"`
}

type apiWalletOpened struct {
	Wallet       string `json:"wallet"`
	DeviceSecret string `json:"device_secret"`
	RecoveryCode string `json:"recovery_code,omitempty"`
	Token        string `json:"token"`
}

// apiWalletOpen opens a wallet: the device secret and recovery code are
// in the answer once, and never again.
func (s *Server) apiWalletOpen(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	var in apiWalletOpen
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if len(in.Lang) > 16 {
		in.Lang = ""
	}
	if err := holder.CheckPIN(in.PIN); err != nil {
		return err
	}
	if err := s.walletOpens.take(clientIP(c)); err != nil {
		return err
	}
	o, err := s.holders.Open(c.Request().Context(), in.PIN, in.Lang)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, apiWalletOpened{Wallet: o.ID, DeviceSecret: o.DeviceSecret, RecoveryCode: o.RecoveryCode, Token: o.Session})
}

type apiWalletSignin struct {
	Wallet       string `json:"wallet"`
	DeviceSecret string `json:"device_secret"`
	PIN          string `json:"pin"`
}

// apiWalletSignin opens a session with the device secret and the PIN.
func (s *Server) apiWalletSignin(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	var in apiWalletSignin
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	tok, err := s.holders.SignIn(c.Request().Context(), in.Wallet, in.DeviceSecret, in.PIN)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]string{"wallet": holder.NormalizeID(in.Wallet), "token": tok})
}

// apiWalletSignout ends the session.
func (s *Server) apiWalletSignout(c echo.Context) error {
	walletOf(c).SignOut()
	return c.NoContent(http.StatusNoContent)
}

// apiWalletCredentials lists the holder's credentials.
func (s *Server) apiWalletCredentials(c echo.Context) error {
	cs, err := walletOf(c).Credentials(c.Request().Context())
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []holder.Credential{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"credentials": cs})
}

// apiWalletCredential returns one of the holder's credentials.
func (s *Server) apiWalletCredential(c echo.Context) error {
	cr, err := walletOf(c).Credential(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cr)
}

// apiWalletDeleteCredential deletes one of the holder's credentials.
func (s *Server) apiWalletDeleteCredential(c echo.Context) error {
	if err := walletOf(c).DeleteCredential(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
