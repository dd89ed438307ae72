package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
)

// ResolverOptions configure NewResolver.
type ResolverOptions struct {
	// Local returns the DID document of an organisation of this instance,
	// in-process, or an error wrapping ErrNotFound for any other DID.
	Local func(ctx context.Context, did string) (*credentials.DIDDocument, error)
	// Client fetches did:web documents; if nil, one with Timeout that
	// follows no redirect.
	Client *http.Client
	// MaxBytes bounds a document (64 KiB); Timeout a fetch (5 s).
	MaxBytes int64
	Timeout  time.Duration
	// InsecureLoopback fetches did:web documents of loopback hosts over
	// plain http, and lets feedback go to http://loopback endpoints: for
	// tests only.
	InsecureLoopback bool
}

// NewResolver returns a DID resolver for Options.Resolve: local
// organisations in-process, did:web over https (bounded in size and time),
// nothing else (a did:key publishes no service).
func NewResolver(o ResolverOptions) func(ctx context.Context, did string) (*credentials.DIDDocument, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout, CheckRedirect: noRedirects}
	}
	return func(ctx context.Context, did string) (*credentials.DIDDocument, error) {
		if o.Local != nil {
			doc, err := o.Local(ctx, did)
			if err == nil {
				return doc, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
		u, err := credentials.DIDWebURL(did)
		if err != nil {
			return nil, fmt.Errorf("only did:web DIDs publish a feedback service")
		}
		if o.InsecureLoopback {
			if pu, err := url.Parse(u); err == nil && isLoopback(pu.Hostname()) {
				u = "http://" + strings.TrimPrefix(u, "https://")
			}
		}
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/did+json, application/json")
		res, err := o.Client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: the server could not be reached", u)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch %s: the server answered %d", u, res.StatusCode)
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, o.MaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", u, err)
		}
		if int64(len(data)) > o.MaxBytes {
			return nil, fmt.Errorf("fetch %s: the DID document is larger than %d bytes", u, o.MaxBytes)
		}
		var doc credentials.DIDDocument
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("fetch %s: the DID document is not JSON", u)
		}
		if doc.ID != did {
			return nil, fmt.Errorf("fetch %s: the DID document is of another DID", u)
		}
		return &doc, nil
	}
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkURL allows a feedback endpoint: https, or http to a loopback host
// when the service allows it (tests), with no user info.
func (s *Service) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return errors.New("not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && s.opts.InsecureLoopback && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("the endpoint must be https")
}
