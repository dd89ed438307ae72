package http

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// errCrossOrigin is the refusal of a cross-origin unsafe request.
var errCrossOrigin = errors.New("cross-origin request refused")

// problem is how an error is shown: its HTTP status, a short code, and
// the catalogue key of the plain-words message.
type problem struct {
	status int
	code   string
	msgKey string
}

// problemOf is the one map from errors to HTTP statuses. Anything it does
// not know is a 500, whose details go to the log only.
func problemOf(err error) problem {
	var he *echo.HTTPError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, issuer.ErrInvalid):
		return problem{http.StatusBadRequest, "invalid", "err_invalid"}
	case errors.Is(err, issuer.ErrTooManyAttempts):
		return problem{http.StatusTooManyRequests, "too_many_attempts", "err_too_many_attempts"}
	case errors.Is(err, errMustChangePassword):
		return problem{http.StatusForbidden, "password_change", "err_password_change"}
	case errors.Is(err, issuer.ErrUnauthenticated):
		return problem{http.StatusUnauthorized, "unauthenticated", "err_unauthenticated"}
	case errors.Is(err, issuer.ErrForbidden):
		return problem{http.StatusForbidden, "forbidden", "err_forbidden"}
	case errors.Is(err, errCrossOrigin):
		return problem{http.StatusForbidden, "cross_origin", "err_cross_origin"}
	case errors.Is(err, issuer.ErrNotFound), errors.Is(err, issuer.ErrNoAuditLog):
		return problem{http.StatusNotFound, "not_found", "err_not_found"}
	case errors.Is(err, issuer.ErrNoConsent):
		return problem{http.StatusConflict, "no_consent", "err_no_consent"}
	case errors.Is(err, issuer.ErrStateChange):
		return problem{http.StatusConflict, "state", "err_state"}
	case errors.Is(err, issuer.ErrLikelyDuplicates):
		return problem{http.StatusConflict, "likely_duplicates", "err_likely_duplicates"}
	case errors.Is(err, issuer.ErrUnsupportedKey):
		return problem{http.StatusUnprocessableEntity, "unsupported_key", "err_unsupported_key"}
	case errors.Is(err, issuer.ErrErased):
		return problem{http.StatusGone, "erased", "err_erased"}
	case errors.Is(err, issuer.ErrRaced):
		return problem{http.StatusConflict, "raced", "err_raced"}
	case errors.Is(err, audit.ErrBroken):
		return problem{http.StatusConflict, "audit_broken", "err_audit_broken"}
	case errors.Is(err, issuer.ErrConflict):
		return problem{http.StatusConflict, "conflict", "err_conflict"}
	// --- the wallet (issue 8)
	case errors.Is(err, holder.ErrLocked):
		return problem{http.StatusTooManyRequests, "wallet_locked", "err_wallet_locked"}
	case errors.Is(err, holder.ErrUnauthenticated):
		return problem{http.StatusUnauthorized, "unauthenticated", "err_wallet_unauthenticated"}
	case errors.Is(err, holder.ErrNotFound):
		return problem{http.StatusNotFound, "not_found", "err_not_found"}
	case errors.Is(err, holder.ErrInvalid):
		return problem{http.StatusBadRequest, "invalid", "err_invalid"}
	case errors.Is(err, holder.ErrFull):
		return problem{http.StatusConflict, "wallet_full", "err_wallet_full"}
	// --- end of the wallet
	case errors.As(err, &tooLarge):
		return problem{http.StatusRequestEntityTooLarge, "too_large", "err_too_large"}
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return problem{http.StatusNotFound, "not_found", "err_not_found"}
		case http.StatusMethodNotAllowed:
			return problem{http.StatusMethodNotAllowed, "method_not_allowed", "err_method"}
		case http.StatusRequestEntityTooLarge:
			return problem{http.StatusRequestEntityTooLarge, "too_large", "err_too_large"}
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
			return problem{he.Code, "invalid", "err_invalid"}
		}
	}
	return problem{http.StatusInternalServerError, "internal", "err_internal"}
}

// apiError is the JSON body of every API error. A registration refused
// for likely duplicates lists them: link to one, or send it again with
// "confirm": true.
type apiError struct {
	Error      apiErrorBody   `json:"error"`
	Duplicates []issuer.Match `json:"duplicates,omitempty"`
}

type apiErrorBody struct {
	Status  int                 `json:"status"`
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  []issuer.FieldError `json:"fields,omitempty"`
	// Detail says more, in English, when the message alone would not
	// tell a wallet app what to do (a wallet's errors).
	Detail string `json:"detail,omitempty"`
}

// handleError is echo's error handler: every error a handler returns, or
// the router raises, ends here, is logged once if it is ours, and is
// shown as JSON under /api/ and elsewhere as a page.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemOf(err)
	setRetryAfter(c, err)
	if p.status == http.StatusInternalServerError {
		s.log.ErrorContext(c.Request().Context(), "request failed", logRoute, c.Path(), logError, err.Error())
	}
	m := s.cat.pick(c.Request())
	msg := m.Get(p.msgKey)
	var ie *issuer.InvalidError
	errors.As(err, &ie)
	if isAPI(c) {
		body := apiError{Error: apiErrorBody{Status: p.status, Code: p.code, Message: msg}}
		if ie != nil {
			body.Error.Fields = ie.Fields
		}
		body.Error.Detail = walletDetail(err, p.status)
		var de *issuer.DuplicatesError
		if errors.As(err, &de) {
			body.Duplicates = de.Matches
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		if p.status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="tally"`)
		}
		_ = c.JSON(p.status, body)
		return
	}
	_ = s.renderError(c, p.status, msg)
}
