package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/verifier"
)

// This file checks the status of a holder's credential (issue 8, part
// pwa): the wallet resolves the issuer's keys (an organisation of this
// instance in-process, else its did:web document through s.fetch),
// fetches the status list the credential names through s.fetch, and has
// the verifier check the list's signature and read the entry. The result
// is kept sealed in the wallet, so that offline the page can say what the
// last check found, and when.

// walletStatusTimeout bounds one status check: the DID document and every
// status list it reads.
const walletStatusTimeout = 15 * time.Second

// walletStatusFetcher fetches status lists for the wallet: an
// organisation of this instance answers in-process, anything else comes
// through the wallet's bounded client.
type walletStatusFetcher struct{ s *Server }

func (f walletStatusFetcher) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	if f.s.svc != nil {
		body, maxAge, ok, err := f.s.svc.LocalStatusList(ctx, url, mediaType)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			return body, maxAge, nil
		}
	}
	res, err := f.s.fetch.Get(ctx, url, mediaType)
	if err != nil {
		return nil, 0, err
	}
	if res.Status != http.StatusOK {
		return nil, 0, fmt.Errorf("the issuer's server answered %d for its status list", res.Status)
	}
	return res.Body, 0, nil
}

// walletIssuer finds the keys of a credential's issuer: an organisation of
// this instance, a did:web document fetched with s.fetch, or a did:key.
func (s *Server) walletIssuer(ctx context.Context, did string) (*verifier.TrustedIssuer, error) {
	if s.svc != nil {
		local, err := s.svc.TrustedIssuers(ctx)
		if err != nil {
			return nil, err
		}
		for _, iss := range local {
			if iss.DID == did {
				return iss, nil
			}
		}
	}
	switch {
	case strings.HasPrefix(did, "did:web:"):
		doc, err := s.didWeb().Document(ctx, did)
		switch {
		case errors.Is(err, fetch.ErrDIDUnreachable):
			return nil, errors.New("the issuer's server could not be reached")
		case err != nil:
			return nil, fmt.Errorf("the issuer's DID document: %w", err)
		}
		keys := doc.PublicKeys()
		if len(keys) == 0 {
			return nil, errors.New("the issuer's DID document lists no key")
		}
		return verifier.NewTrustedIssuer("", []credentials.Type{credentials.TypeAny}, keys...)
	case strings.HasPrefix(did, "did:key:"):
		pub, err := credentials.ParseDIDKey(did)
		if err != nil {
			return nil, err
		}
		k, err := credentials.NewPublicKey(pub, did)
		if err != nil {
			return nil, err
		}
		k.ID = did + "#" + strings.TrimPrefix(did, "did:key:")
		return verifier.NewTrustedIssuer("", []credentials.Type{credentials.TypeAny}, k)
	}
	return nil, errors.New("the wallet cannot find the keys of this issuer")
}

// credentialIssuer is the issuer a credential's envelope names.
func credentialIssuer(raw string) (string, error) {
	sec, err := parseHeld(raw)
	if err != nil {
		return "", err
	}
	return sec.Issuer(), nil
}

// parseHeld parses a credential the wallet keeps with the credentials
// package's parsers: a QR card, a VC-JWT or an SD-JWT VC.
func parseHeld(raw string) (credentials.Secured, error) {
	b := []byte(strings.TrimSpace(raw))
	if inner, ok := credentials.UnwrapEnveloped(b); ok {
		b = inner
	}
	f, err := credentials.DetectFormat(b)
	if err != nil {
		return nil, err
	}
	switch f {
	case credentials.FormatQR:
		return credentials.ParseCard(b)
	case credentials.FormatJWT:
		return credentials.ParseJWT(b)
	case credentials.FormatSDJWT:
		return credentials.ParseSDJWT(b)
	}
	return nil, fmt.Errorf("the wallet does not read %s credentials", f)
}

// readStatus asks the network what state a credential is in.
func (s *Server) readStatus(ctx context.Context, c holder.Credential) holder.CredentialStatus {
	ctx, cancel := context.WithTimeout(ctx, walletStatusTimeout)
	defer cancel()
	now := time.Now
	if s.svc != nil {
		now = s.svc.Now
	}
	st := holder.CredentialStatus{State: holder.StateUnknown, CheckedAt: now().UTC()}
	did, err := credentialIssuer(c.Raw)
	if err != nil {
		st.Problem = "the wallet cannot read this credential"
		return st
	}
	iss, err := s.walletIssuer(ctx, did)
	if err != nil {
		st.Problem = err.Error()
		return st
	}
	trust := verifier.NewTrustList("wallet")
	if err := trust.Add(iss); err != nil {
		st.Problem = "the issuer's keys are not usable"
		return st
	}
	v, err := verifier.New(verifier.Options{Trust: trust, Now: now, Fetcher: walletStatusFetcher{s}, AllowUnboundSDJWT: true})
	if err != nil {
		st.Problem = err.Error()
		return st
	}
	res, err := v.Verify(ctx, []byte(strings.TrimSpace(c.Raw)))
	var verr *verifier.Error
	switch {
	case err == nil:
		st.Revocable = res.Status.HasStatus
		st.ListSignedAt = res.Status.CheckedAt
		switch {
		case !res.Status.HasStatus:
			st.State = holder.StateValid
		case res.Status.Checked:
			st.State = holder.StateValid
		default:
			st.Problem = res.Status.Problem
		}
	case errors.As(err, &verr):
		st.Revocable = true
		switch verr.Reason {
		case verifier.Revoked:
			st.State = holder.StateRevoked
		case verifier.Suspended:
			st.State = holder.StateSuspended
		case verifier.Expired:
			st.State = holder.StateExpired
		default:
			st.Problem = verr.Reason.String()
		}
	default:
		st.Problem = "the status could not be checked"
	}
	return st
}
