package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
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

func maxAge(cacheControl string) time.Duration {
	for _, part := range strings.Split(cacheControl, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}

// cachedList is a verified status list and when it was fetched.
type cachedList struct {
	list      *credentials.StatusList
	fetchedAt time.Time
	expires   time.Time
}

// statusCache holds verified status lists by issuer and URL, so that no
// issuer's list can stand in for another's.
type statusCache struct {
	mu    sync.Mutex
	lists map[cacheKey]*cachedList
}

type cacheKey struct{ issuer, url string }

func (c *statusCache) get(issuer, url string) *cachedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists[cacheKey{issuer, url}]
}

func (c *statusCache) put(issuer, url string, l *cachedList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{issuer, url}
	if old, ok := c.lists[k]; ok && old.fetchedAt.After(l.fetchedAt) {
		return
	}
	c.lists[k] = l
}

// StatusResult says what the verifier knows of a credential's status.
type StatusResult struct {
	// HasStatus is false for a credential that names no status list: it
	// cannot be revoked or suspended.
	HasStatus bool
	// Checked is true when every status bit was read from a list.
	Checked bool
	// CheckedAt is when the oldest list used was fetched; Age is how old
	// that was at verification time.
	CheckedAt time.Time
	Age       time.Duration
	// Stale is true when a list was past its cache lifetime and could not
	// be fetched again (offline).
	Stale bool
	// Problem says, in plain words, why the status was not checked or is
	// stale.
	Problem string
}

// statusList returns the verified list at url, fetching it when the cache
// has none or an expired one. A failed fetch falls back on the cached list,
// marked stale.
func (v *Verifier) statusList(ctx context.Context, url string, iss *TrustedIssuer, now time.Time) (*cachedList, bool, error) {
	cached := v.status.get(iss.DID, url)
	if cached != nil && now.Before(cached.expires) {
		return cached, false, nil
	}
	if v.opts.Fetcher == nil {
		if cached != nil {
			return cached, true, nil
		}
		return nil, false, errors.New("no status list has been loaded, and this verifier does not fetch")
	}
	body, age, err := v.opts.Fetcher.FetchStatusList(ctx, url)
	if err == nil {
		var fresh *cachedList
		fresh, err = v.acceptStatusList(body, url, iss, now, age)
		if err == nil {
			return fresh, false, nil
		}
	}
	if cached != nil {
		return cached, true, err
	}
	return nil, false, err
}

// acceptStatusList verifies a status list credential (signed by the
// trusted issuer, for the URL asked, below the issuer's status base) and
// caches it. Its age counts from when it was signed, if that is earlier
// than fetchedAt: a list copied onto a device is as old as its signature.
func (v *Verifier) acceptStatusList(body []byte, url string, iss *TrustedIssuer, fetchedAt time.Time, age time.Duration) (*cachedList, error) {
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
	if l.Issuer != iss.DID {
		return nil, fmt.Errorf("status list %s is issued by %s, not by %s", l.URL, l.Issuer, iss.DID)
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
	if !l.ValidUntil.IsZero() && fetchedAt.After(l.ValidUntil) {
		return nil, fmt.Errorf("status list %s expired on %s", l.URL, l.ValidUntil.Format(time.RFC3339))
	}
	if !l.Issued.IsZero() && l.Issued.Before(fetchedAt) {
		fetchedAt = l.Issued
	}
	if age <= 0 {
		age = l.TTL
	}
	if age <= 0 {
		age = v.opts.StatusTTL
	}
	c := &cachedList{list: l, fetchedAt: fetchedAt, expires: fetchedAt.Add(age)}
	v.status.put(iss.DID, l.URL, c)
	return c, nil
}

// LoadStatusList hands the verifier a status list credential fetched by
// other means (synced to an offline device, say). It is verified against
// the trust list like a fetched one; fetchedAt is when it was obtained.
func (v *Verifier) LoadStatusList(body []byte, fetchedAt time.Time) error {
	_, err := v.acceptStatusList(body, "", nil, fetchedAt, 0)
	return err
}

// checkStatus reads every status bit of a credential, then applies the
// policy: a set bit rejects the credential even when another list could
// not be read; unread or stale lists are accepted with a warning unless
// MaxStatusAge says otherwise.
func (v *Verifier) checkStatus(ctx context.Context, entries []credentials.StatusEntry, iss *TrustedIssuer, now time.Time, res *Result) *Error {
	if len(entries) == 0 {
		return nil
	}
	res.Status.HasStatus = true
	var oldest time.Time
	var unread []string
	stale := false
	for _, e := range entries {
		url, err := resolveStatusURL(e.ListCredential, iss)
		if err != nil {
			unread = append(unread, err.Error())
			continue
		}
		cl, isStale, err := v.statusList(ctx, url, iss, now)
		if cl != nil && !cl.list.ValidUntil.IsZero() && now.After(cl.list.ValidUntil) {
			cl, err = nil, fmt.Errorf("the list expired on %s", cl.list.ValidUntil.Format(time.RFC3339))
		}
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
		if oldest.IsZero() || cl.fetchedAt.Before(oldest) {
			oldest = cl.fetchedAt
		}
		stale = stale || isStale
	}
	if len(unread) > 0 {
		return v.statusUnavailable(res, now, strings.Join(unread, "; "))
	}
	res.Status.Checked = true
	res.Status.CheckedAt = oldest
	res.Status.Age = now.Sub(oldest)
	res.Status.Stale = stale
	if stale {
		res.Status.Problem = fmt.Sprintf("status not checked since %s (offline)", oldest.UTC().Format(time.RFC3339))
		if v.opts.MaxStatusAge > 0 && res.Status.Age > v.opts.MaxStatusAge {
			return fail(StatusUnavailable, nil, "%s, longer ago than the %s this verifier allows", res.Status.Problem, v.opts.MaxStatusAge)
		}
		res.Warnings = append(res.Warnings, res.Status.Problem)
	}
	return nil
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
// issuer's status base, and checks that an absolute URL is http(s) and,
// when the issuer has a status base, below it: the base (from the trusted
// list), then a plain path with no "..", ".", empty segment, query,
// fragment or escape. The verifier fetches nothing else a credential names.
func resolveStatusURL(ref string, iss *TrustedIssuer) (string, error) {
	base := strings.TrimRight(iss.StatusBase, "/")
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
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("status list %q is not an http(s) URL", ref)
	}
	return ref, nil
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
