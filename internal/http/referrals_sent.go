package http

// Referrals, the referring organisation's side (issue 7,
// docs/referrals.md): the feedback endpoint each organisation publishes in
// its DID document, and the list of its referrals with their state.

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/referral"
)

// apiFeedbackAnswer is the answer to a feedback POST.
type apiFeedbackAnswer struct {
	Referral string         `json:"referral"`
	State    referral.State `json:"state"`
	Code     string         `json:"code,omitempty"`
	// Changed is false for a replay, or a state older than the one known.
	Changed bool `json:"changed"`
}

// referralFeedback receives a feedback JWT (public; the JWT's signature
// is its authentication). The body is read up to referral.MaxFeedbackJWT
// bytes before anything else.
func (s *Server) referralFeedback(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, referral.MaxFeedbackJWT+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "feedback", Code: "malformed", Message: "the body could not be read"}}}
	}
	if len(body) > referral.MaxFeedbackJWT {
		return &http.MaxBytesError{Limit: referral.MaxFeedbackJWT}
	}
	ctx := c.Request().Context()
	org, err := s.svc.Organisation(ctx, c.Param("org"))
	if err != nil {
		return err
	}
	st, changed, err := s.referrals.ReceiveFeedback(ctx, org.Slug, org.DID, body)
	if err != nil {
		var fe *referral.FeedbackError
		if errors.As(err, &fe) {
			s.log.WarnContext(ctx, "referral feedback refused", "org", org.Slug, "reason", fe.Reason)
		}
		return referralErr(err)
	}
	s.log.InfoContext(ctx, "referral feedback", "org", org.Slug, "state", string(st.State), "changed", changed)
	return c.JSON(http.StatusOK, apiFeedbackAnswer{Referral: st.Referral, State: st.State, Code: st.Code, Changed: changed})
}

// referralsSentPage lists the referrals the organisation made, with what
// the organisations they went to said of them.
func (s *Server) referralsSentPage(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	list, err := s.referrals.ListSent(c.Request().Context(), p.Org)
	if err != nil {
		return err
	}
	d := s.newPage(c, "referrals_sent_title")
	v := s.newReferralsView(c, d)
	v.Sent = list
	return s.render(c, http.StatusOK, "referrals_sent", d)
}

func (s *Server) apiReferralsSent(c echo.Context) error {
	if err := s.referralsOn(); err != nil {
		return err
	}
	list, err := s.referrals.ListSent(c.Request().Context(), mustPrincipal(c).Org)
	if err != nil {
		return err
	}
	if list == nil {
		list = []referral.Sent{}
	}
	return c.JSON(http.StatusOK, map[string]any{"referrals": list})
}

// registrationReferrals adds to a registration page what was heard of its
// referrals; nothing when referrals are off.
func (s *Server) registrationReferrals(c echo.Context, d *pageData) error {
	if s.referralsOn() != nil {
		return nil
	}
	var ids []string
	for _, r := range d.Credentials {
		if r.Type == credentials.TypeReferral {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	states, err := s.referrals.SentStates(c.Request().Context(), mustPrincipal(c).Org, ids)
	if err != nil {
		return err
	}
	v := s.newReferralsView(c, d)
	v.SentStates = states
	return nil
}
