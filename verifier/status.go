package verifier

import (
	"context"
	"fmt"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
)

// StatusResult says what the verifier knows of a credential's status.
type StatusResult struct {
	// HasStatus is false for a credential that names no status list: it
	// cannot be revoked or suspended.
	HasStatus bool
	// Checked is true when the credential's status was read: every one of
	// its Bitstring Status List entries, or its Token Status List entry.
	Checked bool
	// CheckedAt is when the issuer signed the oldest list used (of the
	// freshest kind read in full); Age is how old that was at verification
	// time. A list's age is its signed age,
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

// checkStatus reads a credential's status: every Bitstring Status List
// entry, and its Token Status List entry (tok, maybe nil). Then it applies
// the policy: a set bit, or an INVALID or SUSPENDED status, rejects the
// credential even when another list could not be read. The status is
// checked when either mechanism was read in full (the issuer keeps both
// from one status record); if neither was, it is accepted with a warning
// unless MaxStatusAge is set. Lists older than MaxStatusAge reject it, and
// stale ones are accepted with a warning that says how old they are.
func (v *Verifier) checkStatus(ctx context.Context, entries []credentials.StatusEntry, tok *credentials.TokenStatusRef, iss *TrustedIssuer, now time.Time, res *Result) *Error {
	if len(entries) == 0 && tok == nil {
		return nil
	}
	res.Status.HasStatus = true
	var read [][]*cachedList // the lists of each mechanism read in full
	var bits []*cachedList
	var unread []string
	for _, e := range entries {
		url, err := resolveStatusURL(e.ListCredential, iss)
		if err != nil {
			unread = append(unread, err.Error())
			continue
		}
		cl, err := v.statusList(ctx, bitstringList, url, iss, now)
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
		bits = append(bits, cl)
	}
	if len(entries) > 0 && len(bits) == len(entries) {
		read = append(read, bits)
	}
	if tok != nil {
		cl, problem, rejected := v.readTokenStatus(ctx, tok, iss, now)
		switch {
		case rejected != nil:
			return rejected
		case cl == nil:
			unread = append(unread, problem)
		default:
			read = append(read, []*cachedList{cl})
		}
	}
	if len(read) == 0 {
		return v.statusUnavailable(res, now, strings.Join(unread, "; "))
	}
	return v.statusAge(read, now, res)
}

// statusAge applies the policy on the age of the status: that of the
// freshest mechanism read in full, itself as old as its oldest list. Older
// than MaxStatusAge rejects the credential; stale is accepted with a
// warning that says how old the status is.
func (v *Verifier) statusAge(read [][]*cachedList, now time.Time, res *Result) *Error {
	var oldest time.Time
	stale := false
	for i, lists := range read {
		var o time.Time
		s := false
		for _, cl := range lists {
			if o.IsZero() || cl.signedAt.Before(o) {
				o = cl.signedAt
			}
			s = s || !cl.fresh(now)
		}
		if i == 0 || o.After(oldest) || (o.Equal(oldest) && !s) {
			oldest, stale = o, s
		}
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
//
// The answer depends on base alone, and every verification asks it of the
// same few bases: it is remembered, keyed by the exact string, in a bounded
// table.
func checkStatusBase(base string) error {
	statusBases.mu.Lock()
	err, ok := statusBases.checked[base]
	statusBases.mu.Unlock()
	if ok {
		return err
	}
	err = checkStatusBaseURL(base)
	statusBases.mu.Lock()
	if len(statusBases.checked) >= maxCheckedStatusBases {
		clear(statusBases.checked)
	}
	statusBases.checked[base] = err
	statusBases.mu.Unlock()
	return err
}

// maxCheckedStatusBases bounds the table of checked status bases: far more
// issuers than a trust list holds; it starts over when full.
const maxCheckedStatusBases = 256

var statusBases = struct {
	mu      sync.Mutex
	checked map[string]error
}{checked: map[string]error{}}

func checkStatusBaseURL(base string) error {
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
func checkSecureScheme(u *neturl.URL) error { return CheckSecureScheme(u, "status lists") }

// CheckSecureScheme refuses a URL to fetch what (status lists, trust
// lists) from unless it is https, or plain http to this machine
// (localhost, 127.0.0.0/8, ::1).
func CheckSecureScheme(u *neturl.URL, what string) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s are fetched over https only (plain http only from this machine: localhost, 127.0.0.0/8, ::1)", what)
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
