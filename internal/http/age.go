package http

import "time"

// ago says how long before now t was, in words, in the page's language:
// "just now", "1 minute ago", "3 hours ago", "4 days ago". Every page
// that shows an age says it with this one function; "" for a zero time.
func ago(m *Messages, now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return m.Get("ago_now")
	case d < 2*time.Minute:
		return m.Get("ago_minute")
	case d < time.Hour:
		return m.Get("ago_minutes", int(d/time.Minute))
	case d < 2*time.Hour:
		return m.Get("ago_hour")
	case d < 48*time.Hour:
		return m.Get("ago_hours", int(d/time.Hour))
	}
	return m.Get("ago_days", int(d/(24*time.Hour)))
}
