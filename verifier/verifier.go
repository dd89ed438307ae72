package verifier

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
)

// Defaults of Options.
const (
	DefaultClockSkew = 5 * time.Minute
	DefaultStatusTTL = 5 * time.Minute
	// MaxCredentialSize bounds the input of Verify.
	MaxCredentialSize = 256 << 10
)

// Options configure a Verifier. Trust is required; the rest have defaults.
type Options struct {
	// Trust is the trust list: which issuers, keys and types to accept.
	Trust *TrustList
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// ClockSkew is how far the verifier's clock may be off the issuer's:
	// validity bounds are widened by it. DefaultClockSkew if zero; a
	// negative value means none.
	ClockSkew time.Duration
	// Fetcher fetches status lists; an HTTPStatusFetcher if nil, unless
	// Offline is set.
	Fetcher StatusFetcher
	// Offline makes the verifier fetch nothing: status comes only from
	// lists given to LoadStatusList.
	Offline bool
	// StatusTTL is how long a status list is cached when neither the HTTP
	// response nor the list says; DefaultStatusTTL if zero.
	StatusTTL time.Duration
	// MaxStatusAge is the policy for status that cannot be checked now. Zero
	// (the default) accepts the credential with a warning in the result; a
	// positive value rejects it (StatusUnavailable) when the newest status
	// known is older than that, or when there is none.
	MaxStatusAge time.Duration
}

// Verifier checks credentials. It is safe for concurrent use.
type Verifier struct {
	opts   Options
	status statusCache
}

// New returns a Verifier with the given options.
func New(opts Options) (*Verifier, error) {
	if opts.Trust == nil {
		return nil, errors.New("verifier: a trust list is required")
	}
	if opts.Trust.byDID == nil {
		if err := opts.Trust.index(); err != nil {
			return nil, err
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.ClockSkew == 0:
		opts.ClockSkew = DefaultClockSkew
	case opts.ClockSkew < 0:
		opts.ClockSkew = 0
	}
	if opts.StatusTTL <= 0 {
		opts.StatusTTL = DefaultStatusTTL
	}
	if opts.MaxStatusAge < 0 {
		return nil, errors.New("verifier: MaxStatusAge must not be negative")
	}
	if opts.Offline {
		opts.Fetcher = nil
	} else if opts.Fetcher == nil {
		opts.Fetcher = HTTPStatusFetcher{}
	}
	return &Verifier{opts: opts, status: statusCache{lists: map[cacheKey]*cachedList{}}}, nil
}

// Result is what a verified credential says, and what the verifier knows
// of it. The dedup seed the credential carried is not in it: derive a
// token with DedupToken.
type Result struct {
	Format credentials.Format
	// Credential is the verified credential, its dedup seed removed. For
	// SD-JWT it holds only the disclosed claims.
	Credential *credentials.Credential
	// IssuerDID and IssuerName identify the issuer as the trust list does.
	IssuerDID  string
	IssuerName string
	// KeyID is the verification method that signed the credential.
	KeyID string
	// Status is what is known of the credential's revocation and suspension.
	Status StatusResult
	// Disclosed lists the claims a selectively disclosed credential showed.
	Disclosed []string
	// Warnings are things the person at the service point should know,
	// in plain words, though the credential was accepted.
	Warnings []string
	// VerifiedAt is the verifier's time of the check.
	VerifiedAt time.Time

	// view is the generic view, made on first use for tally's types.
	view     *credentials.View
	viewOnce sync.Once

	// seed is held behind a pointer so that fmt's %v and %+v of a Result
	// print an address, never the seed.
	seed *[credentials.SeedSize]byte
}

// View is the generic view of the verified credential: its types, issuer,
// validity, status and claims as JSON, for any credential, whoever issued
// it. Credential is nil for a credential that is not of one of tally's
// types; View is always there. Its claims never hold the dedup seed.
func (r *Result) View() *credentials.View {
	r.viewOnce.Do(func() {
		if r.view == nil && r.Credential != nil {
			r.view = r.Credential.View()
		}
	})
	return r.view
}

// ErrNoDedupSeed is returned by DedupToken for a credential that carries
// no dedup seed, or did not disclose it.
var ErrNoDedupSeed = errors.New("this credential carries no dedup seed (or did not disclose it), so no dedup token can be derived")

// DedupToken derives the person's pairwise dedup token in the key's domain.
// It is stable for one person (across re-issued credentials) within one
// domain, and unlinkable across domains without their keys.
func (r *Result) DedupToken(key DedupKey) (string, error) {
	if r.seed == nil {
		return "", ErrNoDedupSeed
	}
	return dedupToken(&key, r.IssuerDID, r.seed[:]), nil
}

// Verify checks a credential in any of tally's formats: it detects the
// format, checks the signature against the issuer's key from the trust
// list, the types the issuer may issue, the validity period and the status.
// A credential that fails comes back as a *Error with its Reason.
func (v *Verifier) Verify(ctx context.Context, raw []byte) (*Result, error) {
	return v.verify(ctx, raw, nil)
}

func (v *Verifier) verify(ctx context.Context, raw []byte, pres *Presentation) (*Result, error) {
	now := v.opts.Now()
	if len(raw) > MaxCredentialSize {
		return nil, fail(Malformed, nil, "the credential is larger than %d KiB", MaxCredentialSize>>10)
	}
	sec, err := parse(raw)
	if err != nil {
		return nil, err
	}
	iss, ok := v.opts.Trust.Issuer(sec.Issuer())
	if !ok {
		return nil, fail(UntrustedIssuer, nil, "the issuer %s is not in the trust list", sec.Issuer())
	}
	if err := v.opts.Trust.checkTime(iss, now); err != nil {
		return nil, fail(UntrustedIssuer, err, "%v", err)
	}
	key, ok := iss.key(sec.KeyID())
	if !ok {
		return nil, fail(UntrustedIssuer, nil, "%s signed with a key the trust list does not have (%s)", iss.displayName(), sec.KeyID())
	}
	if err := sec.VerifySignature(key.Public); err != nil {
		if errors.Is(err, credentials.ErrBadSignature) {
			return nil, fail(BadSignature, err, "the signature is not %s's: the credential was altered or forged", iss.displayName())
		}
		return nil, classify(err)
	}
	c := sec.Credential()
	res := &Result{
		Format:     sec.Format(),
		Credential: c,
		IssuerDID:  iss.DID,
		IssuerName: iss.Name,
		KeyID:      key.ID,
		VerifiedAt: now,
	}
	if err := v.checkHolder(sec, pres, now, res); err != nil {
		return nil, err
	}
	if c == nil {
		// Not one of tally's types: decide on the generic view.
		res.view = sec.View()
		if err := v.checkView(ctx, res.view, iss, now, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	if c.Issuer != iss.DID {
		return nil, fail(Malformed, nil, "the credential names issuer %s inside, but was signed by %s", c.Issuer, iss.DID)
	}
	validate := c.Validate
	if sec.Format() == credentials.FormatSDJWT {
		validate = c.ValidateDisclosed
	}
	if err := validate(); err != nil {
		return nil, fail(Malformed, err, "%s", invalidFields(err))
	}
	if !iss.MayIssue(c.Type) {
		return nil, fail(TypeNotAllowed, nil, "%s may not issue %s credentials", iss.displayName(), c.Type)
	}
	if err := v.checkValidity(c.ValidFrom, c.ValidUntil, now); err != nil {
		return nil, err
	}
	if err := v.checkStatus(ctx, c.Status, iss, now, res); err != nil {
		return nil, err
	}
	if seed := credentials.SubjectSeed(c.Subject); len(seed) == credentials.SeedSize {
		res.seed = (*[credentials.SeedSize]byte)(seed)
	}
	credentials.SetSubjectSeed(c.Subject, nil)
	return res, nil
}

// checkView decides on a credential that is not one of tally's types, from
// its generic view: the issuer, the types the trust list allows, the
// validity period and the status.
func (v *Verifier) checkView(ctx context.Context, view *credentials.View, iss *TrustedIssuer, now time.Time, res *Result) *Error {
	if view.Issuer != iss.DID {
		return fail(Malformed, nil, "the credential names issuer %s inside, but was signed by %s", view.Issuer, iss.DID)
	}
	if !iss.mayIssueAny(view.Types) {
		return fail(TypeNotAllowed, nil, "%s may not issue %s credentials", iss.displayName(), strings.Join(view.Types, ", "))
	}
	if err := v.checkValidity(view.ValidFrom, view.ValidUntil, now); err != nil {
		return err
	}
	if err := v.checkStatus(ctx, view.Status, iss, now, res); err != nil {
		return err
	}
	if view.TokenStatus != nil {
		if err := v.checkTokenStatus(ctx, view.TokenStatus, iss, now, res); err != nil {
			return err
		}
	}
	if len(view.UncheckedStatus) > 0 {
		res.Warnings = append(res.Warnings, "status not checked: the issuer publishes this credential's status in a way tally does not read, so it may have been revoked")
	}
	return nil
}

// checkValidity checks a validity period against now, widened by the
// allowed clock skew.
func (v *Verifier) checkValidity(from, until, now time.Time) *Error {
	skew := v.opts.ClockSkew
	if !from.IsZero() && now.Add(skew).Before(from) {
		return fail(NotYetValid, nil, "the credential is valid only from %s", from.Format(time.RFC3339))
	}
	if !until.IsZero() && now.Add(-skew).After(until) {
		return fail(Expired, nil, "the credential expired on %s", until.Format(time.RFC3339))
	}
	return nil
}

// invalidFields names the fields of a validation error, without the values
// its messages quote: a Detail may end up in an integrator's logs, and the
// values are personal data.
func invalidFields(err error) string {
	var ve *credentials.ValidationError
	var fe *credentials.FieldError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
	case errors.As(err, &fe):
		return "the credential's claims are invalid: " + fe.Field
	default:
		return "the credential's claims are invalid"
	}
	fields := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		fields[i] = p.Field
	}
	return "the credential's claims are invalid: " + strings.Join(fields, ", ")
}

// classify maps a format's error to a verification failure.
func classify(err error) *Error {
	switch {
	case errors.Is(err, credentials.ErrBadSignature):
		return fail(BadSignature, err, "%s", plain(err))
	case errors.Is(err, credentials.ErrUnsupported):
		return fail(UnsupportedFormat, err, "%s", plain(err))
	case errors.As(err, new(*credentials.ValidationError)), errors.As(err, new(*credentials.FieldError)):
		return fail(Malformed, err, "%s", invalidFields(err))
	default:
		return fail(Malformed, err, "%s", plain(err))
	}
}

// plain is an error's message without the sentinel the formats wrap at its
// end ("...: malformed credential"), which the Reason already says.
func plain(err error) string {
	msg := err.Error()
	for _, s := range []error{credentials.ErrMalformed, credentials.ErrBadSignature, credentials.ErrUnsupported} {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}
