// Package fetch is the wallet's outbound HTTP client (issue 8): the
// wallet server fetches what strangers name — credential offers, issuer
// metadata, OpenID4VP request objects, DID documents, status lists — so
// every fetch is bounded in time and size, follows no redirect, and
// connects only to public addresses unless told otherwise. The check is
// made on the address actually dialled, after DNS, so that a name that
// resolves to a private address (DNS rebinding) is refused too.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Options configure a Client. Zero values take the defaults.
type Options struct {
	// Timeout bounds a whole exchange (10 s).
	Timeout time.Duration
	// MaxBytes bounds a response body (1 MiB).
	MaxBytes int64
	// AllowLoopback lets the client reach loopback addresses, over plain
	// http too: for a server whose own base URL is on loopback (make run,
	// tests), where the issuer and verifier are the same process.
	AllowLoopback bool
	// AllowPrivate lets the client reach private and link-local
	// addresses (a closed network where every service is private).
	AllowPrivate bool
	// Transport replaces the transport (tests); its dialer is then the
	// caller's to bound.
	Transport http.RoundTripper
}

// Client fetches with the bounds of its Options.
type Client struct {
	opts Options
	http *http.Client
}

// ErrRefused is a URL or address the client will not reach.
var ErrRefused = errors.New("fetch: address refused")

// New returns a client.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	c := &Client{opts: opts}
	tr := opts.Transport
	if tr == nil {
		d := &net.Dialer{Timeout: opts.Timeout, Control: c.control}
		tr = &http.Transport{
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   opts.Timeout,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       30 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return fmt.Errorf("%w: redirects are not followed", ErrRefused)
		},
	}
	return c
}

// control refuses to connect to an address the options do not allow.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, address)
	}
	return c.allowed(ap.Addr().Unmap())
}

func (c *Client) allowed(a netip.Addr) error {
	switch {
	case a.IsLoopback():
		if c.opts.AllowLoopback {
			return nil
		}
	case a.IsPrivate(), a.IsLinkLocalUnicast():
		if c.opts.AllowPrivate {
			return nil
		}
	case a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
	case isSpecial(a):
	default:
		return nil
	}
	return fmt.Errorf("%w: %s is not a public address", ErrRefused, a)
}

// special are ranges that are neither public nor caught above: shared
// address space (RFC 6598), benchmarking, documentation, 6to4 relays,
// and the like.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215): may map to private IPv4
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated, RFC 4291)
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated, RFC 3879)
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func isSpecial(a netip.Addr) bool {
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckURL tells whether the client would fetch u: https, or http to a
// loopback host when AllowLoopback is set; no user info; a host.
func (c *Client) CheckURL(u string) (*url.URL, error) {
	if len(u) > 2048 {
		return nil, fmt.Errorf("%w: the URL is longer than 2048 characters", ErrRefused)
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || p.Opaque != "" {
		return nil, fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrRefused, clip(u))
	}
	switch p.Scheme {
	case "https":
	case "http":
		if !c.opts.AllowLoopback || !loopbackHost(p.Hostname()) {
			return nil, fmt.Errorf("%w: %s is not https", ErrRefused, p.Redacted())
		}
	default:
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrRefused, clip(u))
	}
	return p, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// Response is a fetched response: its status, headers and body (whole,
// within MaxBytes).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req (its URL checked first) and reads the whole response
// within the bounds; a body over MaxBytes is an error.
func (c *Client) Do(req *http.Request) (*Response, error) {
	if _, err := c.CheckURL(req.URL.String()); err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, c.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL.Redacted(), err)
	}
	if int64(len(body)) > c.opts.MaxBytes {
		return nil, fmt.Errorf("fetch %s: the answer is larger than %d bytes", req.URL.Redacted(), c.opts.MaxBytes)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// Get fetches u, sending accept as the Accept header when not empty.
func (c *Client) Get(ctx context.Context, u, accept string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return c.Do(req)
}

// Post sends body with its content type to u.
func (c *Client) Post(ctx context.Context, u, contentType string, body []byte, header ...string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(req)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
