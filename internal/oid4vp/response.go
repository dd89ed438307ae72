package oid4vp

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Response limits: a tally presentation is a few kilobytes.
const (
	// MaxResponseSize bounds the body posted to the response_uri.
	MaxResponseSize = 256 << 10
	// maxPresentations bounds the presentations of one vp_token.
	maxPresentations = 8
	maxStateLength   = 128
	maxErrorLength   = 512
)

// Response is an Authorization Response posted to the response_uri
// (direct_post): a VP Token, or the wallet's error.
type Response struct {
	State string
	// VPToken holds each credential query id's presentations.
	VPToken map[string][]string
	// Error and ErrorDescription are the wallet's error response, when it
	// sent one instead of a VP Token.
	Error            string
	ErrorDescription string
}

// Error is an OAuth error answer (RFC 6749 section 5.2, OpenID4VP 1.0
// "Error Response") from the request_uri or the response_uri.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Is matches errors of the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// The error codes the verifier answers with.
const (
	ErrInvalidRequest    = "invalid_request"
	ErrInvalidRequestURI = "invalid_request_uri"
	ErrAccessDenied      = "access_denied"
)

// Errorf makes an error answer of code with a description in ASCII
// (RFC 6749 allows no other).
func Errorf(status int, code, description string) *Error {
	return &Error{Status: status, Code: code, Description: ascii(description)}
}

func badResponse(description string) *Error {
	return Errorf(http.StatusBadRequest, ErrInvalidRequest, description)
}

// ParseResponse reads the form posted to the response_uri. A repeated
// parameter is an error; unknown ones are ignored ("Response Parameters").
func ParseResponse(form url.Values) (Response, *Error) {
	for _, name := range []string{"vp_token", "state", "error", "error_description", "response"} {
		if len(form[name]) > 1 {
			return Response{}, badResponse(name + " is repeated")
		}
	}
	r := Response{State: form.Get("state"), Error: form.Get("error"), ErrorDescription: form.Get("error_description")}
	if len(r.State) > maxStateLength {
		return Response{}, badResponse("state is too long")
	}
	if form.Has("response") {
		return Response{}, badResponse("encrypted responses (direct_post.jwt) were not asked for: send vp_token and state with direct_post")
	}
	if r.Error != "" {
		if form.Has("vp_token") {
			return Response{}, badResponse("a response holds either vp_token or error, not both")
		}
		if len(r.Error) > maxErrorLength || len(r.ErrorDescription) > maxErrorLength {
			return Response{}, badResponse("error or error_description is too long")
		}
		if ascii(r.Error) != r.Error {
			return Response{}, badResponse("error holds characters an OAuth error code may not")
		}
		r.ErrorDescription = ascii(r.ErrorDescription)
		return r, nil
	}
	raw := form.Get("vp_token")
	if raw == "" {
		return Response{}, badResponse("vp_token is missing")
	}
	tok, err := ParseVPToken([]byte(raw))
	if err != nil {
		return Response{}, err
	}
	r.VPToken = tok
	return r, nil
}

// ParseVPToken reads a VP Token as OpenID4VP 1.0 defines it ("Response
// Parameters"): a JSON object whose keys are credential query ids and whose
// values are non-empty arrays of presentations, here strings (SD-JWT VC
// presentations are strings).
func ParseVPToken(raw []byte) (map[string][]string, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > MaxResponseSize {
		return nil, badResponse("vp_token is too large")
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, badResponse("vp_token must be a JSON object keyed by the DCQL credential query ids")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, badResponse("vp_token is not a JSON object")
	}
	if len(obj) == 0 {
		return nil, badResponse("vp_token holds no presentation")
	}
	if len(obj) > maxCredentialQuery {
		return nil, badResponse("vp_token has too many entries")
	}
	if duplicateKey(raw) {
		return nil, badResponse("vp_token names a credential query id twice")
	}
	out := make(map[string][]string, len(obj))
	total := 0
	for id, v := range obj {
		if err := checkIdentifier(id); err != nil {
			return nil, badResponse("vp_token key: " + err.Error())
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, badResponse("vp_token." + id + " must be an array of presentations (strings)")
		}
		if len(list) == 0 {
			return nil, badResponse("vp_token." + id + " is an empty array")
		}
		for _, p := range list {
			if strings.TrimSpace(p) == "" {
				return nil, badResponse("vp_token." + id + " holds an empty presentation")
			}
		}
		total += len(list)
		if total > maxPresentations {
			return nil, badResponse("vp_token holds too many presentations")
		}
		out[id] = list
	}
	return out, nil
}

// duplicateKey tells whether the top-level JSON object raw names a key
// twice (encoding/json keeps the last silently).
func duplicateKey(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := t.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// ascii keeps the characters an OAuth error description may hold.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
