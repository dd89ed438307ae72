package verifier

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StatusFetcher fetches a status list by URL: a Bitstring Status List
// credential (mediaType application/vc+jwt) or an IETF Status List Token
// (application/statuslist+jwt). It returns the body and how long it may be
// cached (0: the verifier decides).
type StatusFetcher interface {
	FetchStatusList(ctx context.Context, url, mediaType string) (body []byte, maxAge time.Duration, err error)
}

// HTTPStatusFetcher fetches status lists with an HTTP GET.
type HTTPStatusFetcher struct {
	// Client is the HTTP client; a client with a 10 s timeout if nil.
	Client *http.Client
}

// maxStatusBody bounds a status list response.
const maxStatusBody = 4 << 20

// FetchStatusList implements StatusFetcher: a GET of url that accepts
// mediaType. The max-age of the response's Cache-Control header, if any, is
// the cache lifetime.
func (f HTTPStatusFetcher) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
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
	req.Header.Set("Accept", mediaType)
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
