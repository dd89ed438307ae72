package verifier_test

// The examples of docs/integrators.md, the guide for embedding the verifier
// in a case-management system. Each Example's body is the integrator's code
// as the guide shows it, and uses only the verifier's public API; the
// helpers at the end of the file play the issuing organisation (keys,
// credentials, a status list server on a real HTTP listener) and the
// consortium that signs the trust list. go test checks every Output.

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

	// A signed list is refused by a verifier that accepts plain files
	// only, and a plain file by one that does not:
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

	// Kept between runs (a file next to the trust list, or a database row):
	// state, err := verifier.ParseTrustListState(stateFile)
	state := verifier.NewTrustListState()
	opts := verifier.TrustListOptions{
		Anchors: []crypto.PublicKey{anchor},
		Seen:    state,
		Now:     func() time.Time { return exampleNow },
	}
	trust, err := verifier.ParseTrustList(tuesday, opts)
	if err != nil {
		fmt.Println("bad trust list:", err)
		return
	}
	state.Accept(trust)         // record it, then write the state back:
	saved, _ := state.Marshal() // os.WriteFile("trust-state.json", saved, 0o600)
	fmt.Println("accepted the list issued", trust.Issued.Format(time.DateOnly), "with", len(trust.Issuers), "issuer")

	// After a restart, Monday's list (from before an issuer was removed,
	// say) is refused:
	state, _ = verifier.ParseTrustListState(saved)
	opts.Seen = state
	_, err = verifier.ParseTrustList(monday, opts)
	fmt.Println(errors.Is(err, verifier.ErrOlderTrustList))
	// A list signed by another key is refused whatever it says:
	_, err = verifier.ParseTrustList(exampleSignedListBy(org, exampleKey("not the consortium", "did:web:evil.example"), exampleNow), opts)
	fmt.Println(err)
	// Output:
	// accepted the list issued 2026-11-24 with 1 issuer
	// true
	// trust list: the signature is not by any of the trust anchors given
}

// The guide's QR card: the text a scanner reads from the printed card.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	trust, _ := verifier.ParseTrustList(org.trustListFile(), verifier.TrustListOptions{AllowUnsigned: true})
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
	fmt.Println(res.Format, res.Credential.Type, "from", res.IssuerName, "signed with", res.KeyID)
	fmt.Println(reg.RegistrationID, reg.FullName)
	fmt.Println("status checked:", res.Status.Checked, "age", res.Status.Age, "stale:", res.Status.Stale)
	// Output:
	// qr RegistrationCredential from Organisation A signed with did:web:org-a.example#GdWH5C0aubXQL30alJReHkpmzJWGeoiFn5rSl-z1YNw
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

	res, err := v.Verify(ctx, org.jwt(102))
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	fmt.Println(res.Format, res.Credential.Type, res.Issuer)
	fmt.Println("valid until", res.Credential.ValidUntil.Format(time.DateOnly))
	// Output:
	// jwt RegistrationCredential did:web:org-a.example
	// valid until 2027-11-01
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
	trust, _ := verifier.ParseTrustList(org.trustListFile(), verifier.TrustListOptions{AllowUnsigned: true})

	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := verifier.New(verifier.Options{
		Trust:   trust,
		Formats: []verifier.FormatParser{di},
		Now:     func() time.Time { return exampleNow },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := v.Verify(ctx, org.dataIntegrity(104))
	if err != nil {
		fmt.Println("not accepted:", err)
		return
	}
	fmt.Println(res.Format, res.Credential.Type, "status checked:", res.Status.Checked)

	// Without the processor, the same credential is refused as a format
	// this verifier does not read:
	plain := org.verifier(verifier.Options{})
	_, err = plain.Verify(ctx, org.dataIntegrity(104))
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

	res, err := v.Verify(ctx, org.foreignJWT())
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

	inputs := map[string][]byte{
		"1 revoked":          org.card(105),
		"2 altered":          exampleAlter(org.jwt(106)),
		"3 stranger":         exampleStrangerCard(),
		"4 oversized":        make([]byte, verifier.MaxCredentialSize+1),
		"5 not a credential": []byte("hello"),
	}
	for _, name := range []string{"1 revoked", "2 altered", "3 stranger", "4 oversized", "5 not a credential"} {
		_, err := v.Verify(ctx, inputs[name])
		var rejected *verifier.Error
		if !errors.As(err, &rejected) {
			fmt.Println(name, "accepted")
			continue
		}
		switch rejected.Reason {
		case verifier.Revoked, verifier.Suspended:
			fmt.Println(name, "-> refer to the help desk:", rejected.Reason.Code())
		case verifier.Expired:
			fmt.Println(name, "-> ask the person to renew their registration")
		case verifier.UntrustedIssuer:
			fmt.Println(name, "-> not an issuer we work with:", rejected.Detail)
		case verifier.StatusUnavailable:
			fmt.Println(name, "-> try again when online:", rejected.Detail)
		default:
			fmt.Println(name, "-> not accepted:", rejected.Reason.Code())
		}
	}
	// Output:
	// 1 revoked -> refer to the help desk: REVOKED
	// 2 altered -> not accepted: BAD_SIGNATURE
	// 3 stranger -> not an issuer we work with: the issuer did:web:stranger.example is not in the trust list
	// 4 oversized -> not accepted: MALFORMED
	// 5 not a credential -> not accepted: UNSUPPORTED_FORMAT
}

// The guide's offline device: it fetches nothing, and is handed the status
// lists synced when it was last online.
func ExampleVerifier_LoadStatusList() {
	ctx := context.Background()
	org := newExampleIssuer()
	defer org.Close()
	card := org.card(107)

	v := org.verifier(verifier.Options{Offline: true})
	res, _ := v.Verify(ctx, card)
	fmt.Println("no lists yet:", res.Status.Checked, res.Warnings)

	// The lists synced at the last connection, signed 30 hours ago:
	for _, body := range org.statusListFiles(exampleNow.Add(-30 * time.Hour)) {
		if err := v.LoadStatusList(body); err != nil {
			fmt.Println("status list refused:", err)
		}
	}
	res, _ = v.Verify(ctx, card)
	fmt.Println("checked:", res.Status.Checked, "age:", res.Status.Age, "stale:", res.Status.Stale)
	fmt.Println(res.Warnings)

	// An older copy never replaces a newer one:
	err := v.LoadStatusList(org.statusListFiles(exampleNow.Add(-50 * time.Hour))[0])
	fmt.Println(errors.Is(err, verifier.ErrOlderStatusList))

	// A stricter policy: status older than a day is not good enough.
	strict := org.verifier(verifier.Options{Offline: true, MaxStatusAge: 24 * time.Hour})
	for _, body := range org.statusListFiles(exampleNow.Add(-30 * time.Hour)) {
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

	// The domain key file the consortium shares with its members (tally
	// registry makes one); keep it like a password.
	keyFile := []byte("8f3c1a5e9b2d4f6071829a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f\n")
	domain, err := verifier.ParseDedupKey("dadaab-consortium", keyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	other, _ := verifier.ParseDedupKey("kakuma-clinics", []byte(strings.Repeat("42", 32)))

	card, _ := v.Verify(ctx, org.card(108))
	jwt, _ := v.Verify(ctx, org.jwt(108)) // the same person's credential in another format
	a, _ := card.DedupToken(domain)
	b, _ := jwt.DedupToken(domain)
	c, _ := card.DedupToken(other)
	fmt.Println(a, a == b)
	fmt.Println(c, a == c)

	// A wallet that did not disclose the seed gives no token:
	wallet := exampleKey("fatima's phone", "")
	res, _ := v.VerifyPresentation(ctx, org.presentation(108, wallet, []string{"fullName"}, "did:web:clinic.example", "n-1"),
		verifier.Presentation{Audience: "did:web:clinic.example", Nonce: "n-1"})
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
	// A credential valid from 09:00; the service point's tablet says 08:57.
	card := org.cardValidFrom(109, exampleNow)
	tablet := func() time.Time { return exampleNow.Add(-3 * time.Minute) }

	lenient := org.verifier(verifier.Options{Now: tablet}) // DefaultClockSkew, 5 minutes
	_, err := lenient.Verify(ctx, card)
	fmt.Println("default skew:", err)

	exact := org.verifier(verifier.Options{Now: tablet, ClockSkew: -1}) // none
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
	var mu sync.Mutex
	valid := 0
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, cards[i%len(cards)]); err == nil {
				mu.Lock()
				valid++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println(valid, "of 64 verified;", org.fetches(), "status lists fetched in all")
	// Output:
	// 64 of 64 verified; 2 status lists fetched in all
}

// exampleNow is the examples' clock: inside the credentials' validity.
var exampleNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// exampleIssuer plays the issuing organisation: its key, and its
// revocation and suspension lists (number 1) served on a real HTTP
// listener, signed 10 minutes before exampleNow and cacheable for an hour.
type exampleIssuer struct {
	key  *credentials.Key
	srv  *httptest.Server
	base string

	mu    sync.Mutex
	lists map[string]*credentials.StatusList
	hits  int
}

func newExampleIssuer() *exampleIssuer {
	org := &exampleIssuer{key: exampleKey("example org-a", "did:web:org-a.example"), lists: map[string]*credentials.StatusList{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{kind}/{n}", org.serveList)
	org.srv = httptest.NewServer(mux)
	org.base = org.srv.URL + "/status"
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		l, err := credentials.NewStatusList(org.base+"/"+credentials.StatusListPath(p, 1), org.key.DID, p, credentials.MinStatusListSize)
		if err != nil {
			panic(err)
		}
		org.lists[p] = l
	}
	return org
}

func (org *exampleIssuer) Close() { org.srv.Close() }

func (org *exampleIssuer) serveList(w http.ResponseWriter, r *http.Request) {
	org.mu.Lock()
	defer org.mu.Unlock()
	org.hits++
	if r.PathValue("n") != "1" {
		http.NotFound(w, r)
		return
	}
	at := exampleNow.Add(-10 * time.Minute)
	var body []byte
	var err error
	switch kind := r.PathValue("kind"); kind {
	case "token":
		var l *credentials.TokenStatusList
		if l, err = credentials.TokenStatusListOf(org.base+"/token/1", org.lists[credentials.PurposeRevocation], org.lists[credentials.PurposeSuspension]); err == nil {
			body, err = credentials.IssueTokenStatusList(l, org.key, at)
		}
	case credentials.PurposeRevocation, credentials.PurposeSuspension:
		body, err = credentials.IssueStatusList(org.lists[kind], org.key, at)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(body)
}

func (org *exampleIssuer) fetches() int {
	org.mu.Lock()
	defer org.mu.Unlock()
	return org.hits
}

// revoke sets the revocation bit of the credential at index.
func (org *exampleIssuer) revoke(index int) {
	org.mu.Lock()
	defer org.mu.Unlock()
	if err := org.lists[credentials.PurposeRevocation].Set(index, true); err != nil {
		panic(err)
	}
}

// statusListFiles are the issuer's lists signed at, as an offline device
// gets them: revocation first.
func (org *exampleIssuer) statusListFiles(at time.Time) [][]byte {
	org.mu.Lock()
	defer org.mu.Unlock()
	var out [][]byte
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		body, err := credentials.IssueStatusList(org.lists[p], org.key, at)
		if err != nil {
			panic(err)
		}
		out = append(out, body)
	}
	return out
}

// trustListFile is a plain trust list naming the issuer for tally's types,
// with its status base.
func (org *exampleIssuer) trustListFile() []byte {
	out, err := org.trustList().Marshal()
	if err != nil {
		panic(err)
	}
	return out
}

func (org *exampleIssuer) trustList() *verifier.TrustList {
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), org.key)
	if err != nil {
		panic(err)
	}
	iss.StatusBase = org.base
	// Another issuer's credentials of a type that is not tally's.
	iss.Types = append(iss.Types, "ShelterAllocation")
	list := verifier.NewTrustList("Dadaab service points")
	if err := list.Add(iss); err != nil {
		panic(err)
	}
	return list
}

// verifier is a verifier with the issuer's trust list, on exampleNow
// unless opts says otherwise.
func (org *exampleIssuer) verifier(opts verifier.Options) *verifier.Verifier {
	opts.Trust = org.trustList()
	if opts.Now == nil {
		opts.Now = func() time.Time { return exampleNow }
	}
	v, err := verifier.New(opts)
	if err != nil {
		panic(err)
	}
	return v
}

// credential is a registration at status index, for person number index.
func (org *exampleIssuer) credential(index int, validFrom time.Time) *credentials.Credential {
	c := &credentials.Credential{
		Type:       credentials.TypeRegistration,
		ValidFrom:  validFrom,
		ValidUntil: time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC),
		Subject: &credentials.Registration{
			RegistrationID: fmt.Sprintf("KE-DAD-2026-%06d", index),
			FullName:       "Fatima Hassan Abdi",
			DateOfBirth:    "1991-03-14",
			Gender:         "female",
		},
		Status: credentials.StatusEntries(org.base, 1, index),
	}
	seed := sha256.Sum256(fmt.Appendf(nil, "person %d", index))
	credentials.SetSubjectSeed(c.Subject, credentials.Seed(seed[:credentials.SeedSize]))
	if err := credentials.Prepare(c, org.key.DID, nil); err != nil {
		panic(err)
	}
	return c
}

var exampleIssued = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func (org *exampleIssuer) card(index int) []byte { return org.cardValidFrom(index, exampleIssued) }

func (org *exampleIssuer) cardValidFrom(index int, validFrom time.Time) []byte {
	card, err := credentials.IssueCard(org.credential(index, validFrom), org.key, exampleIssued)
	if err != nil {
		panic(err)
	}
	return []byte(card)
}

func (org *exampleIssuer) jwt(index int) []byte {
	jwt, err := credentials.IssueJWT(org.credential(index, exampleIssued), org.key, exampleIssued)
	if err != nil {
		panic(err)
	}
	return []byte(jwt)
}

// presentation is what the holder's wallet sends: an SD-JWT VC bound to
// wallet, issued to it, presented with the claims named in disclose.
func (org *exampleIssuer) presentation(index int, wallet *credentials.Key, disclose []string, aud, nonce string) []byte {
	sd, err := credentials.IssueSDJWT(org.credential(index, exampleIssued), org.key, exampleIssued,
		credentials.SDJWTOptions{Holder: wallet.Public})
	if err != nil {
		panic(err)
	}
	p, err := credentials.PresentSDJWT(sd, disclose, wallet.Signer, aud, nonce, exampleNow)
	if err != nil {
		panic(err)
	}
	return []byte(p)
}

func (org *exampleIssuer) dataIntegrity(index int) []byte {
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		panic(err)
	}
	out, err := di.Issue(org.credential(index, exampleIssued), org.key, exampleIssued)
	if err != nil {
		panic(err)
	}
	return out
}

// foreignJWT is a VC-JWT of a type that is not tally's.
func (org *exampleIssuer) foreignJWT() []byte {
	doc, err := json.Marshal(map[string]any{
		"@context":          []any{credentials.BaseContext, "https://shelter.example/ns/v1"},
		"type":              []any{"VerifiableCredential", "ShelterAllocation"},
		"issuer":            org.key.DID,
		"validFrom":         "2026-11-01T00:00:00Z",
		"credentialSubject": map[string]any{"block": "C", "tent": 42},
		"termsOfUse":        map[string]any{"type": "ExamplePolicy"},
	})
	if err != nil {
		panic(err)
	}
	jwt, err := credentials.IssueJWTDocument(doc, org.key)
	if err != nil {
		panic(err)
	}
	return []byte(jwt)
}

// exampleAlter changes one character of a JWT's signature.
func exampleAlter(jwt []byte) []byte {
	out := append([]byte(nil), jwt...)
	i := len(out) - 5
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

// exampleStrangerCard is a card of an issuer no trust list names.
func exampleStrangerCard() []byte {
	stranger := &exampleIssuer{key: exampleKey("stranger", "did:web:stranger.example"), base: "https://stranger.example/status"}
	return stranger.card(1)
}

// exampleKey derives a deterministic key from a label.
func exampleKey(label, did string) *credentials.Key {
	seed := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
	if err != nil {
		panic(err)
	}
	return k
}

// exampleAnchorKey is the consortium's trust anchor.
var exampleAnchorKey = exampleKey("example consortium anchor", "did:web:consortium.example")

func exampleAnchor() crypto.PublicKey { return exampleAnchorKey.Public }

// exampleSignedList is the consortium's list naming org, signed at.
func exampleSignedList(org *exampleIssuer, at time.Time) []byte {
	return exampleSignedListBy(org, exampleAnchorKey, at)
}

func exampleSignedListBy(org *exampleIssuer, anchor *credentials.Key, at time.Time) []byte {
	signed, err := verifier.SignTrustList(org.trustList(), anchor, at, 30*24*time.Hour)
	if err != nil {
		panic(err)
	}
	return signed
}
