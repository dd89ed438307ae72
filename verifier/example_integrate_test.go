package verifier_test

// The examples of docs/integrators.md, the guide for embedding the verifier
// in a case-management system. Each Example's body is the integrator's code
// as the guide shows it, and uses only the verifier's public API; the
// helpers in example_integrate_helpers_test.go play the issuing
// organisation and the consortium. go test checks every Output.

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/verifier"
)

// The guide's trust list from a plain JSON file: one organisation's own
// list, which it keeps itself (AllowUnsigned).
func ExampleParseTrustList() {
	org := newExampleIssuer()
	defer org.Close()
	data := org.trustListFile() // os.ReadFile("trust.json")

	trust, err := verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		fmt.Println("bad trust list:", err)
		return
	}
	for _, iss := range trust.Issuers {
		fmt.Println(iss.Name, iss.Identifier(), iss.Types)
	}

	// Without AllowUnsigned, a plain file is refused:
	_, err = verifier.ParseTrustList(data, verifier.TrustListOptions{})
	fmt.Println(err)
	// Output:
	// Organisation A did:web:org-a.example [RegistrationCredential EligibilityCredential ReferralCredential ShelterAllocation]
	// trust list: it is not signed, and this verifier accepts only signed trust lists
}

// The guide's signed trust list: checked against the consortium's anchor
// key, and against the state kept between runs, so that an older list
// cannot be played back.
func ExampleTrustListState() {
	org := newExampleIssuer()
	defer org.Close()
	anchor := exampleAnchor() // the consortium's public key, shipped with the application
	monday := exampleSignedList(org, exampleNow.Add(-72*time.Hour))
	tuesday := exampleSignedList(org, exampleNow.Add(-48*time.Hour))
	forged := exampleSignedListBy(org, exampleKey("not the consortium", "did:web:evil.example"), exampleNow)

	state := verifier.NewTrustListState() // or verifier.ParseTrustListState(stateFile)
	opts := verifier.TrustListOptions{
		Anchors: []crypto.PublicKey{anchor},
		Seen:    state,
		Now:     func() time.Time { return exampleNow }, // leave nil in production: time.Now
	}
	trust, err := verifier.ParseTrustList(tuesday, opts)
	if err != nil {
		fmt.Println("bad trust list:", err)
		return
	}
	state.Accept(trust)         // record it, then write the state back:
	saved, _ := state.Marshal() // os.WriteFile("trust-state.json", saved, 0o600)
	fmt.Println("accepted the list issued", trust.Issued.Format(time.DateOnly))

	// After a restart, Monday's list is refused:
	state, _ = verifier.ParseTrustListState(saved)
	opts.Seen = state
	_, err = verifier.ParseTrustList(monday, opts)
	fmt.Println(errors.Is(err, verifier.ErrOlderTrustList))

	// A list signed by another key is refused, whatever it says:
	_, err = verifier.ParseTrustList(forged, opts)
	fmt.Println(err)
	// Output:
	// accepted the list issued 2026-11-24
	// true
	// trust list: the signature is not by any of the trust anchors given
}

// The guide's reload: a new trust list makes a new Verifier, swapped in
// for the next requests. A Verifier's trust list is not changed once it is
// in use.
func ExampleNew() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	anchor := exampleAnchor()
	firstList := exampleSignedList(org, exampleNow.Add(-48*time.Hour))
	newLists := [][]byte{[]byte("not a list"), exampleSignedList(org, exampleNow.Add(-time.Hour))}
	card := org.card(110)

	build := func(list []byte) (*verifier.Verifier, error) {
		trust, err := verifier.ParseTrustList(list, verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor}})
		if err != nil {
			return nil, err
		}
		return verifier.New(verifier.Options{Trust: trust, Now: func() time.Time { return exampleNow }})
	}

	var current atomic.Pointer[verifier.Verifier] // read by every request handler
	v, err := build(firstList)
	if err != nil {
		fmt.Println("bad trust list:", err)
		return
	}
	current.Store(v)

	for _, newList := range newLists {
		// A new list arrives; a bad one leaves the current verifier in place.
		if v, err := build(newList); err != nil {
			fmt.Println("kept the current list") // and log err
		} else {
			current.Store(v)
		}
	}
	_, err = current.Load().Verify(ctx, card)
	fmt.Println("verified with the new list:", err == nil)
	// Output:
	// kept the current list
	// verified with the new list: true
}

// The guide's QR card: the text a scanner reads from the printed card.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	trust := org.trust()
	scanned := org.card(101) // the scanner's text, "6BF..."

	v, err := verifier.New(verifier.Options{
		Trust: trust,
		Now:   func() time.Time { return exampleNow }, // leave nil in production: time.Now
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := v.Verify(ctx, scanned)
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	reg := res.Credential.Subject.(*credentials.Registration)
	fmt.Println(res.Format, res.Credential.Type, "from", res.IssuerName)
	fmt.Println(reg.RegistrationID, reg.FullName)
	fmt.Println("status checked:", res.Status.Checked, "age", res.Status.Age, "stale:", res.Status.Stale)
	// Output:
	// qr RegistrationCredential from Organisation A
	// KE-DAD-2026-000101 Fatima Hassan Abdi
	// status checked: true age 10m0s stale: false
}

// The guide's VC-JWT: what another system sends over an API, or a wallet
// shows as text. The same call reads it.
func ExampleVerifier_Verify_jwt() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	jwt := org.jwt(102)

	res, err := v.Verify(ctx, jwt)
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	fmt.Println(res.Format, res.Credential.Type, res.Issuer)
	// Output:
	// jwt RegistrationCredential did:web:org-a.example
}

// The guide's phone wallet: an SD-JWT VC presented for this verifier
// (audience) and this request (a fresh nonce), disclosing only what was
// asked.
func ExampleVerifier_VerifyPresentation() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	wallet := exampleKey("fatima's phone", "")

	// Before asking the wallet: a fresh, unguessable nonce per request,
	// kept until the presentation comes back (and then forgotten).
	ask := verifier.Presentation{Audience: "did:web:clinic.example", Nonce: "b7f3e0c94a1d"}
	// ... the wallet is asked, and answers with a presentation:
	presented := org.presentation(103, wallet, []string{"registrationId", "fullName"}, ask.Audience, ask.Nonce)

	res, err := v.VerifyPresentation(ctx, presented, ask)
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	reg := res.Credential.Subject.(*credentials.Registration)
	fmt.Println(res.Format, "disclosed", res.Disclosed)
	fmt.Printf("%s %q born %q\n", reg.RegistrationID, reg.FullName, reg.DateOfBirth)

	// The same presentation replayed for another request:
	_, err = v.VerifyPresentation(ctx, presented, verifier.Presentation{Audience: ask.Audience, Nonce: "another-request"})
	fmt.Println(err)
	// A holder-bound SD-JWT given to Verify, without the wallet's proof:
	_, err = v.Verify(ctx, presented)
	var rejected *verifier.Error
	if errors.As(err, &rejected) {
		fmt.Println(rejected.Reason.Code())
	}
	// Output:
	// sd-jwt disclosed [fullName registrationId]
	// KE-DAD-2026-000103 "Fatima Hassan Abdi" born ""
	// credential rejected: bad presentation: the presentation answers another request (its nonce is not the one asked for): it may be a replay; ask for a new one
	// BAD_PRESENTATION
}

// The guide's Data Integrity credential: the processor is opt-in, so that
// embedders of cards and JWTs do not carry a JSON-LD processor.
func ExampleVerifier_Verify_dataIntegrity() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	trust := org.trust()
	credential := org.dataIntegrity(104)

	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := verifier.New(verifier.Options{
		Trust:   trust,
		Formats: []verifier.FormatParser{di},
		Now:     func() time.Time { return exampleNow }, // leave nil in production: time.Now
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := v.Verify(ctx, credential)
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	fmt.Println(res.Format, res.Credential.Type, "status checked:", res.Status.Checked)

	// Without the processor, the same credential is refused as a format
	// this verifier does not read:
	plain := org.verifier(verifier.Options{})
	_, err = plain.Verify(ctx, credential)
	var rejected *verifier.Error
	if errors.As(err, &rejected) {
		fmt.Println(rejected.Reason)
	}
	// Output:
	// di RegistrationCredential status checked: true
	// unsupported format
}

// The guide's generic view: a credential of a type that is not tally's,
// from an issuer the trust list allows it for.
func ExampleResult_View() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	raw := org.foreignJWT()

	res, err := v.Verify(ctx, raw)
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	fmt.Println("typed credential:", res.Credential != nil)
	view := res.View()
	fmt.Println(view.Types, view.HasType("ShelterAllocation"))
	var claims struct {
		Block string `json:"block"`
		Tent  int    `json:"tent"`
	}
	if err := json.Unmarshal(view.Claims, &claims); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("block", claims.Block, "tent", claims.Tent)
	fmt.Println("not read:", view.Skipped)
	// Output:
	// typed credential: false
	// [VerifiableCredential ShelterAllocation] true
	// block C tent 42
	// not read: [termsOfUse]
}

// The guide's failures: a *verifier.Error whose Reason the integrator
// switches on, with a Detail safe to show and to log.
func ExampleError() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	org.revoke(105)
	inputs := []struct {
		name string
		raw  []byte
	}{
		{"revoked card", org.card(105)},
		{"altered JWT", exampleAlter(org.jwt(106))},
		{"stranger's card", exampleStrangerCard()},
		{"oversized input", make([]byte, verifier.MaxCredentialSize+1)},
		{"plain text", []byte("hello")},
	}

	for _, in := range inputs {
		_, err := v.Verify(ctx, in.raw)
		var rejected *verifier.Error
		if !errors.As(err, &rejected) {
			fmt.Println(in.name, "accepted")
			continue
		}
		switch rejected.Reason {
		case verifier.Revoked, verifier.Suspended:
			fmt.Println(in.name, "-> refer to the help desk:", rejected.Reason.Code())
		case verifier.Expired:
			fmt.Println(in.name, "-> ask the person to renew their registration")
		case verifier.UntrustedIssuer:
			fmt.Println(in.name, "-> not an issuer we work with:", rejected.Detail)
		case verifier.StatusUnavailable:
			fmt.Println(in.name, "-> try again when online:", rejected.Detail)
		default:
			fmt.Println(in.name, "-> not accepted:", rejected.Reason.Code())
		}
	}
	// Output:
	// revoked card -> refer to the help desk: REVOKED
	// altered JWT -> not accepted: BAD_SIGNATURE
	// stranger's card -> not an issuer we work with: the issuer did:web:stranger.example is not in the trust list
	// oversized input -> not accepted: MALFORMED
	// plain text -> not accepted: UNSUPPORTED_FORMAT
}

// The guide's offline device: it fetches nothing, and is handed the status
// lists synced when it was last online.
func ExampleVerifier_LoadStatusList() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	trust := org.trust()
	card := org.card(107)
	synced := org.statusListFiles(exampleNow.Add(-30 * time.Hour))
	olderCopy := org.statusListFiles(exampleNow.Add(-50 * time.Hour))[0]
	now := func() time.Time { return exampleNow }

	v, err := verifier.New(verifier.Options{Trust: trust, Offline: true, Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _ := v.Verify(ctx, card)
	fmt.Println("no lists yet:", res.Status.Checked, res.Warnings)

	// The lists synced at the last connection, signed 30 hours ago:
	for _, body := range synced {
		if err := v.LoadStatusList(body); err != nil {
			fmt.Println("status list refused:", err)
		}
	}
	res, _ = v.Verify(ctx, card)
	fmt.Println("checked:", res.Status.Checked, "age:", res.Status.Age, "stale:", res.Status.Stale)
	fmt.Println(res.Warnings)

	// An older copy never replaces a newer one:
	err = v.LoadStatusList(olderCopy)
	fmt.Println(errors.Is(err, verifier.ErrOlderStatusList))

	// A stricter policy: status older than a day is not good enough.
	strict, err := verifier.New(verifier.Options{Trust: trust, Offline: true, Now: now, MaxStatusAge: 24 * time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, body := range synced {
		_ = strict.LoadStatusList(body)
	}
	_, err = strict.Verify(ctx, card)
	fmt.Println(err)
	// Output:
	// no lists yet: false [status not checked: the revocation list could not be read: no status list has been loaded, and this verifier does not fetch; the suspension list could not be read: no status list has been loaded, and this verifier does not fetch]
	// checked: true age: 30h0m0s stale: true
	// [status not checked since 2026-11-25T03:00:00Z (1 day 6 hours ago)]
	// true
	// credential rejected: status unavailable: the status information is 1 day 6 hours old (signed at 2026-11-25T03:00:00Z), older than the 1 day this verifier allows
}

// The guide's dedup tokens: one per person and domain, derived from the
// seed the credential carries, which the integrator never sees.
func ExampleResult_DedupToken() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	cardText, jwtText := org.card(108), org.jwt(108) // one person's credentials
	wallet := exampleKey("fatima's phone", "")
	presented := org.presentation(108, wallet, []string{"fullName"}, "did:web:clinic.example", "n-1")

	// The domain key file the consortium shares with its members
	// (tally dedup-key new); keep it like a password.
	keyFile := []byte("8f3c1a5e9b2d4f6071829a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f\n")
	domain, err := verifier.ParseDedupKey("dadaab-consortium", keyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	card, _ := v.Verify(ctx, cardText)
	jwt, _ := v.Verify(ctx, jwtText) // the same person's credential in another format
	a, _ := card.DedupToken(domain)
	b, _ := jwt.DedupToken(domain)
	fmt.Println(a, a == b)

	// Another domain's key gives an unrelated token:
	other, _ := verifier.ParseDedupKey("kakuma-clinics", []byte(strings.Repeat("42", 32)))
	c, _ := card.DedupToken(other)
	fmt.Println(c, a == c)

	// A presentation that did not disclose dedupSeed gives no token:
	res, _ := v.VerifyPresentation(ctx, presented, verifier.Presentation{Audience: "did:web:clinic.example", Nonce: "n-1"})
	_, err = res.DedupToken(domain)
	fmt.Println(errors.Is(err, verifier.ErrNoDedupSeed))
	// Output:
	// k4cru4tprpdaztb6vp2wxyett4 true
	// dutuf2q473o3edakc72zqyqajm false
	// true
}

// The guide's clock: Now is the verifier's clock, ClockSkew how far it may
// be off the issuer's.
func ExampleOptions_clock() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	trust := org.trust()

	// A credential valid from 09:00; the service point's tablet says 08:57.
	card := org.cardValidFrom(109, exampleNow)
	tablet := func() time.Time { return exampleNow.Add(-3 * time.Minute) }

	lenient, err := verifier.New(verifier.Options{Trust: trust, Now: tablet}) // DefaultClockSkew, 5 minutes
	if err != nil {
		fmt.Println(err)
		return
	}
	exact, err := verifier.New(verifier.Options{Trust: trust, Now: tablet, ClockSkew: -1}) // none
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = lenient.Verify(ctx, card)
	fmt.Println("default skew:", err)
	_, err = exact.Verify(ctx, card)
	fmt.Println("no skew:", err)
	// Output:
	// default skew: <nil>
	// no skew: credential rejected: not yet valid: the credential is valid only from 2026-11-26T09:00:00Z
}

// The guide's concurrency: one Verifier for the whole process, shared by
// every request handler.
func ExampleVerifier_concurrent() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	v := org.verifier(verifier.Options{})
	cards := make([][]byte, 8)
	for i := range cards {
		cards[i] = org.card(200 + i)
	}

	// Warm the status cache once (or hand it the lists: LoadStatusList),
	// so that the first requests do not all fetch the same lists.
	if _, err := v.Verify(ctx, cards[0]); err != nil {
		fmt.Println(err)
		return
	}
	var wg sync.WaitGroup
	var verified atomic.Int64
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, cards[i%len(cards)]); err == nil {
				verified.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println(verified.Load(), "of 64 verified;", org.fetches(), "status lists fetched in all")
	// Output:
	// 64 of 64 verified; 2 status lists fetched in all
}
