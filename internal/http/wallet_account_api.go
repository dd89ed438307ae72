package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/issuer/audit"
)

// This file is the wallet API's account routes (wallet/account): a
// wallet app changes the PIN, reads the share log, downloads an
// encrypted backup and restores one, exports the credentials, changes
// the language and deletes the wallet; without a session, it recovers a
// wallet with its recovery code or starts it again with a staff reset
// code. Registration staff give reset codes (POST /api/v1/wallets/:wallet/reset).

// maxWalletRestore bounds the body of a restore: the backup file and the
// passphrase around it.
const maxWalletRestore = holder.MaxBackupBytes + 64<<10

// walletLangOK tells whether lang is a language of the catalogue.
func (s *Server) walletLangOK(lang string) bool {
	_, ok := s.cat.byLang[lang]
	return ok
}

type apiWalletPIN struct {
	DeviceSecret string `json:"device_secret"`
	PIN          string `json:"pin"`
	NewPIN       string `json:"new_pin"`
}

// apiWalletChangePIN changes the PIN: the old one and the device secret
// prove the holder's phone.
func (s *Server) apiWalletChangePIN(c echo.Context) error {
	var in apiWalletPIN
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	switch {
	case in.DeviceSecret == "":
		return invalidField("device_secret", "required", "send the device secret this wallet app keeps")
	case in.PIN == "":
		return invalidField("pin", "required", "send the PIN in use")
	}
	if err := holder.CheckPIN(in.NewPIN); err != nil {
		return invalidField("new_pin", "rules", err.Error())
	}
	if err := walletOf(c).ChangePIN(c.Request().Context(), in.DeviceSecret, in.PIN, in.NewPIN); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiWalletShares is the share log, the newest first.
func (s *Server) apiWalletShares(c echo.Context) error {
	log, err := walletOf(c).Shares(c.Request().Context())
	if err != nil {
		return err
	}
	if log == nil {
		log = []holder.Share{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"shares": log})
}

// apiWalletBackup seals everything the wallet keeps under a passphrase,
// and sends the file.
func (s *Server) apiWalletBackup(c echo.Context) error {
	var in struct {
		Passphrase string `json:"passphrase"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Passphrase == "" {
		return invalidField("passphrase", "required", "send a passphrase to seal the backup with")
	}
	if err := s.walletKDFTake(c); err != nil {
		return err
	}
	file, err := walletOf(c).Backup(c.Request().Context(), in.Passphrase)
	if err != nil {
		return err
	}
	return s.walletFile(c, "tally-wallet-backup", file)
}

// walletFile sends a file the holder downloads.
func (s *Server) walletFile(c echo.Context, name string, file []byte) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="`+name+"-"+s.svc.Now().UTC().Format("20060102")+`.json"`)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, file)
}

// apiWalletRestore adds a backup's credentials, keys and share log to
// the wallet.
func (s *Server) apiWalletRestore(c echo.Context) error {
	var in struct {
		Passphrase string          `json:"passphrase"`
		File       json.RawMessage `json:"file"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	switch {
	case in.Passphrase == "":
		return invalidField("passphrase", "required", "send the passphrase the backup was sealed with")
	case len(in.File) == 0:
		return invalidField("file", "required", "send the backup file, as the JSON object it is")
	}
	if err := s.walletKDFTake(c); err != nil {
		return err
	}
	r, err := walletOf(c).Restore(c.Request().Context(), in.File, in.Passphrase)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// walletKDFTake counts a backup or restore of the signed-in holder: each
// derives a backup key (argon2id at a backup's cost), so one holder gets
// as many a window as a client gets at the public doors.
func (s *Server) walletKDFTake(c echo.Context) error {
	return s.walletDoors.take("wallet:" + walletOf(c).ID())
}

// apiWalletExport sends the holder's credentials as a plain JSON file.
// A wallet app has them already (GET /api/v1/wallet/credentials), so no
// PIN is asked again here; the web wallet asks for it.
func (s *Server) apiWalletExport(c echo.Context) error {
	file, err := walletOf(c).Export(c.Request().Context())
	if err != nil {
		return err
	}
	return s.walletFile(c, "tally-wallet-credentials", file)
}

// apiWalletDelete deletes the wallet, once the PIN is typed again.
func (s *Server) apiWalletDelete(c echo.Context) error {
	var in struct {
		DeviceSecret string `json:"device_secret"`
		PIN          string `json:"pin"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	switch {
	case in.DeviceSecret == "":
		return invalidField("device_secret", "required", "send the device secret this wallet app keeps")
	case in.PIN == "":
		return invalidField("pin", "required", "send the PIN again to delete the wallet")
	}
	w := walletOf(c)
	ctx := c.Request().Context()
	if err := w.ConfirmPIN(ctx, in.DeviceSecret, in.PIN); err != nil {
		return err
	}
	if err := w.DeleteAll(ctx); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiWalletSettings changes the language of the holder's pages.
func (s *Server) apiWalletSettings(c echo.Context) error {
	var in struct {
		Lang string `json:"lang"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if !s.walletLangOK(in.Lang) {
		return invalidField("lang", "unknown", "lang is one of the wallet's languages: en, fr, ar")
	}
	if err := walletOf(c).SetLang(c.Request().Context(), in.Lang); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"lang": in.Lang})
}

// apiWalletRecover opens a wallet on a new phone with its recovery code
// and a new PIN.
func (s *Server) apiWalletRecover(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	var in struct {
		Wallet       string `json:"wallet"`
		RecoveryCode string `json:"recovery_code"`
		PIN          string `json:"pin"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := checkDoor(in.Wallet, "recovery_code", in.RecoveryCode, in.PIN); err != nil {
		return err
	}
	if err := s.walletDoors.take(clientIP(c)); err != nil {
		return err
	}
	o, err := s.holders.Recover(c.Request().Context(), in.Wallet, in.RecoveryCode, in.PIN)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, apiWalletOpened{Wallet: o.ID, DeviceSecret: o.DeviceSecret, Token: o.Session})
}

// apiWalletReset starts a wallet again with a reset code from
// registration staff: a new PIN, device secret and recovery code, and no
// credential (the issuers offer them again).
func (s *Server) apiWalletReset(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	var in struct {
		Wallet    string `json:"wallet"`
		ResetCode string `json:"reset_code"`
		PIN       string `json:"pin"`
		Lang      string `json:"lang"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := checkDoor(in.Wallet, "reset_code", in.ResetCode, in.PIN); err != nil {
		return err
	}
	if in.Lang != "" && !s.walletLangOK(in.Lang) {
		return invalidField("lang", "unknown", "lang is one of the wallet's languages: en, fr, ar")
	}
	if err := s.walletDoors.take(clientIP(c)); err != nil {
		return err
	}
	o, err := s.holders.ResetWithCode(c.Request().Context(), in.Wallet, in.ResetCode, in.PIN, in.Lang)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, apiWalletOpened{Wallet: o.ID, DeviceSecret: o.DeviceSecret, RecoveryCode: o.RecoveryCode, Token: o.Session})
}

// checkDoor checks a recovery's or reset's input before anything costly.
func checkDoor(wallet, codeField, code, pin string) error {
	switch {
	case len(holder.NormalizeID(wallet)) != 10:
		return invalidField("wallet", "format", "a wallet number has ten letters and digits, like ABCDE-FGHIJ")
	case holder.NormalizeID(code) == "":
		return invalidField(codeField, "required", "send the code, as written")
	}
	if err := holder.CheckPIN(pin); err != nil {
		return invalidField("pin", "rules", err.Error())
	}
	return nil
}

// --- registration staff ---

type apiWalletResetCode struct {
	Wallet    string    `json:"wallet"`
	ResetCode string    `json:"reset_code"`
	Expires   time.Time `json:"expires"`
}

// issueWalletReset gives a reset code for a wallet, and records it in the
// audit log under a keyed hash of the wallet number.
func (s *Server) issueWalletReset(c echo.Context, wallet string) (apiWalletResetCode, error) {
	if s.holders == nil {
		return apiWalletResetCode{}, echo.ErrNotFound
	}
	id := holder.NormalizeID(wallet)
	if len(id) != 10 {
		return apiWalletResetCode{}, invalidField("wallet", "format", "a wallet number has ten letters and digits, like ABCDE-FGHIJ")
	}
	ctx := c.Request().Context()
	code, err := s.holders.IssueReset(ctx, id)
	if err != nil {
		return apiWalletResetCode{}, err
	}
	if err := s.svc.RecordAdministration(ctx, mustPrincipal(c), audit.ActionWalletReset, audit.ObjectWallet, s.svc.AuditCredentialID("wallet:"+id)); err != nil {
		return apiWalletResetCode{}, err
	}
	return apiWalletResetCode{Wallet: holder.FormatID(id), ResetCode: code, Expires: s.svc.Now().Add(s.holders.ResetTTL()).UTC()}, nil
}

// apiWalletStaffReset is the staff's API twin of /admin/wallets.
func (s *Server) apiWalletStaffReset(c echo.Context) error {
	r, err := s.issueWalletReset(c, c.Param("wallet"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, r)
}
