package verifier_test

// The helpers of the examples in example_integrate_test.go: they play the
// issuing organisation (its key, its credentials in every format, its
// status lists served on a real HTTP listener) and the consortium that
// signs the trust list, so that the examples' bodies hold only an
// integrator's code.

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/verifier"
)

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

// trust is the issuer's plain trust list, parsed as an integrator does.
func (org *exampleIssuer) trust() *verifier.TrustList {
	trust, err := verifier.ParseTrustList(org.trustListFile(), verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		panic(err)
	}
	return trust
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

// Every Go block of docs/integrators.md is taken from the example named
// under it (*ExampleName*): its lines, in their order, are lines of that
// example's body. A snippet edited in the guide and not in the example, or
// the reverse, fails here, so that the guide shows only code go test runs.
func TestIntegratorsGuideSnippets(t *testing.T) {
	guide, err := os.ReadFile("../docs/integrators.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_integrate_test.go")
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]string{}
	for _, fn := range strings.Split(string(src), "\nfunc ")[1:] {
		name, _, _ := strings.Cut(fn, "(")
		body, _, _ := strings.Cut(fn, "\n}\n")
		bodies[name] = trimmedLines(body)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```\n\\*(Example\\w*)\\*").FindAllStringSubmatch(string(guide), -1)
	if want := strings.Count(string(guide), "```go"); len(blocks) != want || want == 0 {
		t.Fatalf("%d Go blocks in the guide, %d of them named by an example under them", want, len(blocks))
	}
	for _, b := range blocks {
		body, ok := bodies[b[2]]
		if !ok {
			t.Errorf("the guide names %s, which example_integrate_test.go does not have", b[2])
			continue
		}
		at := 0
		for _, line := range trimmedLines(b[1]) {
			for at < len(body) && body[at] != line {
				at++
			}
			if at == len(body) {
				t.Errorf("%s: the guide's line %q is not in the example (in this order)", b[2], line)
				break
			}
			at++
		}
	}
}

func trimmedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
