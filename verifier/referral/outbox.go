package referral

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tally-id/tally/credentials"
)

// Delivery is one feedback waiting in the outbox.
type Delivery struct {
	// ID is the feedback's id (jti).
	ID string `json:"id"`
	// Org is the sending organisation's slug.
	Org      string    `json:"org"`
	Feedback Feedback  `json:"feedback"`
	Created  time.Time `json:"created"`
	Attempts int       `json:"attempts"`
	// NextAt is when to try next; Problem why the last attempt failed, in
	// words with nothing personal ("the server answered 503").
	NextAt  time.Time `json:"nextAt"`
	Problem string    `json:"problem,omitempty"`
}

// OutboxStore keeps the feedback to deliver. It survives restarts.
type OutboxStore interface {
	// Pending lists the deliveries not done, soonest NextAt first.
	Pending(ctx context.Context) ([]Delivery, error)
	// Retry stores a failed attempt's Attempts, NextAt and Problem.
	Retry(ctx context.Context, d Delivery) error
	// Delivered removes d from the outbox and marks its change of the
	// received referral delivered at at, in one transaction.
	Delivered(ctx context.Context, d Delivery, at time.Time) error
}

// maxResponse is how much of a feedback endpoint's answer is read.
const maxResponse = 4096

// DeliverDue tries every delivery due now, once. It returns how many
// were delivered, and when the next pending one is due (zero if none).
func (s *Service) DeliverDue(ctx context.Context) (int, time.Time, error) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	pending, err := s.opts.Outbox.Pending(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	done := 0
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, d := range pending {
		if ctx.Err() != nil {
			return done, next, ctx.Err()
		}
		now := s.now()
		if d.NextAt.After(now) {
			later(d.NextAt)
			continue
		}
		problem := s.deliver(ctx, d)
		if problem == "" {
			if err := s.opts.Outbox.Delivered(ctx, d, s.now().UTC()); err != nil {
				return done, next, err
			}
			done++
			continue
		}
		d.Attempts++
		d.Problem = problem
		d.NextAt = s.now().Add(s.backoff(d.Attempts)).UTC()
		s.opts.Logger.WarnContext(ctx, "referral feedback not delivered", "feedback", d.ID, "attempts", d.Attempts, "problem", problem)
		if err := s.opts.Outbox.Retry(ctx, d); err != nil {
			return done, next, err
		}
		later(d.NextAt)
	}
	return done, next, nil
}

// backoff is the wait after the n-th failed attempt: MinRetry doubled
// n-1 times, at most MaxRetry.
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.MinRetry
	for i := 1; i < n && d < s.opts.MaxRetry; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxRetry)
}

// deliver signs and posts one feedback; it returns "" when the
// referring organisation accepted it (2xx), or why not.
func (s *Service) deliver(ctx context.Context, d Delivery) string {
	key, err := s.opts.Signer(ctx, d.Org)
	if err != nil {
		return "the organisation's signing key could not be opened"
	}
	token, err := SignFeedback(&d.Feedback, key)
	if err != nil {
		return "the feedback could not be signed: " + err.Error()
	}
	doc, err := s.opts.Resolve(ctx, d.Feedback.Audience)
	if err != nil {
		return "the referring organisation's DID document could not be read: " + err.Error()
	}
	endpoint, ok := doc.ServiceEndpoint(credentials.ServiceReferralFeedback)
	if !ok {
		return "the referring organisation publishes no " + credentials.ServiceReferralFeedback + " service"
	}
	if err := s.checkURL(endpoint); err != nil {
		return "the feedback endpoint is refused: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader([]byte(token)))
	if err != nil {
		return "the feedback endpoint is not a URL"
	}
	req.Header.Set("Content-Type", FeedbackMediaType)
	res, err := s.opts.Client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return "the feedback endpoint did not answer in time"
		}
		return "the feedback endpoint could not be reached"
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Sprintf("the feedback endpoint answered %d", res.StatusCode)
	}
	return ""
}

// FeedbackMediaType is the Content-Type of a feedback POST (RFC 7519).
const FeedbackMediaType = "application/jwt"

// Kick wakes Run to deliver what was just queued.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run delivers the outbox until ctx ends: what is pending at start first
// (a restart resumes delivery), then whatever is queued or due.
func (s *Service) Run(ctx context.Context) {
	if s.opts.Outbox == nil {
		return
	}
	for {
		_, next, err := s.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.ErrorContext(ctx, "referral outbox", "error", err.Error())
		}
		wait := s.opts.MaxRetry
		if err != nil {
			wait = s.opts.MinRetry
		} else if !next.IsZero() {
			wait = max(next.Sub(s.now()), 10*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}
