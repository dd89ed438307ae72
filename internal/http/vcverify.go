package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// The W3C CCG VC API verifier endpoints: POST /credentials/verify and POST
// /presentations/verify (docs/vc-api.md). They check credentials with the
// verifier service's verifier (Options.Trust): the issuers this instance
// trusts; in open conformance mode also did:key issuers outside the trust
// list (verifier.Options.TrustDIDKeyIssuers, set by tally serve).
//
// The answer is 200 with "verified": true only for a credential that
// passed every check. A request that is not a verification request, or a
// credential that is not a well-made, correctly signed credential
// (malformed, an unsupported format or proof, a signature that does not
// verify), is 400; a well-made credential the verifier refuses (an issuer
// outside the trust list, expired, revoked, a presentation for another
// challenge or domain...) is 422. Both carry "verified": false, the checks
// run, and the reason, as verifier Reason codes and in plain words.

// vcVerifyOptions are the options of both verify routes.
type vcVerifyOptions struct {
	// Checks names the checks the caller asks for. tally runs all of its
	// checks whatever is asked; a name it does not know is an error.
	Checks []string `json:"checks,omitempty"`
	// Challenge and Domain are what a presentation's proof must answer
	// (POST /presentations/verify).
	Challenge string `json:"challenge,omitempty"`
	Domain    string `json:"domain,omitempty"`
}

// knownChecks are the check names a caller may ask for.
var knownChecks = []string{checkProof, checkTrust, checkValidity, checkStatus, "expiration", "status", checkHolder}

// The checks a verification reports.
const (
	checkProof    = "proof"
	checkTrust    = "issuer"
	checkValidity = "validity"
	checkStatus   = "credentialStatus"
	checkHolder   = "holder"
)

// vcVerifyRequest is the body of POST /credentials/verify.
type vcVerifyRequest struct {
	VerifiableCredential json.RawMessage  `json:"verifiableCredential"`
	Options              *vcVerifyOptions `json:"options,omitempty"`
}

// vcProblem is one reason a verification failed.
type vcProblem struct {
	// Reason is the verifier's Reason code ("BAD_SIGNATURE").
	Reason string `json:"reason"`
	// Message says it in plain words.
	Message string `json:"message"`
	// Field names the part of the request it is about.
	Field string `json:"field,omitempty"`
}

// vcVerifyResult is the body of every answer of the verify routes. A
// failure carries tally's error object as well, as every API error does.
type vcVerifyResult struct {
	Verified bool        `json:"verified"`
	Checks   []string    `json:"checks"`
	Warnings []string    `json:"warnings"`
	Errors   []vcProblem `json:"errors"`
	// Issuer and Format say what was verified, for a verified credential.
	Issuer string `json:"issuer,omitempty"`
	Format string `json:"format,omitempty"`
	// Credentials are the results of a presentation's credentials, in
	// order.
	Credentials []vcVerifyResult `json:"credentials,omitempty"`
	Error       *apiErrorBody    `json:"error,omitempty"`
}

// vcVerifyAllowed refuses a verify request in open conformance mode that
// was not made on this machine; the guard has checked the others.
func (s *Server) vcVerifyAllowed(c echo.Context) error {
	if s.vcOpenOrg != "" && !localRequest(c.Request()) {
		s.log.WarnContext(c.Request().Context(), "the open VC API refused a request that was not made on this machine", logRoute, c.Path())
		return fmt.Errorf("the open VC API answers only requests made on this machine: %w", issuer.ErrForbidden)
	}
	return nil
}

// vcVerifier is the verifier of the verify routes; without the verifier
// service they answer 404.
func (s *Server) vcVerifier() (*verifier.Verifier, error) {
	if s.trust == nil {
		return nil, echo.ErrNotFound
	}
	v := s.trust.ConformanceVerifier()
	if v == nil {
		return nil, echo.ErrNotFound
	}
	return v, nil
}

func (s *Server) vcVerify(c echo.Context) error {
	if err := s.vcVerifyAllowed(c); err != nil {
		return err
	}
	v, err := s.vcVerifier()
	if err != nil {
		return err
	}
	var in vcVerifyRequest
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxVCAPIBody)
	if err := decodeVerifyJSON(c, &in); err != nil {
		return err
	}
	if err := checkVerifyOptions(in.Options, false); err != nil {
		return err
	}
	raw, err := credentialInput(in.VerifiableCredential, "verifiableCredential")
	if err != nil {
		return err
	}
	res, verr := v.Verify(r.Context(), raw)
	return s.vcAnswer(c, verifyOutcome(res, verr, "verifiableCredential"))
}

// checkVerifyOptions checks the options of a verify request.
func checkVerifyOptions(o *vcVerifyOptions, presentation bool) error {
	if o == nil {
		return nil
	}
	var fields []issuer.FieldError
	for _, name := range o.Checks {
		if !slices.Contains(knownChecks, name) {
			fields = append(fields, issuer.FieldError{Field: "options.checks", Code: "unknown",
				Message: fmt.Sprintf("tally does not know the check %q; it runs all of its checks (%s, %s, %s, %s) on every credential", name, checkProof, checkTrust, checkValidity, checkStatus)})
			break
		}
	}
	if !presentation && (o.Challenge != "" || o.Domain != "") {
		fields = append(fields, issuer.FieldError{Field: "options.challenge", Code: "unknown",
			Message: "a challenge and a domain are for presentations: send them to /presentations/verify"})
	}
	for _, f := range []struct{ name, v string }{{"options.challenge", o.Challenge}, {"options.domain", o.Domain}} {
		if len(f.v) > 1024 {
			fields = append(fields, issuer.FieldError{Field: f.name, Code: "too_long", Message: "at most 1,024 characters"})
		}
	}
	if len(fields) > 0 {
		return &issuer.InvalidError{Fields: fields}
	}
	return nil
}

// credentialInput is what to verify of a request member: a credential
// object (secured with an embedded proof, or enveloped) as its JSON, or a
// compact token (a VC-JWT, an SD-JWT VC, a QR card's text) given as a
// JSON string, as its text. A credential object must have the shape of a
// verifiable credential; the verifier decides on what its proof signs.
func credentialInput(member json.RawMessage, field string) ([]byte, error) {
	member = bytes.TrimSpace(member)
	bad := func(code, msg string) error {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: field, Code: code, Message: msg}}}
	}
	switch {
	case len(member) == 0 || string(member) == "null":
		return nil, bad("required", "send the credential to verify, as a JSON object or a compact token string")
	case member[0] == '"':
		token, ok := jsonString(member)
		if !ok || len(token) == 0 {
			return nil, bad("format", "the credential is an empty or broken string")
		}
		return token, nil
	case member[0] != '{':
		return nil, bad("format", "the credential must be a JSON object, or a compact token string")
	}
	var doc map[string]any
	if err := json.Unmarshal(member, &doc); err != nil {
		return nil, bad("format", "the credential is not a JSON object")
	}
	if fields := credentialShape(doc, field); len(fields) > 0 {
		return nil, &issuer.InvalidError{Fields: fields}
	}
	return member, nil
}

// verifyOutcome turns a verification into its answer. field is where the
// credential was in the request.
func verifyOutcome(res *verifier.Result, err error, field string) vcVerifyResult {
	if err == nil {
		out := vcVerifyResult{Verified: true, Checks: []string{checkTrust, checkProof, checkValidity}, Warnings: res.Warnings,
			Errors: []vcProblem{}, Issuer: res.Issuer, Format: string(res.Format)}
		if res.Status.HasStatus {
			out.Checks = append(out.Checks, checkStatus)
		}
		if out.Warnings == nil {
			out.Warnings = []string{}
		}
		return out
	}
	var ve *verifier.Error
	if !errors.As(err, &ve) {
		ve = &verifier.Error{Reason: verifier.Malformed, Detail: "the credential could not be verified"}
	}
	return vcVerifyResult{Checks: checksRun(ve.Reason), Warnings: []string{}, Errors: []vcProblem{{Reason: ve.Reason.Code(), Message: ve.Error(), Field: field}}}
}

// checksRun are the checks a verification that failed for r ran, the last
// the one that failed: the verifier checks the issuer's trust, then the
// proof, the validity period and the status, and a presentation's holder.
func checksRun(r verifier.Reason) []string {
	switch r {
	case verifier.UntrustedIssuer:
		return []string{checkTrust}
	case verifier.BadSignature, verifier.TypeNotAllowed:
		return []string{checkTrust, checkProof}
	case verifier.Expired, verifier.NotYetValid:
		return []string{checkTrust, checkProof, checkValidity}
	case verifier.Revoked, verifier.Suspended, verifier.StatusUnavailable:
		return []string{checkTrust, checkProof, checkValidity, checkStatus}
	case verifier.BadPresentation:
		return []string{checkTrust, checkProof, checkHolder}
	}
	return []string{}
}

// refusedStatus is the HTTP status of a failed verification: 400 for what
// is not a well-made, correctly signed credential, 422 for one the
// verifier refuses.
func refusedStatus(codes []vcProblem) int {
	for _, p := range codes {
		switch p.Reason {
		case verifier.Malformed.Code(), verifier.UnsupportedFormat.Code(), verifier.BadSignature.Code():
			return http.StatusBadRequest
		}
	}
	return http.StatusUnprocessableEntity
}

// vcAnswer writes a verification's answer: 200 when verified, else 400 or
// 422 with tally's error object beside the VC API's members.
func (s *Server) vcAnswer(c echo.Context, out vcVerifyResult) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if out.Verified {
		return c.JSON(http.StatusOK, out)
	}
	status := refusedStatus(out.Errors)
	m := s.cat.pick(c.Request())
	body := &apiErrorBody{Status: status, Code: "not_verified", Message: m.Get("vcapi_not_verified")}
	for _, p := range out.Errors {
		body.Fields = append(body.Fields, issuer.FieldError{Field: p.Field, Code: p.Reason, Message: p.Message})
	}
	out.Error = body
	return c.JSON(status, out)
}

// vpVerifyRequest is the body of POST /presentations/verify.
type vpVerifyRequest struct {
	VerifiablePresentation json.RawMessage  `json:"verifiablePresentation"`
	Options                *vcVerifyOptions `json:"options,omitempty"`
}

func (s *Server) vpVerify(c echo.Context) error {
	if err := s.vcVerifyAllowed(c); err != nil {
		return err
	}
	v, err := s.vcVerifier()
	if err != nil {
		return err
	}
	var in vpVerifyRequest
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxVPBody)
	if err := decodeVerifyJSON(c, &in); err != nil {
		return err
	}
	if err := checkVerifyOptions(in.Options, true); err != nil {
		return err
	}
	raw, err := presentationInput(in.VerifiablePresentation)
	if err != nil {
		return err
	}
	var req verifier.PresentationRequest
	if in.Options != nil {
		req = verifier.PresentationRequest{Challenge: in.Options.Challenge, Domain: in.Options.Domain}
	}
	res, verr := v.VerifyW3CPresentation(r.Context(), raw, req)
	if verr != nil {
		// The presentation itself failed: its holder's proof.
		out := verifyOutcome(nil, verr, "verifiablePresentation")
		out.Checks = []string{checkHolder}
		return s.vcAnswer(c, out)
	}
	out := vcVerifyResult{Verified: true, Checks: []string{checkHolder}, Warnings: []string{}, Errors: []vcProblem{}, Issuer: "", Credentials: []vcVerifyResult{}}
	if !res.Proved {
		out.Checks = []string{}
		out.Warnings = append(out.Warnings, "the presentation has no proof by its holder: its credentials were verified, not who presented them")
	}
	for i := range res.Results {
		field := fmt.Sprintf("verifiablePresentation.verifiableCredential[%d]", i)
		one := verifyOutcome(res.Results[i], res.Errors[i], field)
		if !one.Verified {
			out.Verified = false
			out.Errors = append(out.Errors, one.Errors...)
		}
		out.Credentials = append(out.Credentials, one)
	}
	return s.vcAnswer(c, out)
}

// maxVPBody bounds a presentation request: the presentation is at most
// verifier.MaxCredentialSize.
const maxVPBody = verifier.MaxCredentialSize + 16<<10

// presentationInput is the presentation of a request: an object (with an
// embedded proof, or none, or enveloped) as its JSON, or a compact token
// (a VP-JWT, an SD-JWT VC with its key binding) as its text.
func presentationInput(member json.RawMessage) ([]byte, error) {
	const field = "verifiablePresentation"
	member = bytes.TrimSpace(member)
	bad := func(code, msg string) error {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: field, Code: code, Message: msg}}}
	}
	switch {
	case len(member) == 0 || string(member) == "null":
		return nil, bad("required", "send the presentation to verify, as a JSON object or a compact token string")
	case member[0] == '"':
		token, ok := jsonString(member)
		if !ok || len(token) == 0 {
			return nil, bad("format", "the presentation is an empty or broken string")
		}
		return token, nil
	case member[0] != '{':
		return nil, bad("format", "the presentation must be a JSON object, or a compact token string")
	}
	var doc map[string]any
	if err := json.Unmarshal(member, &doc); err != nil {
		return nil, bad("format", "the presentation is not a JSON object")
	}
	if fields := presentationShape(doc, field); len(fields) > 0 {
		return nil, &issuer.InvalidError{Fields: fields}
	}
	return member, nil
}

// jsonString is the text of a JSON string the request's decoder has
// already checked. A compact token (base64url, dots and tildes) has no
// escape, and is then the bytes between the quotes, with no second pass
// over it: the hot path of the verify route.
func jsonString(member json.RawMessage) ([]byte, bool) {
	if len(member) >= 2 && member[0] == '"' && member[len(member)-1] == '"' && bytes.IndexByte(member, '\\') < 0 {
		return member[1 : len(member)-1], true
	}
	var s string
	if err := json.Unmarshal(member, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// decodeVerifyJSON is decodeJSON for the verify routes, with goccy/go-json
// (tally's JSON decoder for credentials already): the request's one JSON
// object, with no unknown member and nothing after it. encoding/json
// scans a request twice, and on a VC-JWT that was a third of the cost of
// verifying it.
func decodeVerifyJSON(c echo.Context, v any) error {
	bad := func(msg string) error {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "body", Code: "format", Message: msg}}}
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return bad("send a JSON object, with Content-Type: application/json")
	}
	// The body is read first: the decoder would take the size limit's
	// error for the end of the input.
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	dec := gojson.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bad("the body is not the JSON object expected: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("send one JSON object, and nothing after it")
	}
	return nil
}
