package issuer

import (
	"crypto/sha256"
	"testing"
	"time"
)

// TestSignedListsKeyChangedWhileSigning: a status list signed while the
// organisation's key was declared compromised (its lists forgotten) is not
// kept nor answered: it is signed again, with the key current then, and
// that one is kept. Before, the list signed by the compromised key was put
// in the cache after the forget, and served until half its lifetime.
func TestSignedListsKeyChangedWhileSigning(t *testing.T) {
	var c signedLists
	k := listKey{"demo", ListRevocation, 0}
	digest := sha256.Sum256([]byte("bits"))
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	calls := 0
	out, err := c.sign("demo", k, digest, now, func() (SignedList, error) {
		calls++
		if calls == 1 {
			// The key is declared compromised while this list is signed.
			c.forget("demo")
			return SignedList{Body: []byte("by the compromised key")}, nil
		}
		return SignedList{Body: []byte("by the new key")}, nil
	})
	if err != nil || string(out.Body) != "by the new key" || calls != 2 {
		t.Fatalf("%q %v after %d signatures", out.Body, err, calls)
	}
	if l, ok := c.get(k, digest, now); !ok || string(l.Body) != "by the new key" {
		t.Fatalf("kept: %q %v", l.Body, ok)
	}
	// Another organisation's forget changes nothing here.
	c.forget("other")
	if _, ok := c.get(k, digest, now); !ok {
		t.Fatal("another organisation's key change dropped this list")
	}
	// Forgotten again while the retry signs: the answer is the retry's,
	// and nothing is kept.
	c.forget("demo")
	calls = 0
	out, _ = c.sign("demo", k, digest, now, func() (SignedList, error) {
		calls++
		c.forget("demo")
		return SignedList{Body: []byte{byte('0' + calls)}}, nil
	})
	if string(out.Body) != "2" {
		t.Fatalf("answer %q", out.Body)
	}
	if _, ok := c.get(k, digest, now); ok {
		t.Fatal("a list signed while the key changed was kept")
	}
}
