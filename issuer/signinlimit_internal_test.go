package issuer

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestSignInLimiterBounded: however many user names and clients fail,
// each table keeps at most MaxEntries, and a user name longer than any
// valid one is cut.
func TestSignInLimiterBounded(t *testing.T) {
	l := newSignInLimiter(SignInLimits{MaxEntries: 50})
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5000 {
		l.fail(fmt.Sprintf("user-%d-%s", i, strings.Repeat("x", 1000)), fmt.Sprintf("10.0.%d.%d", i/256, i%256), now.Add(time.Duration(i)*time.Millisecond))
		l.succeed(fmt.Sprintf("known-%d", i), "10.9.9.9", now)
	}
	if len(l.pairs) > 50 || len(l.users) > 50 || len(l.client) > 50 || len(l.known) > 50 {
		t.Fatalf("tables of %d, %d, %d, %d entries, want at most 50", len(l.pairs), len(l.users), len(l.client), len(l.known))
	}
	for k := range l.users {
		if len(k) > maxKeyLen {
			t.Fatalf("a key of %d bytes", len(k))
		}
	}
}

// TestSignInLimiterFloodKeepsTarget: when a table is full, a flood of
// one-off failures under new user names from new clients does not push
// out the count of the user name under attack: the guesses counted
// against it still lock it. Before, the oldest entry went first, and the
// target's count was the oldest.
func TestSignInLimiterFloodKeepsTarget(t *testing.T) {
	l := newSignInLimiter(SignInLimits{MaxEntries: 50})
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for range 4 {
		if l.begin("amina", "203.0.113.9", now) != 0 {
			t.Fatal("refused too early")
		}
	}
	for i := range 500 {
		at := now.Add(time.Duration(i+1) * time.Millisecond)
		l.begin(fmt.Sprintf("spray-%d", i), fmt.Sprintf("198.51.%d.%d", i/256, i%256), at)
	}
	at := now.Add(time.Second)
	if l.begin("amina", "203.0.113.9", at) != 0 {
		t.Fatal("the fifth guess was refused")
	}
	if l.begin("amina", "203.0.113.9", at) == 0 {
		t.Fatal("a sixth guess went ahead: the flood pushed the count out")
	}
}

// FuzzCheckNewPassword: the password rules answer any input quickly,
// without panicking, and never accept a password shorter than the least
// length or holding the user name.
func FuzzCheckNewPassword(f *testing.F) {
	for _, s := range []string{"", "short", "correct horse battery staple", "password1234", "hodan hodan hodan",
		strings.Repeat("ab1", 90), "\xff\xfe invalid utf-8 bytes", "كلمة مرور طويلة جدا للتجربة", "Pässwörd-Ümläut-2026"} {
		f.Add(s, "hodan")
	}
	f.Fuzz(func(t *testing.T, password, username string) {
		st := Staff{Username: NormaliseUsername(username), Name: "Hodan Warsame"}
		start := time.Now()
		var p problems
		checkNewPassword(&p, "new", password, st)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d bytes took %s", len(password), d)
		}
		if len(p) == 0 {
			if utf8.RuneCountInString(password) < MinPasswordLength || len(password) > MaxPasswordLength {
				t.Fatalf("accepted %q", password)
			}
			if st.Username != "" && strings.Contains(strings.ToLower(password), st.Username) {
				t.Fatalf("accepted %q with the user name %q", password, st.Username)
			}
		}
	})
}
