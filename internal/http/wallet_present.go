package http

// The wallet answers verifiers (issue 8, part present): the holder
// brings a verifier's OpenID4VP request (a scanned QR code, an
// openid4vp:// link); the wallet fetches and checks it
// (internal/oid4vp), matches its DCQL query against the holder's
// credentials, shows who asks, why and for what, and on the holder's
// word posts SD-JWT presentations with only the chosen disclosures to the
// verifier's response_uri — or declines. Each share goes into the
// holder's share log: who, why, which credentials and claim names, never
// the values. See docs/wallet-present.md.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// Limits of the requests a wallet keeps between showing and answering.
const (
	// presentTTL bounds how long a checked request waits for the
	// holder's answer (less when the request expires sooner).
	presentTTL = 10 * time.Minute
	// presentPerHolder and presentTotal bound the requests kept.
	presentPerHolder = 4
	presentTotal     = 2000
	// presentBodyMax bounds a preview or share body.
	presentBodyMax = oid4vp.MaxAuthorizationRequest + 4<<10
)

// errPresentBusy: too many requests wait for an answer.
var errPresentBusy = &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request", Code: "busy",
	Message: "too many requests wait for an answer: answer or decline one first, or wait a few minutes"}}}

// presentState keeps the checked requests waiting for the holder's
// answer, in memory: a restart forgets them, and the holder scans again.
// Its zero value is ready.
type presentState struct {
	mu      sync.Mutex
	pending map[string]*pendingVP
}

// pendingVP is a checked request, the holder's matching credentials,
// and who asks.
type pendingVP struct {
	id, holder string
	req        *oid4vp.Request
	plan       oid4vp.Plan
	verifier   vpVerifier
	created    time.Time
	expires    time.Time
	// names are the display names of the candidate credentials.
	names map[string]string
}

// vpVerifier is who asks, as the wallet shows them.
type vpVerifier struct {
	ClientID string `json:"client_id"`
	DID      string `json:"did"`
	// Name is the organisation's name here, else the name the request
	// gives (client_metadata.client_name), else "".
	Name string `json:"name,omitempty"`
	// Known: the DID is an organisation of this tally instance.
	Known bool `json:"known"`
	// Trusted: the DID is an issuer on the trust list of this instance's
	// verifier (a consortium member, say).
	Trusted bool `json:"trusted"`
}

func (p *presentState) put(v *pendingVP, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]*pendingVP{}
	}
	var mine []*pendingVP
	for id, o := range p.pending {
		if !now.Before(o.expires) {
			delete(p.pending, id)
			continue
		}
		if o.holder == v.holder {
			mine = append(mine, o)
		}
	}
	// A holder who scans again wants the newest: her oldest waiting
	// request gives way.
	if len(mine) >= presentPerHolder {
		oldest := slices.MinFunc(mine, func(a, b *pendingVP) int { return a.created.Compare(b.created) })
		delete(p.pending, oldest.id)
	}
	if len(p.pending) >= presentTotal {
		return errPresentBusy
	}
	p.pending[v.id] = v
	return nil
}

// take removes the holder's request id and returns it: a request is
// answered (or declined) once, also when two answers race.
func (p *presentState) take(holderID, id string, now time.Time) (*pendingVP, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.pending[id]
	if !ok || v.holder != holderID {
		return nil, holder.ErrNotFound
	}
	delete(p.pending, id)
	if !now.Before(v.expires) {
		return nil, holder.ErrNotFound
	}
	return v, nil
}

// peek returns the holder's request id without taking it.
func (p *presentState) peek(holderID, id string, now time.Time) (*pendingVP, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.pending[id]
	if !ok || v.holder != holderID || !now.Before(v.expires) {
		return nil, holder.ErrNotFound
	}
	return v, nil
}

// presentInvalid is a request the wallet refuses, as a field error of
// the request.
func presentInvalid(err error) error {
	kind := oid4vp.ProblemOf(err)
	if kind == "" {
		return err
	}
	return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request", Code: kind, Message: err.Error()}}}
}

// presentPreview reads, fetches and checks a verifier's request, and
// matches it against the holder's credentials. Nothing is sent to the
// verifier but the fetch of its request object.
func (s *Server) presentPreview(ctx context.Context, w *holder.Wallet, link string) (*pendingVP, error) {
	ar, err := oid4vp.ParseAuthorizationRequest(link)
	if err != nil {
		return nil, presentInvalid(err)
	}
	now := s.svc.Now()
	opts := oid4vp.CheckOptions{Resolver: oid4vp.Resolver{Web: s.didWeb()}, URLCheck: s.fetch.CheckURL, Now: now}
	if ar.RequestURIMethod == "post" {
		if opts.WalletNonce, err = randomToken(s.rand, 16); err != nil {
			return nil, err
		}
	}
	req, err := oid4vp.FetchRequest(ctx, s.fetch, ar, opts)
	if err != nil {
		return nil, presentInvalid(err)
	}
	creds, err := w.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	var held []oid4vp.Held
	names := map[string]string{}
	for _, c := range creds {
		h, err := oid4vp.HeldFrom(c.ID, c.Format, c.Raw)
		if err != nil {
			continue // a card, or a credential in a format not presented here
		}
		held = append(held, h)
		names[c.ID] = c.Name
		if names[c.ID] == "" {
			names[c.ID] = c.Type
		}
	}
	v := &pendingVP{holder: w.ID(), req: req, plan: oid4vp.Match(req.Query, held), names: names,
		verifier: vpVerifier{ClientID: req.ClientID, DID: req.DID, Name: req.ClientName}, created: now, expires: now.Add(presentTTL)}
	if !req.Expires.IsZero() && req.Expires.Before(v.expires) {
		v.expires = req.Expires
	}
	if l := s.trustList(); l != nil {
		if is, ok := l.Issuer(req.DID); ok && is.DID == req.DID {
			v.verifier.Trusted = true
			if is.Name != "" {
				v.verifier.Name = oneLineName(is.Name)
			}
		}
	}
	if org, ok := s.localOrg(ctx, req.DID); ok {
		v.verifier.Name, v.verifier.Known = org.Name, true
	}
	if v.id, err = randomToken(s.rand, 16); err != nil {
		return nil, err
	}
	if err := s.present.put(v, now); err != nil {
		return nil, err
	}
	return v, nil
}

// trustList is the verifier's trust list, when this server verifies.
func (s *Server) trustList() *verifier.TrustList {
	if s.trust == nil {
		return nil
	}
	return s.trust.TrustList()
}

func randomToken(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// presentOutcome is what the verifier answered a share or a decline.
type presentOutcome struct {
	// Outcome is "accepted" (the verifier answered 200), "refused", or
	// "unreachable" (no answer came).
	Outcome string `json:"outcome"`
	// Status is the HTTP status of the verifier's answer; Error and
	// ErrorDescription its OAuth error, if any.
	Status           int    `json:"status,omitempty"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	// RedirectURI is where the verifier asks the holder to go next.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Share is the share log's entry (not for a decline).
	Share *holder.Share `json:"share,omitempty"`
}

// presentShare answers a request with the chosen credentials: per query,
// an SD-JWT presentation with only the disclosures it asks, and a
// key-binding JWT for the verifier's client_id and nonce, signed by the
// key the credential is bound to. The request is taken first: it is
// answered once.
func (s *Server) presentShare(ctx context.Context, w *holder.Wallet, id string, choice map[string]string) (presentOutcome, error) {
	now := s.svc.Now()
	v, err := s.present.peek(w.ID(), id, now)
	if err != nil {
		return presentOutcome{}, err
	}
	chosen, err := v.plan.Choose(choice)
	if err != nil {
		return presentOutcome{}, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "credentials", Code: "choice", Message: err.Error()}}}
	}
	token := map[string][]string{}
	var credIDs, claims []string
	for _, q := range v.plan.Queries {
		cand, ok := chosen[q.ID]
		if !ok {
			continue
		}
		c, err := w.Credential(ctx, cand.Credential)
		if err != nil {
			return presentOutcome{}, err
		}
		if c.Format != oid4vp.FormatSDJWTVC {
			return presentOutcome{}, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "credentials", Code: "format",
				Message: fmt.Sprintf("credentials.%s: this wallet presents SD-JWT credentials only over OpenID4VP", q.ID)}}}
		}
		key, err := s.holderKeyFor(ctx, w, c)
		if err != nil {
			return presentOutcome{}, err
		}
		pres, err := credentials.PresentSDJWT(c.Raw, cand.Disclose, key.Signer, v.req.ClientID, v.req.Nonce, now)
		if err != nil {
			return presentOutcome{}, fmt.Errorf("present credential %s: %w", c.ID, err)
		}
		token[q.ID] = []string{pres}
		credIDs = append(credIDs, c.ID)
		for _, p := range cand.Paths {
			if l := oid4vp.ClaimLabel(p); !slices.Contains(claims, l) {
				claims = append(claims, l)
			}
		}
	}
	if _, err := s.present.take(w.ID(), id, now); err != nil {
		return presentOutcome{}, err // answered meanwhile
	}
	vp, err := json.Marshal(token)
	if err != nil {
		return presentOutcome{}, err
	}
	form := url.Values{"vp_token": {string(vp)}}
	if v.req.State != "" {
		form.Set("state", v.req.State)
	}
	out := s.presentPost(ctx, v, form)
	if out.Outcome == "refused_address" {
		// Nothing left the wallet: the response_uri's name resolves to an
		// address it does not reach.
		return presentOutcome{}, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request", Code: oid4vp.ProblemRequest,
			Message: "the request's response_uri is not a public https address: nothing was shared"}}}
	}
	sh, err := w.LogShare(ctx, holder.Share{Verifier: v.req.ClientID, VerifierName: v.verifier.Name, Purpose: v.req.Purpose,
		Credentials: credIDs, Claims: claims, Mode: "oid4vp", Outcome: out.Outcome})
	if err != nil {
		return out, err
	}
	out.Share = &sh
	s.log.InfoContext(ctx, "wallet presented", "verifier", v.req.ClientID, "credentials", len(credIDs), "outcome", out.Outcome)
	return out, nil
}

// presentDecline answers a request with the error access_denied
// ("Error Response"): the holder said no.
func (s *Server) presentDecline(ctx context.Context, w *holder.Wallet, id string) (presentOutcome, error) {
	v, err := s.present.take(w.ID(), id, s.svc.Now())
	if err != nil {
		return presentOutcome{}, err
	}
	form := url.Values{"error": {oid4vp.ErrAccessDenied}, "error_description": {"the holder declined to share"}}
	if v.req.State != "" {
		form.Set("state", v.req.State)
	}
	out := s.presentPost(ctx, v, form)
	s.log.InfoContext(ctx, "wallet declined", "verifier", v.req.ClientID, "outcome", out.Outcome)
	return out, nil
}

// presentPost posts an Authorization Response to the response_uri
// (direct_post) and reads the verifier's answer; it follows nothing.
func (s *Server) presentPost(ctx context.Context, v *pendingVP, form url.Values) presentOutcome {
	res, err := s.fetch.Post(ctx, v.req.ResponseURI, "application/x-www-form-urlencoded", []byte(form.Encode()))
	if errors.Is(err, fetch.ErrRefused) && !strings.Contains(err.Error(), "redirect") {
		// Refused before anything was sent (a redirect is refused after
		// the verifier had the answer).
		return presentOutcome{Outcome: "refused_address"}
	}
	if err != nil {
		return presentOutcome{Outcome: "unreachable"}
	}
	out := presentOutcome{Status: res.Status, Outcome: "refused"}
	var body struct {
		RedirectURI      string `json:"redirect_uri"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(res.Body, &body)
	if res.Status == http.StatusOK {
		out.Outcome = "accepted"
		if u, err := url.Parse(body.RedirectURI); err == nil && u.Scheme == "https" && len(body.RedirectURI) <= 2048 {
			out.RedirectURI = body.RedirectURI
		}
		if form.Has("error") {
			out.Outcome = "declined"
		}
		return out
	}
	out.Error, out.ErrorDescription = oneLineASCII(body.Error, 64), oneLineASCII(body.ErrorDescription, 300)
	return out
}

func oneLineName(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200])
	}
	return s
}

func oneLineASCII(s string, max int) string {
	b := []rune{}
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b = append(b, r)
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// holderKeyFor is the holder key a credential is bound to.
func (s *Server) holderKeyFor(ctx context.Context, w *holder.Wallet, c holder.Credential) (*credentials.Key, error) {
	if c.HolderKey != "" {
		return w.KeyByID(ctx, c.HolderKey)
	}
	return w.Key(ctx)
}

// --- the API ---

type apiPresentPreviewIn struct {
	Request string `json:"request"`
}

// apiPresentPreview is a request as a wallet app shows it.
type apiPresentPreview struct {
	RequestID string          `json:"request_id"`
	Verifier  vpVerifier      `json:"verifier"`
	Purpose   string          `json:"purpose,omitempty"`
	Expires   time.Time       `json:"expires"`
	CanShare  bool            `json:"can_share"`
	Queries   []apiPresentAsk `json:"queries"`
	Missing   []string        `json:"missing,omitempty"`
}

// apiPresentAsk is one credential query: the claims it asks, in the
// holder's language, and the holder's credentials that answer it.
type apiPresentAsk struct {
	ID         string              `json:"id"`
	Format     string              `json:"format"`
	Required   bool                `json:"required"`
	Claims     []apiPresentClaim   `json:"claims"`
	Candidates []apiPresentCredRef `json:"candidates"`
}

type apiPresentClaim struct {
	Path  oid4vp.ClaimPath `json:"path"`
	Label string           `json:"label"`
}

type apiPresentCredRef struct {
	Credential string   `json:"credential"`
	Name       string   `json:"name,omitempty"`
	Disclose   []string `json:"disclose"`
}

// previewOf shows a pending request in the holder's language.
func previewOf(v *pendingVP, m *Messages) apiPresentPreview {
	out := apiPresentPreview{RequestID: v.id, Verifier: v.verifier, Purpose: v.req.Purpose, Expires: v.expires,
		CanShare: v.plan.CanAnswer(), Missing: v.plan.Missing, Queries: []apiPresentAsk{}}
	for _, q := range v.plan.Queries {
		a := apiPresentAsk{ID: q.ID, Format: q.Format, Required: q.Required, Claims: []apiPresentClaim{}, Candidates: []apiPresentCredRef{}}
		for _, cq := range v.req.Query.Credentials {
			if cq.ID != q.ID {
				continue
			}
			paths := []oid4vp.ClaimPath{}
			if len(q.Candidates) > 0 {
				paths = q.Candidates[0].Paths
			} else {
				for _, cl := range cq.Claims {
					paths = append(paths, cl.Path)
				}
			}
			for _, p := range paths {
				a.Claims = append(a.Claims, apiPresentClaim{Path: p, Label: claimLabel(m, p)})
			}
		}
		for _, c := range q.Candidates {
			a.Candidates = append(a.Candidates, apiPresentCredRef{Credential: c.Credential, Name: v.names[c.Credential], Disclose: c.Disclose})
		}
		out.Queries = append(out.Queries, a)
	}
	return out
}

// claimLabel names a claim in the holder's language: the catalogue's
// words for tally's claims, the path itself for others.
func claimLabel(m *Messages, p oid4vp.ClaimPath) string {
	if name := p.Name(); name != "" {
		return m.First(oid4vp.ClaimLabel(p), "wallet_present_claim_"+name, "reg_"+name, "wallet_pwa_claim_"+name)
	}
	return oid4vp.ClaimLabel(p)
}

// apiWalletPresentPreview fetches and checks a verifier's request and
// shows it with the holder's matching credentials.
func (s *Server) apiWalletPresentPreview(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, presentBodyMax)
	var in apiPresentPreviewIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Request == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request", Code: "required", Message: "give the verifier's request: the openid4vp:// link of its QR code"}}}
	}
	v, err := s.presentPreview(c.Request().Context(), walletOf(c), in.Request)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, previewOf(v, s.cat.pick(c.Request())))
}

type apiPresentShareIn struct {
	RequestID string `json:"request_id"`
	// Credentials maps each credential query id to share to the id of
	// the holder's credential that answers it.
	Credentials map[string]string `json:"credentials"`
	// Decline, when true, answers access_denied and shares nothing.
	Decline bool `json:"decline"`
}

// apiWalletPresent shares (or declines) a previewed request.
func (s *Server) apiWalletPresent(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, presentBodyMax)
	var in apiPresentShareIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.RequestID == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request_id", Code: "required", Message: "give the request_id of a preview"}}}
	}
	w, ctx := walletOf(c), c.Request().Context()
	var out presentOutcome
	var err error
	if in.Decline {
		if len(in.Credentials) > 0 {
			return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "credentials", Code: "decline", Message: "a decline shares no credentials"}}}
		}
		out, err = s.presentDecline(ctx, w, in.RequestID)
	} else {
		out, err = s.presentShare(ctx, w, in.RequestID, in.Credentials)
	}
	if errors.Is(err, holder.ErrNotFound) {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "request_id", Code: "unknown", Message: "no such request waits for an answer: it was answered, or it expired; scan the verifier's QR code again"}}}
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}
