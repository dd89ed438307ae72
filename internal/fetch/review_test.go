package fetch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/fetch"
)

// TestNonPublicIPv6 (review of issue 8): addresses that reach private
// IPv4 networks or non-global IPv6 ones through a translation or an old
// prefix are refused at dial like the private ones: IPv4-mapped,
// NAT64's local-use prefix (RFC 8215, which a network may map to its
// private IPv4 addresses), site-local (deprecated, still routed in some
// networks), IPv4-compatible.
func TestNonPublicIPv6(t *testing.T) {
	c := fetch.New(fetch.Options{Timeout: 2 * time.Second})
	for _, host := range []string{"[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[64:ff9b:1::a00:1]", "[64:ff9b::a00:1]", "[fec0::1]", "[::a00:1]", "[::7f00:1]"} {
		if _, err := c.Get(context.Background(), "https://"+host+"/", ""); !errors.Is(err, fetch.ErrRefused) {
			t.Errorf("%s: %v", host, err)
		}
	}
}
