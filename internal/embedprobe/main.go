// Command embedprobe is an integrator's program reduced to what the
// verifier library costs it: it imports package verifier (and credentials)
// only, loads a trust list of 1,000 issuers, and verifies a QR card and a
// VC-JWT. It prints what that took as JSON. The verifier's tests build it
// and run it with GODEBUG=inittrace=1 to add up package initialisation;
// `make bench` prints its figures.
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// report is what the probe prints.
type report struct {
	NewVerifierMicros  float64 `json:"newVerifierMicros"`
	FirstVerifyMicros  float64 `json:"firstVerifyMicros"`
	TrustListIssuers   int     `json:"trustListIssuers"`
	HeapAfterTrustMB   float64 `json:"heapAfterTrustMB"`
	HeapAfterVerifyMB  float64 `json:"heapAfterVerifyMB"`
	VerifiedCard       bool    `json:"verifiedCard"`
	VerifiedJWT        bool    `json:"verifiedJWT"`
	TrustListBuildMsec float64 `json:"trustListBuildMillis"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embedprobe:", err)
		os.Exit(1)
	}
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

func run() error {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	seed := make([]byte, ed25519.SeedSize)
	key, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed), "did:web:dadaab.example.org")
	if err != nil {
		return err
	}
	c := &credentials.Credential{
		Type:      credentials.TypeRegistration,
		ValidFrom: now.Add(-24 * time.Hour),
		Subject:   &credentials.Registration{RegistrationID: "KE-DAD-2026-000123", FullName: "Probe Person", DateOfBirth: "1991-03-14", Gender: "female"},
	}
	if err := credentials.Prepare(c, key.DID, nil); err != nil {
		return err
	}
	card, err := credentials.IssueCard(c, key, now)
	if err != nil {
		return err
	}
	jwt, err := credentials.IssueJWT(c, key, now)
	if err != nil {
		return err
	}

	start := time.Now()
	trust := verifier.NewTrustList("probe")
	for i := range 1000 {
		k := key
		if i > 0 {
			s := make([]byte, ed25519.SeedSize)
			s[0], s[1] = byte(i), byte(i>>8)
			if k, err = credentials.NewKey(ed25519.NewKeyFromSeed(s), fmt.Sprintf("did:web:org%d.example.org", i)); err != nil {
				return err
			}
		}
		iss, err := verifier.NewTrustedIssuer(fmt.Sprintf("Organisation %d", i), credentials.Types(), k)
		if err != nil {
			return err
		}
		if err := trust.Add(iss); err != nil {
			return err
		}
	}
	var r report
	r.TrustListBuildMsec = float64(time.Since(start).Microseconds()) / 1000
	r.TrustListIssuers = 1000
	r.HeapAfterTrustMB = heapMB()

	start = time.Now()
	v, err := verifier.New(verifier.Options{Trust: trust, Now: func() time.Time { return now }, Offline: true})
	if err != nil {
		return err
	}
	r.NewVerifierMicros = float64(time.Since(start).Nanoseconds()) / 1000

	ctx := context.Background()
	start = time.Now()
	_, err = v.Verify(ctx, []byte(card))
	r.FirstVerifyMicros = float64(time.Since(start).Nanoseconds()) / 1000
	r.VerifiedCard = err == nil
	_, err = v.Verify(ctx, []byte(jwt))
	r.VerifiedJWT = err == nil
	r.HeapAfterVerifyMB = heapMB()
	return json.NewEncoder(os.Stdout).Encode(r)
}
