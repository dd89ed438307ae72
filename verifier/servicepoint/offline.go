package servicepoint

// Offline presentations (issue 8, part present): a wallet without a
// network link to the desk shows a QR code of an SD-JWT presentation with
// only the claims the holder chose and a key-binding JWT for the audience
// OfflineAudience, a fresh random nonce and iat now. The desk accepts it
// when the key binding verifies with the credential's cnf key, iat is
// within OfflineWindow of the desk's clock, and the nonce was never seen
// before (NonceStore). What it does not stop: a copy of the QR (a
// screenshot) shown within the window at a desk that does not share this
// nonce store (another tally instance). See docs/wallet-present.md.

import (
	"bytes"
	"context"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// OfflineAudience is the aud of an offline presentation's key-binding
// JWT: it names no verifier, and says so.
const OfflineAudience = "tally:offline"

// OfflineWindow bounds how far an offline presentation's iat may be from
// the desk's clock, either way: the wallet makes a new one every minute.
const OfflineWindow = 3 * time.Minute

// NonceStore remembers the nonces of offline presentations. Use records
// nonce until expires and tells whether it was new; a nonce seen before
// and not yet expired is refused. Entries past their expiry may be swept.
type NonceStore interface {
	UseNonce(ctx context.Context, nonce string, expires, now time.Time) (fresh bool, err error)
}

// maxOfflineNonce bounds the nonce the desk records.
const maxOfflineNonce = 128

// offlineOf tells whether raw is an offline presentation: an SD-JWT whose
// key-binding JWT names OfflineAudience alone. Its signatures are not
// checked yet.
func offlineOf(raw []byte) (*credentials.SDJWT, bool) {
	if !bytes.Contains(raw, []byte("~")) {
		return nil, false
	}
	sd, err := credentials.ParseSDJWT(raw)
	if err != nil {
		return nil, false
	}
	auds := sd.KeyBindingAudiences()
	if len(auds) != 1 || auds[0] != OfflineAudience {
		return nil, false
	}
	return sd, true
}

// verifyOffline verifies an offline presentation: the credential and its
// key binding, then the window, then (only once all signatures hold) the
// nonce's single use.
func (s *Service) verifyOffline(ctx context.Context, v *verifier.Verifier, raw []byte, sd *credentials.SDJWT, now time.Time) (*verifier.Result, error) {
	refuse := func(detail string) (*verifier.Result, error) {
		return nil, &verifier.Error{Reason: verifier.BadPresentation, Detail: detail}
	}
	if s.opts.Nonces == nil {
		return refuse("this desk does not accept presentation QR codes from wallets")
	}
	nonce := sd.KeyBindingNonce()
	if len(nonce) < 16 || len(nonce) > maxOfflineNonce {
		return refuse("the presentation's nonce is not a fresh random value")
	}
	if iat := sd.KeyBindingIssuedAt(); iat.Before(now.Add(-OfflineWindow)) || iat.After(now.Add(OfflineWindow)) {
		return refuse("the presentation QR code is too old (or the phone's clock is wrong): ask the person to show the code again")
	}
	res, err := v.VerifyPresentation(ctx, raw, verifier.Presentation{Audience: OfflineAudience, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	fresh, err := s.opts.Nonces.UseNonce(ctx, nonce, now.Add(2*OfflineWindow), now)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return refuse("this presentation QR code was already used: ask the person to show the code again (it changes every minute)")
	}
	return res, nil
}
