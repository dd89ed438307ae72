package issuer

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// LocalStatusList reads one of this instance's own status lists
// in-process, as BASEURL/status/ORG/KIND/N would serve it, so that the
// verifier of a single instance needs no network for its own
// organisations' cards. ok is false for a URL that is not below this
// instance's status base (then nothing is read).
func (s *Service) LocalStatusList(ctx context.Context, url, _ string) (body []byte, maxAge time.Duration, ok bool, err error) {
	if s.baseURL == "" {
		return nil, 0, false, nil
	}
	rest, found := strings.CutPrefix(url, s.baseURL+"/status/")
	if !found {
		return nil, 0, false, nil
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return nil, 0, true, errors.New("no such status list on this instance")
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || strconv.Itoa(n) != parts[2] {
		return nil, 0, true, errors.New("no such status list on this instance")
	}
	l, err := s.StatusList(ctx, parts[0], StatusListKind(parts[1]), n)
	if err != nil {
		return nil, 0, true, err
	}
	return l.Body, l.TTL, true, nil
}
