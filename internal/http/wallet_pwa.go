package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
)

// This file is the holder's own view of their credentials (issue 8, part
// pwa): the home list with a card per credential and its status badge,
// and a credential's page with every claim in the holder's language, what
// it is for, who issued it, when it ends, the QR to show it, its status,
// and deleting it (asked first).

// pwaView is what the web wallet's credential pages show (walletView.PWA).
type pwaView struct {
	// Cards are the home list.
	Cards []pwaCard
	// Credential is the credential of its page.
	Credential *pwaCredential
	// Seen is when the page was made, in words: the offline banner says
	// "as last seen on" it.
	Seen string
}

// pwaCard is one credential of the home list.
type pwaCard struct {
	ID, Name, Issuer, Received, Kind string
	Badge                            pwaBadge
}

// pwaBadge is a credential's status in plain words.
type pwaBadge struct {
	// State is a holder.State constant, or "" when never checked.
	State string
	// Label is the state in words; When when it was last checked; Next
	// what to do about it.
	Label, When, Next string
}

// pwaCredential is a credential's page.
type pwaCredential struct {
	ID, Name, Issuer, IssuerID, Purpose, Ends, Received, Format, Kind string
	Claims                                                            []claimRow
	Badge                                                             pwaBadge
	// QR is the card's QR image as a data: URL (a QR card), shown offline
	// with the page; QRPage is the page that makes a QR to show (other
	// formats).
	QR     template.URL
	QRPage string
	// Unreadable says the wallet could not read the credential's claims;
	// Unverified that its issuer's signature could not be checked when it
	// came.
	Unreadable, Unverified bool
}

// pwaStatusMaxAge is how old a status check may be before a credential's
// page checks again.
const pwaStatusMaxAge = 6 * time.Hour

// newPWAPage starts a page of this part.
func (s *Server) newPWAPage(c echo.Context, titleKey string) (*pageData, *pwaView) {
	d := s.newWalletPage(c, titleKey)
	v := &pwaView{Seen: peopleDateTime(d.T, s.pwaNow())}
	d.Wallet.PWA = v
	return d, v
}

func (s *Server) pwaNow() time.Time {
	if s.svc != nil {
		return s.svc.Now().UTC()
	}
	return time.Now().UTC()
}

// walletCards makes the home list's cards.
func (s *Server) walletCards(ctx context.Context, t *Messages, w *holder.Wallet, cs []holder.Credential) ([]pwaCard, error) {
	sts, err := w.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]pwaCard, 0, len(cs))
	for _, cr := range cs {
		card := pwaCard{ID: cr.ID, Name: credentialName(t, cr), Issuer: issuerName(cr), Received: peopleDate(t, cr.Received), Kind: formatName(t, cr.Format)}
		if st, ok := sts[cr.ID]; ok {
			card.Badge = badge(t, &st)
		} else {
			card.Badge = badge(t, nil)
		}
		out = append(out, card)
	}
	return out, nil
}

// walletCredential shows one of the holder's credentials. When its status
// was not checked lately, the page checks it first (bounded in time).
func (s *Server) walletCredential(c echo.Context) error {
	ctx := c.Request().Context()
	w := walletOf(c)
	cr, err := w.Credential(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	st, err := w.Status(ctx, cr.ID)
	if errors.Is(err, holder.ErrNotFound) || err == nil && s.pwaNow().Sub(st.CheckedAt) > pwaStatusMaxAge {
		if st, err = s.checkStatusKeeping(ctx, w, cr); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	d, v := s.newPWAPage(c, "wallet_pwa_credential_title")
	v.Credential = s.heldCredentialPage(d.T, cr, &st)
	d.Title = v.Credential.Name
	keepOffline(c)
	return s.render(c, http.StatusOK, "wallet_pwa_credential", d)
}

// checkStatusKeeping checks a credential's status now; when the check
// cannot tell (the issuer's server is out of reach), the last known state
// stays.
func (s *Server) checkStatusKeeping(ctx context.Context, w *holder.Wallet, cr holder.Credential) (holder.CredentialStatus, error) {
	prev, perr := w.Status(ctx, cr.ID)
	fresh := s.readStatus(ctx, cr)
	if fresh.State == holder.StateUnknown && perr == nil && prev.State != holder.StateUnknown {
		return prev, nil
	}
	if err := w.SetStatus(ctx, cr.ID, fresh); err != nil {
		return holder.CredentialStatus{}, err
	}
	return w.Status(ctx, cr.ID)
}

// walletCheckStatus checks a credential's status now (the page's button).
func (s *Server) walletCheckStatus(c echo.Context) error {
	ctx := c.Request().Context()
	w := walletOf(c)
	cr, err := w.Credential(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if _, err := s.checkStatusKeeping(ctx, w, cr); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/credentials/"+cr.ID)
}

// walletDeleteForm asks before deleting a credential.
func (s *Server) walletCredentialDeleteForm(c echo.Context) error {
	cr, err := walletOf(c).Credential(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	d, v := s.newPWAPage(c, "wallet_pwa_delete_title")
	v.Credential = &pwaCredential{ID: cr.ID, Name: credentialName(d.T, cr), Issuer: issuerName(cr)}
	return s.render(c, http.StatusOK, "wallet_pwa_delete", d)
}

// walletDelete deletes a credential, when the form says yes.
func (s *Server) walletCredentialDelete(c echo.Context) error {
	w := walletOf(c)
	id := c.Param("id")
	if c.FormValue("confirm") != "yes" {
		cr, err := w.Credential(c.Request().Context(), id)
		if err != nil {
			return err
		}
		d, v := s.newPWAPage(c, "wallet_pwa_delete_title")
		v.Credential = &pwaCredential{ID: cr.ID, Name: credentialName(d.T, cr), Issuer: issuerName(cr)}
		d.Message = d.T.Get("wallet_pwa_delete_confirm_required")
		return s.render(c, http.StatusBadRequest, "wallet_pwa_delete", d)
	}
	if err := w.DeleteCredential(c.Request().Context(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/?done=deleted")
}

// apiWalletStatus checks a credential's status now, or with offline=1
// returns the last check without going to the network.
func (s *Server) apiWalletStatus(c echo.Context) error {
	ctx := c.Request().Context()
	w := walletOf(c)
	cr, err := w.Credential(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var st holder.CredentialStatus
	switch off := c.QueryParam("offline"); off {
	case "1", "true":
		if st, err = w.Status(ctx, cr.ID); errors.Is(err, holder.ErrNotFound) {
			return fmt.Errorf("this credential's status was never checked: call again without offline=1 when online: %w", holder.ErrNotFound)
		} else if err != nil {
			return err
		}
	case "", "0", "false":
		if st, err = s.checkStatusKeeping(ctx, w, cr); err != nil {
			return err
		}
	default:
		return invalidField("offline", "format", "offline must be 1 (the last check, without the network) or 0 (check now)")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"credential": cr.ID, "status": st})
}

// keepOffline marks a signed-in holder's page for the wallet's service
// worker to keep for offline use (wallet-sw.js): a page without the mark
// (a door, the page after locking) is never kept.
func keepOffline(c echo.Context) { c.Response().Header().Set("Tally-Offline", "keep") }

// credentialName is a credential's name in words.
func credentialName(t *Messages, cr holder.Credential) string {
	if cr.Name != "" {
		return cr.Name
	}
	key := "desk_type_" + cr.Type
	if s := t.Get(key); s != key {
		return s
	}
	if cr.Type != "" {
		return cr.Type
	}
	return t.Get("wallet_pwa_unnamed")
}

// formatName says what kind of credential the holder has: a card with a
// QR code, or a digital credential.
func formatName(t *Messages, format string) string {
	if format == "qr" {
		return t.Get("wallet_pwa_kind_card")
	}
	return t.Get("wallet_pwa_kind_digital")
}

func issuerName(cr holder.Credential) string {
	if cr.IssuerName != "" {
		return cr.IssuerName
	}
	return cr.Issuer
}

// heldCredentialPage reads a held credential for its page.
func (s *Server) heldCredentialPage(t *Messages, cr holder.Credential, st *holder.CredentialStatus) *pwaCredential {
	p := &pwaCredential{ID: cr.ID, Name: credentialName(t, cr), Issuer: issuerName(cr), IssuerID: cr.Issuer, Unverified: cr.Unverified,
		Received: peopleDate(t, cr.Received), Format: cr.Format, Kind: formatName(t, cr.Format), Badge: badge(t, st)}
	sec, err := parseHeld(cr.Raw)
	if err != nil {
		p.Unreadable = true
		p.Purpose = t.Get("wallet_pwa_purpose_other")
		return p
	}
	view := sec.View()
	typ := cr.Type
	if typ == "" && len(view.Types) > 0 {
		typ = view.Types[len(view.Types)-1]
	}
	key := "wallet_pwa_purpose_" + typ
	if p.Purpose = t.Get(key); p.Purpose == key {
		p.Purpose = t.Get("wallet_pwa_purpose_other")
	}
	if cr.Name == "" {
		p.Name = credentialName(t, holder.Credential{Type: typ})
	}
	if !view.ValidUntil.IsZero() {
		p.Ends = peopleDate(t, view.ValidUntil)
	}
	p.Claims = claimRows(t, view.Claims)
	if sec.Format() == credentials.FormatQR {
		if png, err := credentials.CardPNG(strings.TrimSpace(cr.Raw), 480); err == nil {
			// A data: URL of a PNG the server just drew: safe to put in
			// src, and it shows offline with the kept page.
			p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	} else {
		p.QRPage = "/wallet/present/offline/" + cr.ID
	}
	return p
}

// claimRows are a credential's claims with labels and values in the
// holder's language: tally's claims by the registration form's labels,
// dates written for people, other claims by their names.
func claimRows(t *Messages, claims json.RawMessage) []claimRow {
	if len(claims) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(claims))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil
	}
	var rows []claimRow
	flatten("", x, &rows)
	slices.SortStableFunc(rows, func(a, b claimRow) int { return claimRank(a.Name) - claimRank(b.Name) })
	out := rows[:0]
	for _, r := range rows {
		if r.Name == "id" || strings.HasSuffix(r.Name, ".id") && strings.HasPrefix(r.Value, "did:") {
			continue // the holder's own key, not something to read
		}
		out = append(out, claimRow{Name: heldClaimLabel(t, r.Name), Value: claimValue(t, r.Name, r.Value)})
	}
	return out
}

// claimRank orders tally's claims as a person reads them: who, then the
// registration; other claims after.
func claimRank(name string) int {
	if i := slices.Index(claimOrder, name); i >= 0 {
		return i
	}
	return len(claimOrder)
}

// claimOrder is the order of tally's claims on a credential's page.
var claimOrder = []string{"fullName", "firstName", "lastName", "dateOfBirth", "gender", "nationality", "legalStatus",
	"language", "householdSize", "registrationId", "programme", "programmeName", "locationCode"}

// heldClaimLabel names a claim on the holder's credential page: the
// registration form's label, else the wallet's own, else its name.
func heldClaimLabel(t *Messages, name string) string {
	return t.First(name, "wallet_pwa_claim_"+name, "reg_"+name)
}

func claimValue(t *Messages, name, value string) string {
	switch name {
	case "gender":
		if s := t.Get("gender_" + value); s != "gender_"+value {
			return s
		}
	case "language":
		return t.LanguageName(value)
	case "legalStatus":
		if s := t.Get("wallet_pwa_legal_" + value); s != "wallet_pwa_legal_"+value {
			return s
		}
	}
	if d, err := time.Parse("2006-01-02", value); err == nil {
		return peopleDate(t, d)
	}
	if d, err := time.Parse(time.RFC3339, value); err == nil {
		return peopleDate(t, d)
	}
	return value
}

// peopleDate writes a day for people, in their language: "14 March 1991".
func peopleDate(t *Messages, d time.Time) string {
	if d.IsZero() {
		return ""
	}
	d = d.UTC()
	return t.Get("wallet_pwa_date", d.Day(), t.Get("wallet_pwa_month_"+itoa(int(d.Month()))), d.Year())
}

// peopleDateTime writes a day and time of day for people.
func peopleDateTime(t *Messages, d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return t.Get("wallet_pwa_datetime", peopleDate(t, d), isolate(d.UTC().Format("15:04")+"\u00a0UTC"))
}

func itoa(n int) string {
	if n >= 10 {
		return string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	return string(rune('0' + n))
}

// badge says a status in words.
func badge(t *Messages, st *holder.CredentialStatus) pwaBadge {
	if st == nil {
		return pwaBadge{Label: t.Get("wallet_pwa_state_unchecked"), Next: t.Get("wallet_pwa_next_unchecked")}
	}
	b := pwaBadge{State: st.State, Label: t.Get("wallet_pwa_state_" + st.State), Next: t.Get("wallet_pwa_next_" + st.State),
		When: t.Get("wallet_pwa_checked_on", peopleDateTime(t, st.CheckedAt))}
	if st.State == holder.StateValid && !st.Revocable {
		b.Next = t.Get("wallet_pwa_next_valid_unrevocable")
	}
	return b
}

// walletHomeCards fills the home page's cards, and keeps the page out of
// HTTP caches.
func (s *Server) walletHomeCards(c echo.Context, d *pageData, w *holder.Wallet) error {
	v := &pwaView{Seen: peopleDateTime(d.T, s.pwaNow())}
	d.Wallet.PWA = v
	cards, err := s.walletCards(c.Request().Context(), d.T, w, d.Wallet.Credentials)
	if err != nil {
		return err
	}
	v.Cards = cards
	if c.QueryParam("done") == "deleted" {
		d.Notice = d.T.Get("wallet_pwa_deleted")
	}
	keepOffline(c)
	return nil
}
