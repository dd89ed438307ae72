package verifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
)

// mergedFetchTimeout bounds a status list fetch shared by concurrent
// verifications (the fetchers have shorter timeouts of their own).
const mergedFetchTimeout = 30 * time.Second

// MaxStatusCacheLifetime caps how long a verifier keeps a status list before
// it fetches it again, whatever the list's ttl or the HTTP max-age say: a
// revocation reaches every verifier that is online within a day.
const MaxStatusCacheLifetime = 24 * time.Hour

// ErrOlderStatusList is why a status list is refused when the verifier
// already has the same issuer's list at the same URL signed later: an older
// list never replaces a newer one, so that an old list (from before a
// revocation) cannot be played back to a verifier.
var ErrOlderStatusList = errors.New("it is older than the list this verifier already has")

// listKind is the kind of a status list: a W3C Bitstring Status List, or
// an IETF Token Status List.
type listKind int

const (
	bitstringList listKind = iota
	tokenList
)

// mediaType is what the verifier asks for when it fetches a list.
func (k listKind) mediaType() string {
	if k == tokenList {
		return credentials.TokenStatusListMediaType
	}
	return "application/vc+jwt"
}

// cachedList is a verified status list (list or token, by its kind): when
// its issuer signed it (its age counts from then), how long it counts as
// fresh after that, until when it may be used at all, and when to fetch it
// again.
type cachedList struct {
	list       *credentials.StatusList
	token      *credentials.TokenStatusList
	signedAt   time.Time
	lifetime   time.Duration
	validFrom  time.Time
	validUntil time.Time
	expires    time.Time
}

// fresh reports whether the list is younger than its lifetime (the ttl or
// max-age it came with): if not, the issuer has signed a newer one since,
// as far as the verifier can tell.
func (c *cachedList) fresh(now time.Time) bool { return !now.After(c.signedAt.Add(c.lifetime)) }

// usable says why the list may not be used at now: it has lapsed, or is not
// valid yet. No clock skew is allowed for the end: a lapsed list is never
// used.
func (c *cachedList) usable(now time.Time, skew time.Duration) error {
	if !c.validUntil.IsZero() && now.After(c.validUntil) {
		return fmt.Errorf("the list expired on %s", c.validUntil.UTC().Format(time.RFC3339))
	}
	if !c.validFrom.IsZero() && now.Add(skew).Before(c.validFrom) {
		return fmt.Errorf("the list is valid only from %s", c.validFrom.UTC().Format(time.RFC3339))
	}
	return nil
}

// statusCache holds verified status lists by issuer, URL and kind, so that
// no issuer's list can stand in for another's.
type statusCache struct {
	mu    sync.Mutex
	lists map[cacheKey]*cachedList
	// epoch counts the calls of ExpireStatusLists: a fetch begun in an
	// earlier epoch may have read a list from before the change.
	epoch uint64
}

// currentEpoch is the number of ExpireStatusLists calls so far.
func (c *statusCache) currentEpoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// fetchedIn marks l, cached under k by a fetch begun in epoch, to be
// fetched again at its next use if ExpireStatusLists was called since:
// the fetch may have read the list from before the change.
func (c *statusCache) fetchedIn(k cacheKey, l *cachedList, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch && c.lists[k] == l && !l.expires.IsZero() {
		expired := *l
		expired.expires = time.Time{}
		c.lists[k] = &expired
	}
}

type cacheKey struct {
	issuer, url string
	kind        listKind
}

func (c *statusCache) get(k cacheKey) *cachedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists[k]
}

// put caches l, unless the cache holds a list for the same issuer and URL
// signed later: then l is refused with ErrOlderStatusList.
func (c *statusCache) put(k cacheKey, l *cachedList) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lists[k]; ok && old.signedAt.After(l.signedAt) {
		return fmt.Errorf("status list %s was signed at %s: %w (signed at %s)", k.url,
			l.signedAt.UTC().Format(time.RFC3339), ErrOlderStatusList, old.signedAt.UTC().Format(time.RFC3339))
	}
	c.lists[k] = l
	return nil
}

// statusList returns a usable verified list of kind at url, fetching it
// when the cache has none, or one past its cache lifetime. A failed fetch,
// or a fetched list older than the cached one, falls back on the cached
// list; the caller tells from its age whether it is stale.
func (v *Verifier) statusList(ctx context.Context, kind listKind, url string, iss *TrustedIssuer, now time.Time) (*cachedList, error) {
	cached := v.status.get(cacheKey{iss.Identifier(), url, kind})
	var unusable error
	if cached != nil {
		if unusable = cached.usable(now, v.opts.ClockSkew); unusable != nil {
			cached = nil
		}
	}
	if cached != nil && now.Before(cached.expires) {
		return cached, nil
	}
	if v.opts.Fetcher == nil {
		switch {
		case cached != nil:
			return cached, nil
		case unusable != nil:
			return nil, unusable
		}
		return nil, errors.New("no status list has been loaded, and this verifier does not fetch")
	}
	// Callers merge their fetch only within one epoch: a verification
	// after ExpireStatusLists never waits for, and takes, a list read
	// before it.
	epoch := v.status.currentEpoch()
	key := strconv.Itoa(int(kind)) + "\x00" + iss.Identifier() + "\x00" + url + "\x00" + strconv.FormatUint(epoch, 10)
	got, err, _ := v.fetches.Do(key, func() (any, error) {
		// The fetch is every waiting caller's, not the first's alone: it
		// does not end when the first caller's context does (a client
		// that hangs up), only after mergedFetchTimeout at most.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mergedFetchTimeout)
		defer cancel()
		body, age, err := v.opts.Fetcher.FetchStatusList(fctx, url, kind.mediaType())
		if err != nil {
			return nil, err
		}
		accept := v.acceptStatusList
		if kind == tokenList {
			accept = v.acceptTokenStatusList
		}
		l, err := accept(body, url, iss, now, age, true)
		if err == nil {
			v.status.fetchedIn(cacheKey{iss.Identifier(), url, kind}, l, epoch)
		}
		return l, err
	})
	if err == nil {
		return got.(*cachedList), nil
	}
	if cached != nil {
		return cached, nil
	}
	return nil, err
}

// acceptStatusList verifies a status list credential (signed by the
// trusted issuer, for the URL asked, below the issuer's status base, valid
// at now) and caches it unless the cache has a newer one. Its age counts
// from when it was signed (iat, else validFrom): a list fetched just now,
// or copied onto a device, is as old as its signature. It is fetched again
// after its lifetime (the smaller of its ttl and the HTTP max-age, else
// StatusTTL; at most MaxStatusCacheLifetime) from when it was fetched, or,
// for a list handed to LoadStatusList, from when it was signed.
func (v *Verifier) acceptStatusList(body []byte, url string, iss *TrustedIssuer, now time.Time, httpMaxAge time.Duration, fetched bool) (*cachedList, error) {
	signed, err := credentials.ParseStatusList(body)
	if err != nil {
		return nil, err
	}
	l := signed.List
	if url != "" && l.URL != url {
		return nil, fmt.Errorf("the status list at %s says it is %s", url, l.URL)
	}
	if iss == nil {
		var ok bool
		if iss, ok = v.opts.Trust.Issuer(l.Issuer); !ok {
			return nil, fmt.Errorf("status list %s: its issuer %s is not in the trust list", l.URL, l.Issuer)
		}
	}
	if l.Issuer != iss.Identifier() {
		return nil, fmt.Errorf("status list %s is issued by %s, not by %s", l.URL, l.Issuer, iss.Identifier())
	}
	if _, err := resolveStatusURL(l.URL, iss); err != nil {
		return nil, err
	}
	key, ok := iss.key(signed.KeyID)
	if !ok {
		return nil, fmt.Errorf("status list %s: signing key %q is not in the trust list", l.URL, signed.KeyID)
	}
	if err := signed.VerifySignature(key.Public); err != nil {
		return nil, err
	}
	c := &cachedList{list: l, signedAt: l.Issued, validFrom: l.ValidFrom, validUntil: l.ValidUntil}
	if c.signedAt.IsZero() {
		c.signedAt = l.ValidFrom
	}
	if err := v.checkSignedTime(l.URL, c, now); err != nil {
		return nil, err
	}
	v.setLifetime(c, now, httpMaxAge, l.TTL, fetched)
	if err := v.status.put(cacheKey{iss.Identifier(), l.URL, bitstringList}, c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkSignedTime checks that a list says when it was signed, and was not
// signed in the future (beyond the clock skew allowed), and that it is
// usable at now.
func (v *Verifier) checkSignedTime(url string, c *cachedList, now time.Time) error {
	if c.signedAt.IsZero() {
		return fmt.Errorf("status list %s does not say when it was signed (no iat or validFrom), so its age cannot be told", url)
	}
	if c.signedAt.After(now.Add(v.opts.ClockSkew)) {
		return fmt.Errorf("status list %s says it was signed at %s, which is still to come", url, c.signedAt.UTC().Format(time.RFC3339))
	}
	if err := c.usable(now, v.opts.ClockSkew); err != nil {
		return fmt.Errorf("status list %s: %v", url, err)
	}
	return nil
}

// setLifetime sets how long a list counts as fresh, and when to fetch it
// again: its lifetime after it was fetched (now), or, for a list handed to
// LoadStatusList, after it was signed.
func (v *Verifier) setLifetime(c *cachedList, now time.Time, httpMaxAge, ttl time.Duration, fetched bool) {
	c.lifetime = v.cacheLifetime(httpMaxAge, ttl)
	from := c.signedAt
	if fetched {
		from = now
	}
	c.expires = from.Add(c.lifetime)
}

// cacheLifetime is how long a list counts as fresh: the smaller of the
// list's own ttl and the HTTP max-age, whichever are given, else
// StatusTTL; never more than MaxStatusCacheLifetime.
func (v *Verifier) cacheLifetime(httpMaxAge, ttl time.Duration) time.Duration {
	d := v.opts.StatusTTL
	switch {
	case httpMaxAge > 0 && ttl > 0:
		d = min(httpMaxAge, ttl)
	case httpMaxAge > 0:
		d = httpMaxAge
	case ttl > 0:
		d = ttl
	}
	return min(d, MaxStatusCacheLifetime)
}

// LoadStatusList hands the verifier a status list obtained by other means
// (synced to an offline device, say): a Bitstring Status List credential,
// or an IETF Status List Token. It is verified against the trust list like
// a fetched one, and refused when the verifier has a newer list of the
// same issuer at the same URL (ErrOlderStatusList). Its age is its signed
// age: when it was copied does not matter.
func (v *Verifier) LoadStatusList(body []byte) error {
	accept := v.acceptStatusList
	if credentials.IsTokenStatusList(body) {
		accept = v.acceptTokenStatusList
	}
	_, err := accept(body, "", nil, v.opts.Now(), 0, false)
	return err
}

// ExpireStatusLists makes the verifier fetch again, at their next use,
// the cached status lists whose URL starts with prefix (an issuer's status
// base): an issuer on the same instance says so when it has changed a
// credential's status, so that the change counts at once rather than when
// the list's lifetime ends. The lists stay cached meanwhile, and an older
// list still never replaces one of them.
func (v *Verifier) ExpireStatusLists(prefix string) {
	if prefix == "" {
		return
	}
	c := &v.status
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k, l := range c.lists {
		if strings.HasPrefix(k.url, prefix) && !l.expires.IsZero() {
			expired := *l
			expired.expires = time.Time{}
			c.lists[k] = &expired
		}
	}
}
