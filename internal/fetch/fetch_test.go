package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tally-id/tally/internal/fetch"
)

func TestBounds(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 2048))
		case "/redirect":
			http.Redirect(w, r, "/small", http.StatusFound)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer ts.Close()
	ctx := context.Background()
	// Loopback is refused by default, by URL and by address.
	if _, err := fetch.New(fetch.Options{}).Get(ctx, ts.URL+"/small", ""); !errors.Is(err, fetch.ErrRefused) {
		t.Fatalf("loopback over http by default: %v", err)
	}
	c := fetch.New(fetch.Options{AllowLoopback: true, MaxBytes: 1024})
	res, err := c.Get(ctx, ts.URL+"/small", "")
	if err != nil || string(res.Body) != "ok" {
		t.Fatalf("small: %v", err)
	}
	if _, err := c.Get(ctx, ts.URL+"/big", ""); err == nil {
		t.Fatal("a body over MaxBytes was read")
	}
	if _, err := c.Get(ctx, ts.URL+"/redirect", ""); err == nil {
		t.Fatal("a redirect was followed")
	}
	for _, u := range []string{"ftp://example.org/x", "http://example.org/x", "https://user:pw@example.org/", "/relative", "https://" + strings.Repeat("a", 3000)} {
		if _, err := c.CheckURL(u); !errors.Is(err, fetch.ErrRefused) {
			t.Errorf("CheckURL(%.40q) = %v", u, err)
		}
	}
	// An https URL whose host is a private address is refused at dial.
	for _, host := range []string{"10.0.0.1", "169.254.169.254", "192.168.1.1", "[fd00::1]", "100.64.0.1", "0.0.0.0"} {
		if _, err := fetch.New(fetch.Options{}).Get(ctx, "https://"+host+"/", ""); !errors.Is(err, fetch.ErrRefused) {
			t.Errorf("%s: %v", host, err)
		}
	}
}
