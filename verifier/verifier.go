package verifier

import (
	"context"
	"errors"
	"golang.org/x/sync/singleflight"
	"slices"
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
	// response nor the list says; DefaultStatusTTL if zero. Like every
	// cache lifetime, it is cut to MaxStatusCacheLifetime.
	StatusTTL time.Duration
	// Formats are parsers for securing formats beyond the built-in QR
	// card, VC-JWT and SD-JWT: a dataintegrity.Processor for Data
	// Integrity credentials.
	Formats []FormatParser
	// MaxStatusAge is the policy on the age of status information: a
	// list's signed age, whether it was fetched just now or came from the
	// cache. Zero (the default) accepts a credential whose status lists are
	// stale, or cannot be read, with a warning in the result that says how
	// old they are; a positive value rejects it (StatusUnavailable) when a
	// list used was signed longer ago than that, or when there is none.
	MaxStatusAge time.Duration
	// AllowUnboundSDJWT makes Verify accept an SD-JWT VC that is bound to
	// a holder key (cnf) but comes without the holder's key binding, with
	// a warning that the holder was not checked. By default Verify refuses
	// it (BadPresentation): whoever shows it may not be its holder, and a
	// wallet must present it with VerifyPresentation. Set it only for
	// back-office re-checks (status, expiry) of issuance tokens the
	// organisation stored itself, never for a credential a person shows.
	// VerifyPresentation ignores it.
	AllowUnboundSDJWT bool
	// TrustDIDKeyIssuers makes Verify accept a credential whose issuer is
	// a did:key DID that is not in the trust list, checked with the key
	// its DID holds, for any credential type, with a warning that the
	// issuer is not on the trust list. A did:key says nothing of who holds
	// the key: anyone can make one. Set it only to check that credentials
	// are well made and signed (the W3C conformance suites' did:key
	// issuers), never to decide on a person.
	TrustDIDKeyIssuers bool
}

// Verifier checks credentials. It is safe for concurrent use.
type Verifier struct {
	opts    Options
	status  statusCache
	formats map[credentials.Format]FormatParser
	// fetches merges concurrent fetches of one status list: a crowd of
	// verifications on an empty or expired cache asks the issuer once.
	fetches singleflight.Group
}

// New returns a Verifier with the given options.
func New(opts Options) (*Verifier, error) {
	if opts.Trust == nil {
		return nil, errors.New("verifier: a trust list is required")
	}
	// A list whose issuers were appended to Issuers directly, not with
	// Add (as NewTrustList then append does), is indexed now.
	if opts.Trust.byID == nil || len(opts.Trust.byID) != len(opts.Trust.Issuers) {
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
	v := &Verifier{opts: opts, status: statusCache{lists: map[cacheKey]*cachedList{}}, formats: map[credentials.Format]FormatParser{}}
	for _, f := range opts.Formats {
		if f == nil {
			return nil, errors.New("verifier: a format parser is nil")
		}
		v.formats[f.Format()] = f
	}
	return v, nil
}

// Result is what a verified credential says, and what the verifier knows
// of it. The dedup seed the credential carried is not in it: derive a
// token with DedupToken.
type Result struct {
	Format credentials.Format
	// Credential is the verified credential, its dedup seed removed. For
	// SD-JWT it holds only the disclosed claims.
	Credential *credentials.Credential
	// Issuer is the issuer's identifier as the trust list names it: its
	// DID, or its https URI. IssuerDID is its DID ("" for an issuer named
	// by URI); IssuerName is its display name from the trust list.
	Issuer     string
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
	return dedupToken(&key, r.Issuer, r.seed[:]), nil
}

// Verify checks a credential in any of tally's formats: it detects the
// format, checks the signature against the issuer's key from the trust
// list, the types the issuer may issue, the validity period and the status.
// A credential that fails comes back as a *Error with its Reason.
//
// An SD-JWT VC bound to a holder key is refused (BadPresentation): verify
// what a wallet shows with VerifyPresentation, which checks the holder's
// key binding. Options.AllowUnboundSDJWT relaxes this for stored tokens.
func (v *Verifier) Verify(ctx context.Context, raw []byte) (*Result, error) {
	return v.verify(ctx, raw, nil)
}

func (v *Verifier) verify(ctx context.Context, raw []byte, pres *Presentation) (*Result, error) {
	now := v.opts.Now()
	if len(raw) > MaxCredentialSize {
		return nil, fail(Malformed, nil, "the credential is larger than %d KiB", MaxCredentialSize>>10)
	}
	sec, validated, err := v.parse(ctx, raw)
	if err != nil {
		return nil, err
	}
	if sec.Issuer() == "" {
		return nil, fail(UntrustedIssuer, nil, "the credential names no issuer, so no trusted key can check it")
	}
	iss, ok := v.opts.Trust.Issuer(sec.Issuer())
	selfNamed := false
	if !ok {
		if iss, ok = v.didKeyIssuer(sec.Issuer()); !ok {
			return nil, fail(UntrustedIssuer, nil, "the issuer %s is not in the trust list", sec.Issuer())
		}
		selfNamed = true
	}
	if err := v.opts.Trust.checkTime(iss, now); err != nil {
		return nil, fail(UntrustedIssuer, err, "%v", err)
	}
	key, ferr := checkSignature(sec, iss)
	if ferr != nil {
		return nil, ferr
	}
	c := sec.Credential()
	res := &Result{
		Format:     sec.Format(),
		Credential: c,
		Issuer:     iss.Identifier(),
		IssuerDID:  iss.DID,
		IssuerName: iss.Name,
		KeyID:      key.ID,
		VerifiedAt: now,
	}
	if selfNamed {
		res.Warnings = append(res.Warnings, UntrustedDIDKeyWarning)
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
	if c.Issuer != iss.Identifier() {
		return nil, fail(Malformed, nil, "the credential names issuer %s inside, but was signed by %s", c.Issuer, iss.Identifier())
	}
	validate := c.Validate
	if sec.Format() == credentials.FormatSDJWT {
		validate = c.ValidateDisclosed
	}
	// A credential the parser validated is not validated twice: the same
	// check on the same, untouched credential would find the same.
	if !validated {
		if err := validate(); err != nil {
			return nil, fail(Malformed, err, "%s", invalidFields(err))
		}
	}
	if !iss.MayIssue(c.Type) {
		return nil, fail(TypeNotAllowed, nil, "%s may not issue %s credentials", iss.displayName(), c.Type)
	}
	if err := v.checkValidity(c.ValidFrom, c.ValidUntil, now); err != nil {
		return nil, err
	}
	var tok *credentials.TokenStatusRef
	if t, ok := sec.(interface {
		TokenStatus() *credentials.TokenStatusRef
	}); ok {
		tok = t.TokenStatus()
	}
	if err := v.checkStatus(ctx, c.Status, tok, iss, now, res); err != nil {
		return nil, err
	}
	if seed := credentials.SubjectSeed(c.Subject); len(seed) == credentials.SeedSize {
		res.seed = (*[credentials.SeedSize]byte)(seed)
	}
	credentials.SetSubjectSeed(c.Subject, nil)
	return res, nil
}

// MaxKeysWithoutKeyID is how many keys of its issuer the verifier tries on
// a credential that names no signing key (a Claim 169 card without a COSE
// kid). An issuer with more keys in the trust list cannot be checked
// without a key id: each try costs a signature verification.
const MaxKeysWithoutKeyID = 4

// checkSignature checks the issuer's signature on sec and returns the key
// that made it: the key sec names, or, when it names none, the first of
// the issuer's keys (at most MaxKeysWithoutKeyID) that verifies.
func checkSignature(sec credentials.Secured, iss *TrustedIssuer) (*credentials.Key, *Error) {
	keys := iss.PublicKeys()
	if kid := sec.KeyID(); kid != "" {
		key, ok := iss.key(kid)
		if !ok {
			return nil, fail(UntrustedIssuer, nil, "%s signed with a key the trust list does not have (%s)", iss.displayName(), kid)
		}
		keys = []*credentials.Key{key}
	} else if len(keys) > MaxKeysWithoutKeyID {
		return nil, fail(UntrustedIssuer, nil, "the credential does not name its signing key, and %s has %d keys in the trust list: without a key id the verifier tries at most %d", iss.displayName(), len(keys), MaxKeysWithoutKeyID)
	}
	var bad error
	for _, key := range keys {
		err := sec.VerifySignature(key.Public)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, credentials.ErrBadSignature) {
			return nil, classify(sec.Format(), err)
		}
		bad = err
	}
	return nil, fail(BadSignature, bad, "the signature is not %s's: the credential was altered or forged", iss.displayName())
}

// checkView decides on a credential that is not one of tally's types, from
// its generic view: the issuer, the types the trust list allows, the
// validity period and the status.
func (v *Verifier) checkView(ctx context.Context, view *credentials.View, iss *TrustedIssuer, now time.Time, res *Result) *Error {
	if view.Issuer != iss.Identifier() {
		return fail(Malformed, nil, "the credential names issuer %s inside, but was signed by %s", view.Issuer, iss.Identifier())
	}
	if !iss.mayIssueAny(view.Types) {
		return fail(TypeNotAllowed, nil, "%s may not issue %s credentials", iss.displayName(), strings.Join(view.Types, ", "))
	}
	if err := v.checkValidity(view.ValidFrom, view.ValidUntil, now); err != nil {
		return err
	}
	if err := v.checkStatus(ctx, view.Status, view.TokenStatus, iss, now, res); err != nil {
		return err
	}
	if len(view.UncheckedStatus) > 0 {
		// A status tally cannot read is a status not checked: the policy
		// decides, as for a list that cannot be fetched.
		res.Status.HasStatus = true
		res.Status.Checked = false
		return v.statusUnavailable(res, now, "the issuer publishes this credential's status in a way tally does not read, so it may have been revoked")
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
// its messages may quote: a Detail may end up in an integrator's logs, and
// the values are personal data.
func invalidFields(err error) string {
	var ve *credentials.ValidationError
	var fe *credentials.FieldError
	var fields []string
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		for _, p := range ve.Problems {
			if !slices.Contains(fields, p.Field) {
				fields = append(fields, p.Field)
			}
		}
	case errors.As(err, &fe):
		fields = []string{fe.Field}
	default:
		return "the credential's claims are invalid"
	}
	return "the credential's claims are invalid: " + strings.Join(fields, ", ")
}

// classify maps a format's error to a verification failure. The Detail is
// made of fixed words and field names only, never of the error's message:
// a format's words may quote what the credential holds.
func classify(fm credentials.Format, err error) *Error {
	switch {
	case errors.Is(err, credentials.ErrBadSignature):
		return fail(BadSignature, err, "the signature does not verify: the credential was altered or forged")
	case errors.Is(err, credentials.ErrUnsupported):
		return fail(UnsupportedFormat, err, "the %s uses an algorithm or a feature tally does not support", formatName(fm))
	case errors.As(err, new(*credentials.ValidationError)), errors.As(err, new(*credentials.FieldError)):
		return fail(Malformed, err, "%s", invalidFields(err))
	default:
		return fail(Malformed, err, "the %s is not well-formed: it is damaged, or was made by software that does not follow the format", formatName(fm))
	}
}
