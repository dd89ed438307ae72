package http

// Referrals, the receiving organisation's side (issue 7, docs/referrals.md):
// staff present a referral with the person's registration credential, see
// the consented fields, accept or decline it, and later record its
// outcome. Each change queues feedback to the referring organisation.

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/referral"
)

// referralsView is what the referral pages show.
type referralsView struct {
	// List are the referrals received (or sent), of State if it is set;
	// Counts how many there are in each state.
	List   []referral.Received
	State  referral.State
	States []referral.State
	Counts map[referral.State]int
	// Presented is a referral just checked, with its shared fields;
	// Record the referral shown; Created says it was recorded just now.
	Presented *referral.Presented
	Record    *referral.Received
	Created   bool
	// Reasons and Outcomes are the codes a decline and an outcome give.
	Reasons, Outcomes []string
	// Sent are the referring organisation's referrals; SentStates what
	// was heard of a registration's referrals, by credential id.
	Sent       []referral.Sent
	SentStates map[string]referral.SentState
	now        time.Time
	t          *Messages
	// trust names the organisations referrals went to.
	trust *verifier.TrustList
}

// Ago says how long ago t was, in words ("3 hours ago").
func (v *referralsView) Ago(t time.Time) string {
	return ago(v.t, v.now, t)
}

// OrgName is the name the trust list gives an organisation's DID, or ""
// when it names none.
func (v *referralsView) OrgName(did string) string {
	if v.trust == nil {
		return ""
	}
	if iss, ok := v.trust.Issuer(did); ok {
		return iss.Name
	}
	return ""
}

// When writes a time as a date and an age, for people.
func (v *referralsView) When(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04") + " UTC · " + v.Ago(t)
}

func (s *Server) newReferralsView(c echo.Context, d *pageData) *referralsView {
	v := &referralsView{States: referral.States(), Reasons: referral.DeclineReasons(), Outcomes: referral.Outcomes(), now: s.svc.Now(), t: d.T}
	if s.trust != nil {
		v.trust = s.trust.TrustList()
	}
	d.Referrals = v
	return v
}

// referralsOn is nil when the verifier service and referrals are on;
// their routes answer 404 otherwise.
func (s *Server) referralsOn() error {
	if s.trust == nil || s.referrals == nil {
		return issuer.ErrNotFound
	}
	return nil
}

// maxCredentialText bounds a pasted credential.
const maxCredentialText = 64 << 10

// referralStateParam reads the ?state= filter of a list.
func referralStateParam(c echo.Context) (referral.State, error) {
	st := referral.State(c.QueryParam("state"))
	if st != "" && !st.Valid() {
		return "", &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "state", Code: "unknown", Message: "choose received, accepted, declined or closed"}}}
	}
	return st, nil
}

// referralsPage lists the referrals received, by state, with the form to
// present one.
func (s *Server) referralsPage(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	return s.renderReferrals(c, http.StatusOK, nil)
}

func (s *Server) renderReferrals(c echo.Context, status int, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	d := s.newPage(c, "referrals_title")
	v := s.newReferralsView(c, d)
	st, err := referralStateParam(c)
	if err != nil {
		return err
	}
	all, err := s.referrals.ListReceived(c.Request().Context(), p.Org, "")
	if err != nil {
		return err
	}
	v.State, v.Counts = st, map[referral.State]int{}
	for _, r := range all {
		v.Counts[r.State]++
		if st == "" || r.State == st {
			v.List = append(v.List, r)
		}
	}
	if ie != nil {
		d.Errors = referralFieldMessages(d.T, ie)
		d.Message = d.T.Get("referrals_refused")
	}
	return s.render(c, status, "referrals", d)
}

// credentialInput reads one credential of a form: its text, or a photo
// of its QR code (field NAME_photo), decoded by internal/scan.
func (s *Server) credentialInput(c echo.Context, name string) ([]byte, error) {
	text := strings.TrimSpace(c.FormValue(name))
	if len(text) > maxCredentialText {
		return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: name, Code: "too_long", Message: "the credential is too long"}}}
	}
	if text != "" {
		return []byte(text), nil
	}
	fh, err := c.FormFile(name + "_photo")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: name, Code: "format", Message: "the photo could not be read"}}}
	}
	data, err := readPart(fh)
	if err != nil {
		return nil, err
	}
	res, err := s.scanner.Decode(c.Request().Context(), data)
	if err != nil {
		return nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: name, Code: "no_code", Message: "no QR code could be read in the photo: take it again, closer and flat"}}}
	}
	return []byte(res.Text), nil
}

// readPart reads an uploaded file (the body is bounded by the server).
func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// referralPresent checks a referral presented with the person's
// registration credential, records it once, and shows what it shares.
func (s *Server) referralPresent(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	if err := c.Request().ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
	}
	var ie *issuer.InvalidError
	ref, err := s.credentialInput(c, "referral")
	if errors.As(err, &ie) {
		return s.renderReferrals(c, http.StatusBadRequest, ie)
	} else if err != nil {
		return err
	}
	reg, err := s.credentialInput(c, "registration")
	if errors.As(err, &ie) {
		return s.renderReferrals(c, http.StatusBadRequest, ie)
	} else if err != nil {
		return err
	}
	org, err := s.svc.Organisation(ctx, p.Org)
	if err != nil {
		return err
	}
	pr, err := referral.Check(ctx, s.trust.Verifier(), p.Org, org.DID, ref, reg)
	if err = referralErr(err); errors.As(err, &ie) {
		return s.renderReferrals(c, http.StatusBadRequest, ie)
	} else if err != nil {
		return err
	}
	rec, created, err := s.referrals.Receive(ctx, p.Actor(), pr)
	if err = referralErr(err); errors.As(err, &ie) {
		return s.renderReferrals(c, http.StatusBadRequest, ie)
	} else if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "referral presented", "org", p.Org, "by", p.Ref(), "new", created)
	d := s.newPage(c, "referrals_received_title")
	v := s.newReferralsView(c, d)
	v.Presented, v.Record, v.Created = pr, &rec, created
	if d.StaffNames, err = s.staffNames(c, p.Org); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "referral_received", d)
}

// referralRecordPage shows one referral received: its state and history,
// and the forms for its next change. The shared fields are not kept: they
// show only when the credentials are presented.
func (s *Server) referralRecordPage(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	return s.renderReferralRecord(c, http.StatusOK, nil)
}

func (s *Server) renderReferralRecord(c echo.Context, status int, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	rec, err := s.referrals.Received(c.Request().Context(), p.Org, c.Param("id"))
	if err != nil {
		return referralErr(err)
	}
	d := s.newPage(c, "referrals_received_title")
	v := s.newReferralsView(c, d)
	v.Record = &rec
	if c.QueryParam("done") == "changed" {
		d.Notice = d.T.Get("referrals_done_" + string(rec.State))
	}
	if ie != nil {
		d.Errors = referralFieldMessages(d.T, ie)
		d.Message = d.T.Get("referrals_refused")
	}
	if d.StaffNames, err = s.staffNames(c, p.Org); err != nil {
		return err
	}
	return s.render(c, status, "referral_received", d)
}

// referralChange accepts, declines or closes a referral received.
func (s *Server) referralChange(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	in := referral.ChangeInput{State: referral.State(c.FormValue("state")), Code: c.FormValue("code")}
	if _, err := s.changeReferral(c, p, c.Param("id"), in); err != nil {
		var ie *issuer.InvalidError
		if errors.As(err, &ie) {
			return s.renderReferralRecord(c, http.StatusBadRequest, ie)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/verify/referrals/"+c.Param("id")+"?done=changed")
}

func (s *Server) changeReferral(c echo.Context, p issuer.Principal, id string, in referral.ChangeInput) (referral.Received, error) {
	ctx := c.Request().Context()
	org, err := s.svc.Organisation(ctx, p.Org)
	if err != nil {
		return referral.Received{}, err
	}
	rec, err := s.referrals.Change(ctx, p.Actor(), p.Org, org.DID, id, in)
	if err != nil {
		return referral.Received{}, referralErr(err)
	}
	s.log.InfoContext(ctx, "referral changed", "org", p.Org, "by", p.Ref(), "state", string(rec.State))
	return rec, nil
}

// --- the JSON API of the receiving side ---

// apiReferralPresent is the body of POST /api/v1/orgs/ORG/referrals/received.
type apiReferralPresent struct {
	Referral     string `json:"referral"`
	Registration string `json:"registration"`
}

// apiReferralReceived is the answer: the referral as recorded, and the
// consented fields' values (never stored).
type apiReferralReceived struct {
	Referral referral.Received `json:"referral"`
	Shared   map[string]string `json:"shared"`
	Warnings []string          `json:"warnings,omitempty"`
}

func (s *Server) apiReferralPresent(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	var in apiReferralPresent
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	org, err := s.svc.Organisation(ctx, p.Org)
	if err != nil {
		return err
	}
	pr, err := referral.Check(ctx, s.trust.Verifier(), p.Org, org.DID, []byte(strings.TrimSpace(in.Referral)), []byte(strings.TrimSpace(in.Registration)))
	if err != nil {
		return referralErr(err)
	}
	rec, created, err := s.referrals.Receive(ctx, p.Actor(), pr)
	if err != nil {
		return referralErr(err)
	}
	out := apiReferralReceived{Referral: rec, Shared: map[string]string{}, Warnings: pr.Warnings}
	for _, f := range pr.Shared {
		out.Shared[f.Name] = f.Value
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if created {
		return c.JSON(http.StatusCreated, out)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiReferralsReceived(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	st, err := referralStateParam(c)
	if err != nil {
		return err
	}
	list, err := s.referrals.ListReceived(c.Request().Context(), mustPrincipal(c).Org, st)
	if err != nil {
		return err
	}
	if list == nil {
		list = []referral.Received{}
	}
	return c.JSON(http.StatusOK, map[string]any{"referrals": list})
}

func (s *Server) apiReferralChange(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	var in referral.ChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	rec, err := s.changeReferral(c, mustPrincipal(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

// referralFieldMessages turns an InvalidError into each field's message
// in the page's language: referrals_err_FIELD_CODE if the catalogue has
// it, else the general field_CODE, else the English message.
func referralFieldMessages(m *Messages, ie *issuer.InvalidError) map[string]string {
	out := map[string]string{}
	for _, f := range ie.Fields {
		out[f.Field] = f.Message
		for _, key := range []string{"referrals_err_" + f.Field + "_" + f.Code, "field_" + f.Code} {
			if msg := m.Get(key); msg != key {
				out[f.Field] = msg
				break
			}
		}
		if f.Code == "unverified" {
			// The verifier's reason, after the page's words.
			out[f.Field] = m.Get("referrals_err_unverified") + " (" + f.Message + ")"
		}
	}
	return out
}
