package verifier

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
)

// IETF Token Status Lists (draft-ietf-oauth-status-list): an SD-JWT VC's
// status.status_list {idx, uri} points into a Status List Token. The
// verifier reads it as it reads Bitstring Status Lists: fetched only below
// the issuer's status base and over https, signed by the issuer's key from
// the trust list, its sub the uri asked for, cached, aged and never rolled
// back by the same rules.

// readTokenStatus reads the credential's entry in a Token Status List. It
// returns the list when the status is VALID; a rejection for INVALID
// (Revoked), SUSPENDED (Suspended), a status tally does not know, or an
// index outside the list; or, when the list could not be read, why not.
func (v *Verifier) readTokenStatus(ctx context.Context, ref *credentials.TokenStatusRef, iss *TrustedIssuer, now time.Time) (*cachedList, string, *Error) {
	url, err := resolveStatusURL(ref.URI, iss)
	if err != nil {
		return nil, err.Error(), nil
	}
	cl, err := v.statusList(ctx, tokenList, url, iss, now)
	if cl == nil {
		return nil, fmt.Sprintf("the token status list could not be read: %v", err), nil
	}
	status, err := cl.token.Get(ref.Index)
	if err != nil {
		return nil, "", fail(Malformed, err, "the credential's token status entry: %v", err)
	}
	switch status {
	case credentials.TokenValid:
		return cl, "", nil
	case credentials.TokenInvalid:
		return nil, "", fail(Revoked, nil, "the issuer has revoked this credential")
	case credentials.TokenSuspended:
		return nil, "", fail(Suspended, nil, "the issuer has suspended this credential")
	}
	return nil, "", fail(StatusUnavailable, nil, "the issuer's token status list gives this credential the status %s, which tally does not know", status)
}

// acceptTokenStatusList verifies a Status List Token (for the URL asked:
// its sub; below the issuer's status base; its iss, if any, the issuer's;
// signed by the issuer's key; valid at now) and caches it unless the cache
// has a newer one, as acceptStatusList does. Without iss (LoadStatusList),
// the issuer is the one whose status base the list's URI is below.
func (v *Verifier) acceptTokenStatusList(body []byte, url string, iss *TrustedIssuer, now time.Time, httpMaxAge time.Duration, fetched bool) (*cachedList, error) {
	signed, err := credentials.ParseTokenStatusList(body)
	if err != nil {
		return nil, err
	}
	l := signed.List
	if url != "" && l.URI != url {
		return nil, fmt.Errorf("the token status list at %s says it is %s", url, l.URI)
	}
	if iss == nil {
		if iss, err = v.tokenListIssuer(l); err != nil {
			return nil, err
		}
	}
	if l.Issuer != "" && l.Issuer != iss.Identifier() {
		return nil, fmt.Errorf("token status list %s is issued by %s, not by %s", l.URI, l.Issuer, iss.Identifier())
	}
	if _, err := resolveStatusURL(l.URI, iss); err != nil {
		return nil, err
	}
	key, ok := iss.key(signed.KeyID)
	if !ok {
		return nil, fmt.Errorf("token status list %s: signing key %q is not in the trust list", l.URI, signed.KeyID)
	}
	if err := signed.VerifySignature(key.Public); err != nil {
		return nil, err
	}
	c := &cachedList{token: l, signedAt: l.Issued, validUntil: l.Expires}
	if err := v.checkSignedTime(l.URI, c, now); err != nil {
		return nil, err
	}
	v.setLifetime(c, now, httpMaxAge, l.TTL, fetched)
	if err := v.status.put(cacheKey{iss.Identifier(), l.URI, tokenList}, c); err != nil {
		return nil, err
	}
	return c, nil
}

// tokenListIssuer finds the trusted issuer of a Status List Token handed to
// LoadStatusList: the one its iss names, or else the one issuer whose
// status base its URI is below.
func (v *Verifier) tokenListIssuer(l *credentials.TokenStatusList) (*TrustedIssuer, error) {
	if l.Issuer != "" {
		iss, ok := v.opts.Trust.Issuer(l.Issuer)
		if !ok {
			return nil, fmt.Errorf("token status list %s: its issuer %s is not in the trust list", l.URI, l.Issuer)
		}
		return iss, nil
	}
	var found *TrustedIssuer
	for _, iss := range v.opts.Trust.Issuers {
		if iss.StatusBase == "" || !strings.HasPrefix(l.URI, strings.TrimRight(iss.StatusBase, "/")+"/") {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("token status list %s names no issuer, and is below the status base of more than one", l.URI)
		}
		found = iss
	}
	if found == nil {
		return nil, fmt.Errorf("token status list %s names no issuer, and is below no trusted issuer's status base", l.URI)
	}
	return found, nil
}
