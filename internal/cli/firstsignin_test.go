package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// chosenPassword is the password a test staff member chooses in place of
// their one-time password.
func chosenPassword(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "harbour quill saffron " + hex.EncodeToString(sum[:4])
}

// signInFirst signs in with a one-time password, which leads to
// /account/password first, and chooses chosenPassword there. It returns
// where the browser is sent then.
func (b *browser) signInFirst(username, oneTime string) string {
	b.t.Helper()
	code, h, _ := b.postForm("/signin", "username", username, "password", oneTime)
	if code != 303 || !strings.HasPrefix(h.Get("Location"), "/account/password?next=") {
		b.t.Fatalf("%s signs in with a one-time password: %d to %q, want the password page", username, code, h.Get("Location"))
	}
	if code, h, _ = b.send("GET", "/issuer/", "", ""); code != 303 || !strings.HasPrefix(h.Get("Location"), "/account/password") {
		b.t.Fatalf("%s goes elsewhere before choosing a password: %d to %q", username, code, h.Get("Location"))
	}
	code, h, page := b.postForm("/account/password", "current", oneTime, "new", chosenPassword(username), "next", "/issuer/")
	if code != 303 {
		b.t.Fatalf("%s chooses a password: %d %.300s", username, code, page)
	}
	return h.Get("Location")
}
