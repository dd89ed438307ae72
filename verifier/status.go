package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
)

// StatusFetcher fetches a status list credential (a VC-JWT) by URL. It
// returns the body and how long it may be cached (0: the verifier decides).
type StatusFetcher interface {
	FetchStatusList(ctx context.Context, url string) (body []byte, maxAge time.Duration, err error)
}

// HTTPStatusFetcher fetches status lists with an HTTP GET.
type HTTPStatusFetcher struct {
	// Client is the HTTP client; a client with a 10 s timeout if nil.
	Client *http.Client
}

// maxStatusBody bounds a status list response.
const maxStatusBody = 4 << 20

// FetchStatusList implements StatusFetcher. The max-age of the response's
// Cache-Control header, if any, is the cache lifetime.
func (f HTTPStatusFetcher) FetchStatusList(ctx context.Context, url string) ([]byte, time.Duration, error) {
	client := f.Client
	if client == nil {
		// Redirects are not followed: a list is fetched only from the
		// issuer's status base, and a redirect could lead anywhere.
		client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/vc+jwt")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxStatusBody {
		return nil, 0, fmt.Errorf("GET %s: status list larger than %d MiB", url, maxStatusBody>>20)
	}
	return body, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge reads the max-age of a Cache-Control header; 0 when it has none.
// A value beyond MaxStatusCacheLifetime is cut to it.
func maxAge(cacheControl string) time.Duration {
	for _, part := range strings.Split(cacheControl, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "max-age="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				return time.Duration(min(n, int64(MaxStatusCacheLifetime/time.Second))) * time.Second
			}
		}
	}
	return 0
}

// MaxStatusCacheLifetime caps how long a verifier keeps a status list before
// it fetches it again, whatever the list's ttl or the HTTP max-age say: a
// revocation reaches every verifier that is online within a day.
const MaxStatusCacheLifetime = 24 * time.Hour

// ErrOlderStatusList is why a status list is refused when the verifier
// already has the same issuer's list at the same URL signed later: an older
// list never replaces a newer one, so that an old list (from before a
// revocation) cannot be played back to a verifier.
var ErrOlderStatusList = errors.New("it is older than the list this verifier already has")

// cachedList is a verified status list: when its issuer signed it (its
// age counts from then), how long it counts as fresh after that, until when
// it may be used at all, and when to fetch it again.
type cachedList struct {
	list       *credentials.StatusList
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

// statusCache holds verified status lists by issuer and URL, so that no
// issuer's list can stand in for another's.
type statusCache struct {
	mu    sync.Mutex
	lists map[cacheKey]*cachedList
}

type cacheKey struct{ issuer, url string }

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

// StatusResult says what the verifier knows of a credential's status.
type StatusResult struct {
	// HasStatus is false for a credential that names no status list: it
	// cannot be revoked or suspended.
	HasStatus bool
	// Checked is true when every status bit was read from a list.
	Checked bool
	// CheckedAt is when the issuer signed the oldest list used; Age is how
	// old that was at verification time. A list's age is its signed age,
	// whether it was fetched just now or long ago.
	CheckedAt time.Time
	Age       time.Duration
	// Stale is true when a list used is older than its lifetime (the ttl or
	// HTTP max-age it came with): no newer one could be fetched (offline),
	// or the issuer's server handed out an old one.
	Stale bool
	// Problem says, in plain words, why the status was not checked or is
	// stale.
	Problem string
}

// statusList returns a usable verified list at url, fetching it when the
// cache has none, or one past its cache lifetime. A failed fetch, or a
// fetched list older than the cached one, falls back on the cached list;
// the caller tells from its age whether it is stale.
func (v *Verifier) statusList(ctx context.Context, url string, iss *TrustedIssuer, now time.Time) (*cachedList, error) {
	cached := v.status.get(cacheKey{iss.Identifier(), url})
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
	body, age, err := v.opts.Fetcher.FetchStatusList(ctx, url)
	if err == nil {
		var fetched *cachedList
		if fetched, err = v.acceptStatusList(body, url, iss, now, age, true); err == nil {
			return fetched, nil
		}
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
	c.lifetime = v.cacheLifetime(httpMaxAge, l.TTL)
	from := c.signedAt
	if fetched {
		from = now
	}
	c.expires = from.Add(c.lifetime)
	if err := v.status.put(cacheKey{iss.Identifier(), l.URL}, c); err != nil {
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

// LoadStatusList hands the verifier a status list credential obtained by
// other means (synced to an offline device, say). It is verified against
// the trust list like a fetched one, and refused when the verifier has a
// newer list of the same issuer at the same URL (ErrOlderStatusList). Its
// age is its signed age: when it was copied does not matter.
func (v *Verifier) LoadStatusList(body []byte) error {
	_, err := v.acceptStatusList(body, "", nil, v.opts.Now(), 0, false)
	return err
}

// checkStatus reads every status bit of a credential, then applies the
// policy: a set bit rejects the credential even when another list could
// not be read; unread lists are accepted with a warning unless MaxStatusAge
// is set; lists older than MaxStatusAge reject it, and stale ones are
// accepted with a warning that says how old they are.
func (v *Verifier) checkStatus(ctx context.Context, entries []credentials.StatusEntry, iss *TrustedIssuer, now time.Time, res *Result) *Error {
	if len(entries) == 0 {
		return nil
	}
	res.Status.HasStatus = true
	var used []*cachedList
	var unread []string
	for _, e := range entries {
		url, err := resolveStatusURL(e.ListCredential, iss)
		if err != nil {
			unread = append(unread, err.Error())
			continue
		}
		cl, err := v.statusList(ctx, url, iss, now)
		if cl == nil {
			unread = append(unread, fmt.Sprintf("the %s list could not be read: %v", e.Purpose, err))
			continue
		}
		if cl.list.Purpose != e.Purpose {
			return fail(Malformed, nil, "the credential's %s entry points at a %s list", e.Purpose, cl.list.Purpose)
		}
		set, err := cl.list.Get(e.Index)
		if err != nil {
			return fail(Malformed, err, "%v", err)
		}
		if set {
			if e.Purpose == credentials.PurposeRevocation {
				return fail(Revoked, nil, "the issuer has revoked this credential")
			}
			return fail(Suspended, nil, "the issuer has suspended this credential")
		}
		used = append(used, cl)
	}
	if len(unread) > 0 {
		return v.statusUnavailable(res, now, strings.Join(unread, "; "))
	}
	return v.statusAge(used, now, res)
}

// statusAge applies the policy on the age of the lists used: older than
// MaxStatusAge rejects the credential; stale is accepted with a warning
// that says how old the status is.
func (v *Verifier) statusAge(used []*cachedList, now time.Time, res *Result) *Error {
	var oldest time.Time
	stale := false
	for _, cl := range used {
		if oldest.IsZero() || cl.signedAt.Before(oldest) {
			oldest = cl.signedAt
		}
		stale = stale || !cl.fresh(now)
	}
	res.Status.Checked = true
	res.Status.CheckedAt = oldest
	res.Status.Age = max(now.Sub(oldest), 0)
	res.Status.Stale = stale
	if v.opts.MaxStatusAge > 0 && res.Status.Age > v.opts.MaxStatusAge {
		res.Status.Problem = fmt.Sprintf("the status information is %s old (signed at %s)", plainDuration(res.Status.Age), oldest.UTC().Format(time.RFC3339))
		return fail(StatusUnavailable, nil, "%s, older than the %s this verifier allows", res.Status.Problem, plainDuration(v.opts.MaxStatusAge))
	}
	if stale {
		res.Status.Problem = fmt.Sprintf("status not checked since %s (%s ago)", oldest.UTC().Format(time.RFC3339), plainDuration(res.Status.Age))
		res.Warnings = append(res.Warnings, res.Status.Problem)
	}
	return nil
}

// plainDuration says how long d is in words a person reads at a glance:
// "3 days 2 hours", "5 hours 10 minutes", "12 minutes".
func plainDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	days, hours, minutes := int64(d/(24*time.Hour)), int64(d/time.Hour)%24, int64(d/time.Minute)%60
	switch {
	case days > 0 && hours > 0:
		return unit(days, "day") + " " + unit(hours, "hour")
	case days > 0:
		return unit(days, "day")
	case hours > 0 && minutes > 0:
		return unit(hours, "hour") + " " + unit(minutes, "minute")
	case hours > 0:
		return unit(hours, "hour")
	case minutes > 0:
		return unit(minutes, "minute")
	}
	return "less than a minute"
}

func (v *Verifier) statusUnavailable(res *Result, now time.Time, why string) *Error {
	res.Status.Problem = "status not checked: " + why
	if v.opts.MaxStatusAge > 0 {
		return fail(StatusUnavailable, nil, "%s", res.Status.Problem)
	}
	res.Warnings = append(res.Warnings, res.Status.Problem)
	return nil
}

// resolveStatusURL makes a card's relative list path absolute against the
// issuer's status base, and checks that an absolute URL is below the base
// when the issuer has one: the base (from the trusted list), then a plain
// path with no "..", ".", empty segment, query, fragment or escape. The
// base, or an absolute URL when there is no base, must be https (plain http
// only on this machine: see checkStatusBase). The verifier fetches nothing
// else a credential names.
func resolveStatusURL(ref string, iss *TrustedIssuer) (string, error) {
	base := strings.TrimRight(iss.StatusBase, "/")
	if base != "" {
		if err := checkStatusBase(base); err != nil {
			return "", fmt.Errorf("the status base of %s: %w", iss.displayName(), err)
		}
	}
	if !strings.Contains(ref, "://") {
		if base == "" {
			return "", fmt.Errorf("the trust list gives no status base for %s", iss.displayName())
		}
		if !plainPath(ref) {
			return "", fmt.Errorf("status list reference %q is not a list path", ref)
		}
		return base + "/" + ref, nil
	}
	if base != "" {
		rest, ok := strings.CutPrefix(ref, base+"/")
		if !ok || !plainPath(rest) {
			return "", fmt.Errorf("status list %s is not below the issuer's status base %s", ref, iss.StatusBase)
		}
		return ref, nil
	}
	u, err := neturl.Parse(ref)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("status list %q is not an https URL", ref)
	}
	if err := checkSecureScheme(u); err != nil {
		return "", fmt.Errorf("status list %s: %w", ref, err)
	}
	return ref, nil
}

// checkStatusBase checks an issuer's status base: an https URL with a host
// and no user, query or fragment, or plain http on this machine.
func checkStatusBase(base string) error {
	u, err := neturl.Parse(base)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an https URL with a host and a path", base)
	}
	return checkSecureScheme(u)
}

// checkSecureScheme refuses a URL that is not https, unless it is plain http
// to a loopback host (localhost, 127.0.0.0/8, ::1): a status list fetched
// in the clear across a network could be swapped for another by anyone on
// the way, and a verifier could not tell that it is not the newest.
func checkSecureScheme(u *neturl.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("status lists are fetched over https only (plain http only from this machine: localhost, 127.0.0.0/8, ::1)")
	}
	return fmt.Errorf("the scheme %q is not https", u.Scheme)
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainPath reports whether p is a relative path of plain segments.
func plainPath(p string) bool {
	if p == "" || strings.ContainsAny(p, "?#%\\") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// checkTokenStatus reads the credential's entry in an IETF Token Status
// List. Until the verifier reads such lists, the status counts as not
// checked and the policy decides.
func (v *Verifier) checkTokenStatus(_ context.Context, ref *credentials.TokenStatusRef, _ *TrustedIssuer, now time.Time, res *Result) *Error {
	res.Status.HasStatus = true
	return v.statusUnavailable(res, now, "token status lists are not read yet")
}
