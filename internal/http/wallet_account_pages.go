package http

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/issuer"
)

// This file is the web wallet's account pages (wallet/account): the
// settings (language, PIN, backup, restore, export, delete everything),
// the share log, and the public doors of recovery and staff reset; and
// the registration staff's page that gives a reset code.

// walletAccountView is what the account pages show.
type walletAccountView struct {
	// Lang is the holder's language.
	Lang string
	// Shares is the share log, as shown.
	Shares []shareView
	// Restored is what a restore just added.
	Restored *holder.Restored
	// Reset is a wallet just started again with a reset code: the
	// credentials must be offered again.
	Reset bool
}

// shareView is one entry of the share log in plain words, in the
// holder's language.
type shareView struct {
	When     string
	Verifier string
	Purpose  string
	// Credentials are the names of the credentials shown (those still
	// in the wallet); Claims the names of the claims disclosed.
	Credentials []string
	Claims      []string
	Outcome     string
}

// useWalletLang makes a signed-in holder's pages speak the language they
// chose in their settings. Choosing another at the foot of a page
// (?lang=) is a choice too: it is kept in the wallet, so that every page
// of theirs speaks it, on this phone or another.
func (s *Server) useWalletLang(c echo.Context, w *holder.Wallet, d *pageData, titleKey string) {
	// The language is read from the sealed profile once a request, however
	// many pages' data the request starts.
	lang, ok := c.Get(walletLangKey).(string)
	if !ok {
		var err error
		if lang, err = w.Lang(c.Request().Context()); err != nil {
			return
		}
		if asked := c.QueryParam("lang"); asked != "" && asked == d.Lang && asked != lang {
			if w.SetLang(c.Request().Context(), asked) == nil {
				lang = asked
			}
		}
		c.Set(walletLangKey, lang)
	}
	if c.QueryParam("lang") != "" {
		return
	}
	if m, ok := s.cat.byLang[lang]; ok {
		d.T, d.Lang, d.Dir, d.Title = m, m.Lang(), m.Dir(), m.Get(titleKey)
	}
}

// walletLangKey is where useWalletLang keeps the holder's language for
// the rest of the request.
const walletLangKey = "tally.walletLang"

// walletAccountPage starts a page of the account part.
func (s *Server) walletAccountPage(c echo.Context, titleKey string) *pageData {
	d := s.newWalletPage(c, titleKey)
	d.Wallet.Account = &walletAccountView{Lang: d.Lang}
	return d
}

// walletSettingsPage shows the settings, and what a change just did.
func (s *Server) walletSettingsPage(c echo.Context) error {
	d := s.walletAccountPage(c, "wallet_account_settings_title")
	switch c.QueryParam("done") {
	case "lang":
		d.Notice = d.T.Get("wallet_account_done_lang")
	case "pin":
		d.Notice = d.T.Get("wallet_account_done_pin")
	}
	return s.render(c, http.StatusOK, "wallet_account_settings", d)
}

// settingsFail shows the settings again with an error, in the status of
// the error.
func (s *Server) settingsFail(c echo.Context, status int, key string, args ...any) error {
	d := s.walletAccountPage(c, "wallet_account_settings_title")
	d.Message = d.T.Get(key, args...)
	return s.render(c, status, "wallet_account_settings", d)
}

// pinFail shows the settings again after a PIN that did not open the
// wallet: wrong, locked, or a phone that does not keep this wallet.
func (s *Server) pinFail(c echo.Context, err error) error {
	switch {
	case errors.Is(err, holder.ErrLocked):
		var le *holder.LockedError
		errors.As(err, &le)
		setRetryAfter(c, err)
		if le.Until.IsZero() {
			return s.settingsFail(c, http.StatusTooManyRequests, "wallet_locked_for_good")
		}
		return s.settingsFail(c, http.StatusTooManyRequests, "wallet_locked_until", le.Until.UTC().Format("15:04"))
	case errors.Is(err, holder.ErrInvalid):
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_type_pin")
	case errors.Is(err, holder.ErrUnauthenticated):
		if s.phoneWallets(c)[walletOf(c).ID()] == "" {
			return s.settingsFail(c, http.StatusUnauthorized, "wallet_not_on_phone")
		}
		return s.settingsFail(c, http.StatusUnauthorized, "wallet_wrong_pin")
	}
	return err
}

// walletSettingsLang keeps the holder's language.
func (s *Server) walletSettingsLang(c echo.Context) error {
	lang := c.FormValue("lang")
	if !s.walletLangOK(lang) {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_lang_unknown")
	}
	if err := walletOf(c).SetLang(c.Request().Context(), lang); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/settings?done=lang")
}

// walletSettingsPIN changes the PIN, with this phone's device secret.
func (s *Server) walletSettingsPIN(c echo.Context) error {
	w := walletOf(c)
	pin, newPIN := c.FormValue("pin"), c.FormValue("new_pin")
	if newPIN != c.FormValue("new_pin_again") {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_pin_mismatch")
	}
	if holder.CheckPIN(newPIN) != nil {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_pin_rules", holder.MinPINLength, holder.MaxPINLength)
	}
	if pin == newPIN {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_pin_same")
	}
	if err := w.ChangePIN(c.Request().Context(), s.phoneWallets(c)[w.ID()], pin, newPIN); err != nil {
		return s.pinFail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/settings?done=pin")
}

// walletSettingsBackup sends the encrypted backup.
func (s *Server) walletSettingsBackup(c echo.Context) error {
	pass := c.FormValue("passphrase")
	if pass != c.FormValue("passphrase_again") {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_pass_mismatch")
	}
	if err := s.walletKDFTake(c); err != nil {
		return s.tooManyBackups(c, err)
	}
	file, err := walletOf(c).Backup(c.Request().Context(), pass)
	if errors.Is(err, holder.ErrInvalid) {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_pass_weak")
	} else if err != nil {
		return err
	}
	return s.walletFile(c, "tally-wallet-backup", file)
}

// walletSettingsRestore adds an uploaded backup to the wallet.
func (s *Server) walletSettingsRestore(c echo.Context) error {
	r := c.Request()
	if err := r.ParseMultipartForm(maxWalletRestore); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_restore_nofile")
	}
	var file []byte
	if r.MultipartForm != nil && len(r.MultipartForm.File["file"]) == 1 {
		var err error
		if file, err = readBackupPart(r.MultipartForm.File["file"][0]); err != nil {
			return s.settingsFail(c, http.StatusBadRequest, "wallet_account_restore_bad")
		}
	}
	if len(file) == 0 {
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_restore_nofile")
	}
	if err := s.walletKDFTake(c); err != nil {
		return s.tooManyBackups(c, err)
	}
	got, err := walletOf(c).Restore(r.Context(), file, c.FormValue("passphrase"))
	switch {
	case errors.Is(err, holder.ErrFull):
		return s.settingsFail(c, http.StatusConflict, "wallet_account_restore_full")
	case errors.Is(err, holder.ErrInvalid):
		return s.settingsFail(c, http.StatusBadRequest, "wallet_account_restore_bad")
	case err != nil:
		return err
	}
	d := s.walletAccountPage(c, "wallet_account_settings_title")
	d.Wallet.Account.Restored = &got
	d.Notice = d.T.Get("wallet_account_done_restore", got.Credentials, got.Skipped)
	return s.render(c, http.StatusOK, "wallet_account_settings", d)
}

// tooManyBackups shows the settings after too many backups or restores.
func (s *Server) tooManyBackups(c echo.Context, err error) error {
	var tm *issuer.TooManyAttemptsError
	if !errors.As(err, &tm) {
		return err
	}
	setRetryAfter(c, err)
	return s.settingsFail(c, http.StatusTooManyRequests, "wallet_account_too_many", retryMinutes(tm.RetryAfter))
}

// readBackupPart reads an uploaded file, up to a backup's size.
func readBackupPart(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > holder.MaxBackupBytes {
		return nil, errors.New("too large")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, holder.MaxBackupBytes+1))
}

// walletSettingsExport sends the plain export, once the PIN is typed
// again.
func (s *Server) walletSettingsExport(c echo.Context) error {
	w := walletOf(c)
	if err := w.ConfirmPIN(c.Request().Context(), s.phoneWallets(c)[w.ID()], c.FormValue("pin")); err != nil {
		return s.pinFail(c, err)
	}
	file, err := w.Export(c.Request().Context())
	if err != nil {
		return err
	}
	return s.walletFile(c, "tally-wallet-credentials", file)
}

// walletDeleteForm says what deleting the wallet loses, and asks again.
func (s *Server) walletDeleteForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "wallet_account_delete", s.walletAccountPage(c, "wallet_account_delete_title"))
}

// walletDelete deletes the wallet, when the holder ticked that they
// understand and typed their PIN again; this phone forgets it.
func (s *Server) walletDelete(c echo.Context) error {
	w := walletOf(c)
	fail := func(status int, key string) error {
		d := s.walletAccountPage(c, "wallet_account_delete_title")
		d.Message = d.T.Get(key)
		return s.render(c, status, "wallet_account_delete", d)
	}
	if c.FormValue("confirm") != "yes" {
		return fail(http.StatusBadRequest, "wallet_account_delete_confirm_missing")
	}
	ctx := c.Request().Context()
	if err := w.ConfirmPIN(ctx, s.phoneWallets(c)[w.ID()], c.FormValue("pin")); err != nil {
		switch {
		case errors.Is(err, holder.ErrLocked):
			setRetryAfter(c, err)
			return fail(http.StatusTooManyRequests, "wallet_locked_for_good")
		case errors.Is(err, holder.ErrInvalid):
			return fail(http.StatusBadRequest, "wallet_account_type_pin")
		case errors.Is(err, holder.ErrUnauthenticated):
			return fail(http.StatusUnauthorized, "wallet_wrong_pin")
		}
		return err
	}
	if err := w.DeleteAll(ctx); err != nil {
		return err
	}
	s.clearDeviceSecret(c, w.ID())
	s.clearWalletSession(c)
	return c.Redirect(http.StatusSeeOther, "/wallet/")
}

// walletSharesPage shows the share log: who, when, for what, which
// claims (their names, never their values), and the answer.
func (s *Server) walletSharesPage(c echo.Context) error {
	w := walletOf(c)
	ctx := c.Request().Context()
	log, err := w.Shares(ctx)
	if err != nil {
		return err
	}
	cs, err := w.Credentials(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, cr := range cs {
		names[cr.ID] = cr.Name
		if cr.Name == "" {
			names[cr.ID] = cr.Type
		}
	}
	d := s.walletAccountPage(c, "wallet_account_shares_title")
	for _, sh := range log {
		v := shareView{When: peopleDateTime(d.T, sh.At), Verifier: sh.VerifierName, Purpose: sh.Purpose,
			Outcome: d.T.First(d.T.Get("wallet_account_shares_unknown"), "wallet_account_shares_outcome_"+sh.Outcome)}
		if v.Verifier == "" {
			v.Verifier = sh.Verifier
		}
		for _, name := range sh.Claims {
			v.Claims = append(v.Claims, claimLabel(d.T, oid4vp.ClaimPath{name}))
		}
		for _, id := range sh.Credentials {
			if n := names[id]; n != "" {
				v.Credentials = append(v.Credentials, n)
			}
		}
		d.Wallet.Account.Shares = append(d.Wallet.Account.Shares, v)
	}
	return s.render(c, http.StatusOK, "wallet_account_shares", d)
}

// --- the public doors: recovery and staff reset ---

// walletRecoverForm asks for the wallet number, the recovery code and a
// new PIN.
func (s *Server) walletRecoverForm(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	return s.render(c, http.StatusOK, "wallet_account_recover", s.walletAccountPage(c, "wallet_account_recover_title"))
}

// doorFail shows a door's form again with an error.
func (s *Server) doorFail(c echo.Context, page, titleKey string, status int, key string, args ...any) error {
	d := s.walletAccountPage(c, titleKey)
	d.Message = d.T.Get(key, args...)
	d.Form = map[string]string{"wallet": c.FormValue("wallet")}
	if len(d.Form["wallet"]) > 32 {
		d.Form["wallet"] = ""
	}
	return s.render(c, status, page, d)
}

// doorInput checks a door's form before anything costly; it returns the
// catalogue key of what is wrong, or "".
func doorInput(c echo.Context) (string, []any) {
	pin := c.FormValue("pin")
	switch {
	case len(holder.NormalizeID(c.FormValue("wallet"))) != 10:
		return "wallet_account_wallet_format", nil
	case holder.NormalizeID(c.FormValue("code")) == "":
		return "wallet_account_code_missing", nil
	case pin != c.FormValue("pin_again"):
		return "wallet_pin_mismatch", nil
	case holder.CheckPIN(pin) != nil:
		return "wallet_pin_rules", []any{holder.MinPINLength, holder.MaxPINLength}
	}
	return "", nil
}

// doorError shows what a recovery or reset answered.
func (s *Server) doorError(c echo.Context, page, titleKey, wrongKey string, err error) error {
	switch {
	case errors.Is(err, issuer.ErrTooManyAttempts):
		setRetryAfter(c, err)
		var tm *issuer.TooManyAttemptsError
		errors.As(err, &tm)
		return s.doorFail(c, page, titleKey, http.StatusTooManyRequests, "wallet_account_too_many", retryMinutes(tm.RetryAfter))
	case errors.Is(err, holder.ErrInvalid):
		return s.doorFail(c, page, titleKey, http.StatusBadRequest, "wallet_pin_rules", holder.MinPINLength, holder.MaxPINLength)
	case errors.Is(err, holder.ErrUnauthenticated), errors.Is(err, holder.ErrNotFound):
		return s.doorFail(c, page, titleKey, http.StatusUnauthorized, wrongKey)
	}
	return err
}

// walletRecover opens a wallet on this phone with its recovery code.
func (s *Server) walletRecover(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	const page, title = "wallet_account_recover", "wallet_account_recover_title"
	if key, args := doorInput(c); key != "" {
		return s.doorFail(c, page, title, http.StatusBadRequest, key, args...)
	}
	if err := s.walletDoors.take(clientIP(c)); err != nil {
		return s.doorError(c, page, title, "", err)
	}
	o, err := s.holders.Recover(c.Request().Context(), c.FormValue("wallet"), c.FormValue("code"), c.FormValue("pin"))
	if err != nil {
		return s.doorError(c, page, title, "wallet_account_recover_wrong", err)
	}
	s.setDeviceSecret(c, o.ID, o.DeviceSecret)
	s.setWalletSession(c, o.Session)
	return c.Redirect(http.StatusSeeOther, "/wallet/")
}

// walletResetForm asks for the wallet number, the reset code from
// registration staff and a new PIN.
func (s *Server) walletResetForm(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	return s.render(c, http.StatusOK, "wallet_account_reset", s.walletAccountPage(c, "wallet_account_reset_title"))
}

// walletReset starts the wallet again on this phone, and shows its new
// recovery code once.
func (s *Server) walletReset(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	const page, title = "wallet_account_reset", "wallet_account_reset_title"
	if key, args := doorInput(c); key != "" {
		return s.doorFail(c, page, title, http.StatusBadRequest, key, args...)
	}
	if err := s.walletDoors.take(clientIP(c)); err != nil {
		return s.doorError(c, page, title, "", err)
	}
	d := s.walletAccountPage(c, "wallet_opened_title")
	o, err := s.holders.ResetWithCode(c.Request().Context(), c.FormValue("wallet"), c.FormValue("code"), c.FormValue("pin"), d.Lang)
	if err != nil {
		return s.doorError(c, page, title, "wallet_account_reset_wrong", err)
	}
	s.setDeviceSecret(c, o.ID, o.DeviceSecret)
	s.setWalletSession(c, o.Session)
	d.Wallet.ID = holder.FormatID(o.ID)
	d.Wallet.Opened = &holder.Opened{ID: holder.FormatID(o.ID), RecoveryCode: o.RecoveryCode}
	d.Wallet.Account.Reset = true
	return s.render(c, http.StatusOK, "wallet_account_reset_done", d)
}

// --- registration staff ---

// walletStaffPage asks for the wallet number a holder reads out.
func (s *Server) walletStaffPage(c echo.Context) error {
	if s.holders == nil {
		return echo.ErrNotFound
	}
	return s.render(c, http.StatusOK, "wallet_account_staff", s.newPage(c, "wallet_account_staff_title"))
}

// walletStaffReset gives a reset code, shown once.
func (s *Server) walletStaffReset(c echo.Context) error {
	d := s.newPage(c, "wallet_account_staff_title")
	if c.FormValue("checked") != "yes" {
		d.Message = d.T.Get("wallet_account_staff_check_first")
		return s.render(c, http.StatusBadRequest, "wallet_account_staff", d)
	}
	r, err := s.issueWalletReset(c, c.FormValue("wallet"))
	switch {
	case errors.Is(err, issuer.ErrInvalid):
		d.Message = d.T.Get("wallet_account_wallet_format")
		return s.render(c, http.StatusBadRequest, "wallet_account_staff", d)
	case errors.Is(err, holder.ErrNotFound):
		d.Message = d.T.Get("wallet_account_staff_unknown")
		return s.render(c, http.StatusNotFound, "wallet_account_staff", d)
	case err != nil:
		return err
	}
	d.Form = map[string]string{"wallet": r.Wallet, "code": r.ResetCode, "expires": r.Expires.Format("2006-01-02 15:04") + " UTC"}
	return s.render(c, http.StatusOK, "wallet_account_staff", d)
}
