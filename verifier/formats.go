package verifier

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/tally-id/tally/credentials"
)

// FormatParser parses a securing format the verifier does not include
// itself. Data Integrity is one (package credentials/dataintegrity, whose
// Processor is a FormatParser): it needs a JSON-LD processor, which
// embedders of the verifier for QR cards and JWTs should not have to carry.
type FormatParser interface {
	// Format is the format parsed.
	Format() credentials.Format
	// ParseSecured parses raw, unverified. Its work is bounded, and it
	// honours ctx's deadline.
	ParseSecured(ctx context.Context, raw []byte) (credentials.Secured, error)
}

// parse detects the format of raw and parses it, unverified.
//
// validated reports that the parser has already validated the credential
// (Credential.Validate) it returns, and that nothing else has held it since:
// ParseJWT does, for one of tally's types.
func (v *Verifier) parse(ctx context.Context, raw []byte) (sec credentials.Secured, validated bool, ferr *Error) {
	raw = bytes.TrimSpace(raw)
	if inner, ok := credentials.UnwrapEnveloped(raw); ok {
		raw = inner
	}
	format, err := credentials.DetectFormat(raw)
	if err != nil {
		if len(raw) == 0 {
			return nil, false, fail(UnsupportedFormat, err, "there is nothing to verify: the input is empty")
		}
		return nil, false, fail(UnsupportedFormat, err, "this is not a credential in a format tally reads (a QR card, a VC-JWT, an SD-JWT VC or a Data Integrity credential)")
	}
	switch format {
	case credentials.FormatQR:
		sec, err = credentials.ParseCard(raw)
	case credentials.FormatJWT:
		sec, err = credentials.ParseJWT(raw)
		validated = err == nil && sec.Credential() != nil
	case credentials.FormatSDJWT:
		sec, err = credentials.ParseSDJWT(raw)
	default:
		p, ok := v.formats[format]
		if !ok {
			return nil, false, fail(UnsupportedFormat, nil, "this verifier does not read %s credentials: register a parser for them (for Data Integrity, package credentials/dataintegrity)", format)
		}
		sec, err = p.ParseSecured(ctx, raw)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, false, fail(Malformed, err, "verification was stopped: %v", ctxErr)
		}
		return nil, false, classify(format, err)
	}
	return sec, validated, nil
}

// Presentation is what a verifier asked a phone wallet for: the verifier's
// own identifier as audience, and a fresh nonce, so that a presentation
// cannot be replayed elsewhere or later.
type Presentation struct {
	Audience string
	Nonce    string
	// NotBefore, when set, is when the verifier made its request: a
	// key-binding JWT issued earlier than that (less the clock skew) was
	// not made for it, whatever nonce it carries.
	NotBefore time.Time
}

// VerifyPresentation verifies an SD-JWT VC presented by its holder: the
// credential as Verify does, and the holder's key binding against the
// audience and nonce the verifier asked for.
func (v *Verifier) VerifyPresentation(ctx context.Context, raw []byte, p Presentation) (*Result, error) {
	if p.Audience == "" || p.Nonce == "" {
		return nil, fail(BadPresentation, nil, "a presentation needs the audience and the nonce the verifier asked for")
	}
	return v.verify(ctx, raw, &p)
}

// checkHolder checks the holder binding of an SD-JWT: always when a
// presentation was asked for. Without one, an SD-JWT bound to a holder key
// is refused, unless Options.AllowUnboundSDJWT lets it through with a
// warning.
func (v *Verifier) checkHolder(sec credentials.Secured, pres *Presentation, now time.Time, res *Result) *Error {
	sd, isSD := sec.(*credentials.SDJWT)
	if !isSD {
		if pres != nil {
			return fail(BadPresentation, nil, "a %s credential is not bound to a holder: ask for an SD-JWT presentation", sec.Format())
		}
		return nil
	}
	res.Disclosed = sd.Disclosed()
	if pres == nil {
		if sd.Holder() == nil {
			return nil
		}
		if !v.opts.AllowUnboundSDJWT {
			return fail(BadPresentation, nil, "the credential is bound to its holder's wallet and was shown without the wallet's proof: ask the wallet for a presentation, with your audience and a fresh nonce")
		}
		res.Warnings = append(res.Warnings, "holder binding not checked: this is a stored credential, not a presentation by its holder")
		return nil
	}
	if sd.Holder() == nil {
		return fail(BadPresentation, nil, "the credential is not bound to a holder key, so nothing shows that the person presenting it holds it")
	}
	if err := sd.VerifyKeyBinding(pres.Audience, pres.Nonce, now, v.opts.ClockSkew); err != nil {
		return fail(BadPresentation, err, "%s", keyBindingProblem(err))
	}
	// The key-binding JWT names this verifier alone (OpenID4VP 1.0: its
	// aud is the Client Identifier): one made for several audiences could
	// be shown to each of them.
	if auds := sd.KeyBindingAudiences(); len(auds) != 1 {
		return fail(BadPresentation, nil, "the presentation was made for several verifiers at once: ask the wallet for a presentation for this verifier alone")
	}
	if !pres.NotBefore.IsZero() && sd.KeyBindingIssuedAt().Before(pres.NotBefore.Add(-v.opts.ClockSkew)) {
		return fail(BadPresentation, nil, "the presentation was made before this request was: it may be a replay; ask for a new one")
	}
	return nil
}

// keyBindingProblem says in fixed words what is wrong with a presentation's
// key binding.
func keyBindingProblem(err error) string {
	switch {
	case errors.Is(err, credentials.ErrNoKeyBinding):
		return "the credential is bound to its holder's key but the presentation has no key binding: ask the wallet for a presentation"
	case errors.Is(err, credentials.ErrKeyBindingAudience):
		return "the presentation was made for another verifier"
	case errors.Is(err, credentials.ErrKeyBindingNonce):
		return "the presentation answers another request (its nonce is not the one asked for): it may be a replay; ask for a new one"
	case errors.Is(err, credentials.ErrKeyBindingTime):
		return "the presentation was not made just now: ask for a new one"
	case errors.Is(err, credentials.ErrKeyBindingHash):
		return "the key binding does not cover what was presented: the disclosures were changed"
	case errors.Is(err, credentials.ErrBadSignature):
		return "the presentation is not signed with the holder's key: it was not made by the wallet the credential was issued to"
	}
	return "the presentation's key binding is not valid"
}
