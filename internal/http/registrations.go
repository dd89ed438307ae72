package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// personFields are the registration claims' form fields, in the order of
// the form; they are named as in the JSON API.
var personFields = []string{"registrationId", "fullName", "firstName", "lastName", "dateOfBirth", "gender",
	"nationality", "legalStatus", "locationCode", "language", "householdSize"}

// consentFields are the consent's form fields.
var consentFields = []string{"programme", "consent.given", "consent.method", "consent.language"}

// canRegister tells whether a role registers and corrects.
func canRegister(r issuer.Role) bool { return r == issuer.RoleRegistrar || r == issuer.RoleSupervisor }

// personForm reads the registration claims of a form, and keeps what was
// sent to show it again. A household size that is not a number is an
// error of its own.
func personForm(c echo.Context, form map[string]string) (credentials.Registration, []issuer.FieldError) {
	for _, name := range personFields {
		form[name] = c.FormValue(name)
	}
	p := credentials.Registration{
		RegistrationID: form["registrationId"], FullName: form["fullName"], FirstName: form["firstName"], LastName: form["lastName"],
		DateOfBirth: form["dateOfBirth"], Gender: form["gender"], Nationality: strings.ToUpper(strings.TrimSpace(form["nationality"])),
		LegalStatus: form["legalStatus"], LocationCode: form["locationCode"], Language: strings.ToLower(strings.TrimSpace(form["language"])),
	}
	var bad []issuer.FieldError
	if v := strings.TrimSpace(form["householdSize"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, issuer.FieldError{Field: "householdSize", Code: "format", Message: "give a whole number"})
		}
		p.HouseholdSize = n
	}
	return p, bad
}

// consentForm reads the programme and the consent of a form.
func consentForm(c echo.Context, form map[string]string) (string, issuer.ConsentInput) {
	for _, name := range consentFields {
		form[name] = c.FormValue(name)
	}
	// consent.staffId is not on the form: a staff member signed in takes
	// the consent. An integration posting the form names one.
	form["consent.staffId"] = c.FormValue("consent.staffId")
	return form["programme"], issuer.ConsentInput{
		Given:    form["consent.given"] == "yes",
		Method:   issuer.ConsentMethod(form["consent.method"]),
		Language: form["consent.language"],
		StaffID:  form["consent.staffId"],
	}
}

// registerForm shows the registration form, consent first, for the
// programme chosen (?programme=CODE), or the organisation's only one; with
// several and none chosen, it asks which.
func (s *Server) registerForm(c echo.Context) error {
	return s.renderRegister(c, http.StatusOK, c.QueryParam("programme"), nil, nil, nil)
}

func (s *Server) renderRegister(c echo.Context, status int, code string, form map[string]string, ie *issuer.InvalidError, matches []issuer.Match) error {
	d := s.newPage(c, "register_title")
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	ctx := c.Request().Context()
	list, err := s.svc.Programmes(ctx, d.Org.Slug)
	if err != nil {
		return err
	}
	d.Programmes = list
	// A first visit to the form picks the only programme; a form sent
	// without a programme (or an unknown one) asks which.
	if code == "" && len(list) == 1 && form == nil {
		code = list[0].Code
	}
	for i := range list {
		if list[i].Code == code {
			d.Programme = &list[i]
		}
	}
	if code != "" && d.Programme == nil && form == nil {
		return issuer.ErrNotFound
	}
	d.Form, d.Matches = form, matches
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	if d.Programme != nil && d.Form["consent.language"] == "" {
		d.Form["consent.language"] = d.Programme.Languages[0]
	}
	d.Methods, d.Genders = issuer.ConsentMethods(), genders()
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "register", d)
}

func genders() []string { return []string{"female", "male", "other"} }

// register registers a person: refused without consent; shown the likely
// duplicates first, unless staff confirm they looked and the person is
// not one of them.
func (s *Server) register(c echo.Context) error {
	p := mustPrincipal(c)
	form := map[string]string{}
	person, bad := personForm(c, form)
	code, consent := consentForm(c, form)
	person.Programme = code
	form["confirm"] = c.FormValue("confirm")
	in := issuer.NewRegistration{Person: person, Consent: consent, Confirm: form["confirm"] == "yes"}
	if len(bad) > 0 {
		return s.renderRegister(c, http.StatusBadRequest, code, form, &issuer.InvalidError{Fields: bad}, nil)
	}
	reg, err := s.svc.Register(c.Request().Context(), p, p.Org, in)
	var ie *issuer.InvalidError
	var de *issuer.DuplicatesError
	switch {
	case errors.As(err, &ie):
		if _, bad := ie.Field("programme"); bad {
			code = ""
		}
		return s.renderRegister(c, http.StatusBadRequest, code, form, ie, nil)
	case errors.As(err, &de):
		return s.renderRegister(c, http.StatusOK, code, form, nil, de.Matches)
	case err != nil:
		return err
	}
	s.log.InfoContext(c.Request().Context(), "registered", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/registrations/"+reg.ID+"?done=registered")
}

// link records the visit against an existing registration instead of
// registering the person again.
func (s *Server) link(c echo.Context) error {
	p := mustPrincipal(c)
	form := map[string]string{}
	code, consent := consentForm(c, form)
	reg, err := s.svc.Link(c.Request().Context(), p, p.Org, c.Param("id"), issuer.LinkInput{Programme: code, Consent: consent})
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderRegistration(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "linked", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/registrations/"+reg.ID+"?done=linked")
}

// registrationPage shows a registration: the person, the consent, the
// visits linked and the corrections made.
func (s *Server) registrationPage(c echo.Context) error {
	return s.renderRegistration(c, http.StatusOK, nil, nil)
}

// renderRegistration shows a registration; with a form and its errors, it
// also shows the form to link a visit, to correct what was sent.
func (s *Server) renderRegistration(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	reg, err := s.svc.Registration(ctx, p.Org, c.Param("id"))
	if err != nil {
		return err
	}
	d := s.newPage(c, "registration_title")
	d.Registration, d.CanRegister, d.CanRevoke = &reg, canRegister(p.Role), p.Role == issuer.RoleSupervisor
	d.CanErase = p.Role == issuer.RoleSupervisor // retention: erase on request
	d.ReferralFields, d.ReferralMethods, d.Urgencies = issuer.ReferralFields(), []string{"verbal", "written", "digital"}, []string{"low", "medium", "high"}
	if rf, ok := c.Get(referralFormKey).(map[string]string); ok {
		d.ReferralForm = rf
	}
	if d.Credentials, err = s.svc.Credentials(ctx, p.Org, reg.ID); err != nil {
		return err
	}
	// referrals (issue 7): what was heard of the registration's referrals.
	if err := s.registrationReferrals(c, d); err != nil {
		return err
	}
	if d.CanRegister && d.Programmes == nil {
		if d.Programmes, err = s.svc.Programmes(ctx, p.Org); err != nil {
			return err
		}
	}
	if d.StaffNames, err = s.staffNames(c, p.Org); err != nil {
		return err
	}
	d.Notice = doneNotice(c, d.T)
	if form != nil {
		list, err := s.svc.Programmes(ctx, p.Org)
		if err != nil {
			return err
		}
		d.Programmes, d.Form, d.Methods = list, form, issuer.ConsentMethods()
		// The form shows the programme it was sent for, or the
		// registration's own when that one is unknown.
		for _, code := range []string{reg.Programme, form["programme"]} {
			for i := range list {
				if list[i].Code == code {
					d.Programme = &list[i]
				}
			}
		}
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "registration", d)
}

// staffNames maps the organisation's staff ids to their names, to say who
// registered, took consent and corrected.
func (s *Server) staffNames(c echo.Context, org string) (map[string]string, error) {
	list, err := s.svc.ListStaff(c.Request().Context(), org)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list))
	for _, st := range list {
		names[st.ID] = st.Name
	}
	return names, nil
}

// correctForm shows a registration's data to correct.
func (s *Server) correctForm(c echo.Context) error {
	return s.renderCorrect(c, http.StatusOK, nil, nil, "")
}

func (s *Server) renderCorrect(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError, msgKey string) error {
	p := mustPrincipal(c)
	reg, err := s.svc.Registration(c.Request().Context(), p.Org, c.Param("id"))
	if err != nil {
		return err
	}
	d := s.newPage(c, "correct_title")
	d.Registration, d.Genders, d.Form = &reg, genders(), form
	if d.Form == nil {
		r := reg.Person
		d.Form = map[string]string{
			"registrationId": r.RegistrationID, "fullName": r.FullName, "firstName": r.FirstName, "lastName": r.LastName,
			"dateOfBirth": r.DateOfBirth, "gender": r.Gender, "nationality": r.Nationality, "legalStatus": r.LegalStatus,
			"locationCode": r.LocationCode, "language": r.Language, "rev": strconv.Itoa(reg.Rev),
		}
		if r.HouseholdSize != 0 {
			d.Form["householdSize"] = strconv.Itoa(r.HouseholdSize)
		}
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	if msgKey != "" {
		d.Message = d.T.Get(msgKey)
	}
	return s.render(c, status, "correct", d)
}

// correct saves a correction. The form sends every field; a field left
// as it was changes nothing.
func (s *Server) correct(c echo.Context) error {
	p := mustPrincipal(c)
	form := map[string]string{"rev": c.FormValue("rev")}
	person, bad := personForm(c, form)
	rev, err := strconv.Atoi(form["rev"])
	if err != nil || rev <= 0 {
		bad = append(bad, issuer.FieldError{Field: "rev", Code: "format", Message: "open the correction form again"})
	}
	if len(bad) > 0 {
		return s.renderCorrect(c, http.StatusBadRequest, form, &issuer.InvalidError{Fields: bad}, "")
	}
	in := issuer.PersonCorrection{
		RegistrationID: &person.RegistrationID, FullName: &person.FullName, FirstName: &person.FirstName, LastName: &person.LastName,
		DateOfBirth: &person.DateOfBirth, Gender: &person.Gender, Nationality: &person.Nationality, LegalStatus: &person.LegalStatus,
		LocationCode: &person.LocationCode, Language: &person.Language, HouseholdSize: &person.HouseholdSize, Rev: rev,
	}
	reg, err := s.svc.Correct(c.Request().Context(), p, p.Org, c.Param("id"), in)
	var ie *issuer.InvalidError
	switch {
	case errors.As(err, &ie):
		return s.renderCorrect(c, http.StatusBadRequest, form, ie, "")
	case errors.Is(err, issuer.ErrConflict):
		return s.renderCorrect(c, http.StatusConflict, form, nil, "correct_changed")
	case err != nil && reg.ID == "":
		return err
	case err != nil:
		// Corrected, but what follows a correction failed: say so.
		s.log.ErrorContext(c.Request().Context(), "after a correction", "registration", reg.ID, logError, err.Error())
	}
	s.log.InfoContext(c.Request().Context(), "corrected", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/registrations/"+reg.ID+"?done=corrected")
}

// searchPage shows the search form.
func (s *Server) searchPage(c echo.Context) error {
	d := s.newPage(c, "search_title")
	d.Form = map[string]string{}
	return s.render(c, http.StatusOK, "search", d)
}

// search finds registrations by registration ID, name or date of birth.
// It is a POST, so that names and dates stay out of URLs, browser
// history and proxies' logs.
func (s *Server) search(c echo.Context) error {
	p := mustPrincipal(c)
	d := s.newPage(c, "search_title")
	d.Form = map[string]string{"q": c.FormValue("q"), "dateOfBirth": c.FormValue("dateOfBirth")}
	q := issuer.SearchQuery{DateOfBirth: d.Form["dateOfBirth"]}
	// Names have no digits; registration IDs do.
	if text := strings.TrimSpace(d.Form["q"]); strings.ContainsAny(text, "0123456789") {
		q.RegistrationID = text
	} else {
		q.Name = text
	}
	matches, err := s.svc.Search(c.Request().Context(), p.Org, q)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		for i, f := range ie.Fields {
			if f.Field != "dateOfBirth" {
				ie.Fields[i].Field = "q"
			}
		}
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
		return s.render(c, http.StatusBadRequest, "search", d)
	}
	if err != nil {
		return err
	}
	d.Matches, d.Searched, d.CanRegister = matches, true, canRegister(p.Role)
	return s.render(c, http.StatusOK, "search", d)
}
