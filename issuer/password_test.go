package issuer

import (
	"crypto/rand"
	"strings"
	"testing"
)

var cheap = PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}

func TestPasswordHash(t *testing.T) {
	hash, err := hashPassword("correct horse battery", cheap, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", hash)
	}
	tests := []struct {
		name     string
		password string
		hash     string
		want     bool
		wantErr  bool
	}{
		{"right", "correct horse battery", hash, true, false},
		{"wrong", "correct horse batterz", hash, false, false},
		{"empty", "", hash, false, false},
		{"not argon2id", "x", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false, true},
		{"memory too large", "x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false, true},
		{"too many passes", "x", "$argon2id$v=19$m=1024,t=99,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false, true},
		{"garbage", "x", "plain", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := checkPassword(tc.password, tc.hash)
			if ok != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("checkPassword = %v, %v; want %v, error %v", ok, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p, err := newPassword(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 24 || strings.Count(p, "-") != 4 || len(p)-4 < MinPasswordLength || seen[p] {
			t.Fatalf("password %q", p)
		}
		seen[p] = true
	}
}
