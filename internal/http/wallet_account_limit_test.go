package http

import (
	"errors"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer"
)

// TestDoorLimiter: a client gets PerClient attempts a window, then waits
// for the window's end; other clients are counted apart; a full table
// drops ended windows, then the oldest.
func TestDoorLimiter(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	l := newDoorLimiter(doorLimits{PerClient: 3, Window: 10 * time.Minute, MaxEntries: 2}, func() time.Time { return now })
	for range 3 {
		if err := l.take("10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	err := l.take("10.0.0.1")
	var tm *issuer.TooManyAttemptsError
	if !errors.As(err, &tm) || tm.RetryAfter != 10*time.Minute {
		t.Fatalf("fourth attempt: %v", err)
	}
	if err := l.take("10.0.0.2"); err != nil {
		t.Fatalf("another client: %v", err)
	}
	now = now.Add(4 * time.Minute)
	if err := l.take("10.0.0.1"); !errors.As(err, &tm) || tm.RetryAfter != 6*time.Minute {
		t.Fatalf("later in the window: %v", err)
	}
	// The table is full: the oldest window (10.0.0.1's) goes.
	if err := l.take("10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	if len(l.counts) != 2 {
		t.Fatalf("%d entries, want at most 2", len(l.counts))
	}
	now = now.Add(10 * time.Minute)
	for range 3 {
		if err := l.take("10.0.0.2"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	}
}
