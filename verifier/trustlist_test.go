package verifier_test

import (
	"context"
	"crypto"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func TestSignedTrustList(t *testing.T) {
	f := newFixture(t)
	anchor := testKey(t, "consortium", "")
	other := testKey(t, "other-anchor", "")
	signed, err := verifier.SignTrustList(f.trust, anchor, testNow, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	list, err := verifier.ParseTrustList(signed, verifier.TrustListOptions{Anchors: []crypto.PublicKey{other.Public, anchor.Public}, Now: clockNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := list.Issuer(f.key.DID); !ok {
		t.Fatal("the signed list lost its issuer")
	}

	if _, err := verifier.ParseTrustList(signed, verifier.TrustListOptions{Anchors: []crypto.PublicKey{other.Public}, Now: clockNow}); err == nil || !strings.Contains(err.Error(), "not by any of the trust anchors") {
		t.Fatalf("a list signed by another anchor: %v", err)
	}
	if _, err := verifier.ParseTrustList(signed, verifier.TrustListOptions{Now: clockNow}); err == nil {
		t.Fatal("a signed list was accepted with no anchor to check it")
	}
	// Tampering with the payload (adding an issuer) breaks the signature.
	parts := strings.Split(string(signed), ".")
	parts[1] = parts[1][:len(parts[1])-4] + "AAAA"
	if _, err := verifier.ParseTrustList([]byte(strings.Join(parts, ".")), verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor.Public}, Now: clockNow}); err == nil {
		t.Fatal("a tampered trust list was accepted")
	}
	plain, _ := f.trust.Marshal()
	if _, err := verifier.ParseTrustList(plain, verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor.Public}, Now: clockNow}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("an unsigned list was accepted by a verifier that wants signed ones: %v", err)
	}

	// An expired trust list makes every issuer untrusted.
	v := f.verifier(t, verifier.Options{Trust: list, Now: func() time.Time { return testNow.Add(31 * 24 * time.Hour) }, Offline: true})
	_, err = v.Verify(context.Background(), issue(t, credentials.FormatJWT, sample(t, "eligibility", f.key, f.base), f.key))
	wantReason(t, err, verifier.UntrustedIssuer)
}

func TestTrustListRejectsBadEntries(t *testing.T) {
	f := newFixture(t)
	good, _ := f.trust.Marshal()
	var base map[string]any
	_ = json.Unmarshal(good, &base)
	privateJWK := `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`
	for _, tc := range []struct {
		name, edit, want string
	}{
		{"version", `{"version":7,"issuers":[]}`, "version 7"},
		{"unknown field", `{"version":1,"issuers":[],"trustEveryone":true}`, "trustEveryone"},
		{"not a DID", `{"version":1,"issuers":[{"did":"Organisation A","types":["RegistrationCredential"]}]}`, "not a DID"},
		{"no types", `{"version":1,"issuers":[{"did":"did:web:a.example","types":[]}]}`, "types is empty"},
		{"type with a space", `{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":["Passport Credential"]}]}`, "not a credential type"},
		{"empty type", `{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":[""]}]}`, "not a credential type"},
		{"did and uri", `{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","uri":"https://id.example","types":["*"]}]}`, "not both"},
		{"neither did nor uri", `{"version":1,"issuers":[{"types":["*"],"keys":[` + publicJWK + `]}]}`, "did or a uri"},
		{"uri not https", `{"version":1,"issuers":[{"uri":"http://id.example","types":["*"],"keys":[` + publicJWK + `]}]}`, "not an https URL"},
		{"uri with a fragment", `{"version":1,"issuers":[{"uri":"https://id.example/#x","types":["*"],"keys":[` + publicJWK + `]}]}`, "not an https URL"},
		{"uri without keys", `{"version":1,"issuers":[{"uri":"https://id.example","types":["*"]}]}`, "keys is empty"},
		{"did:web without keys", `{"version":1,"issuers":[{"did":"did:web:a.example","types":["RegistrationCredential"]}]}`, "keys is empty"},
		{"private key", `{"version":1,"issuers":[{"did":"did:web:a.example","types":["RegistrationCredential"],"keys":[` + privateJWK + `]}]}`, "private key"},
		{"kid of another DID", `{"version":1,"issuers":[{"did":"did:web:a.example","types":["RegistrationCredential"],"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"did:web:b.example#k"}]}]}`, "not a key of"},
		{"status base", `{"version":1,"issuers":[{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","types":["RegistrationCredential"],"statusBase":"ftp://x"}]}`, "statusBase"},
		{"twice", `{"version":1,"issuers":[{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","types":["RegistrationCredential"]},{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","types":["RegistrationCredential"]}]}`, "twice"},
		{"empty", ``, "empty"},
		{"neither", `hello`, "neither JSON nor a signed JWS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.ParseTrustList([]byte(tc.edit), verifier.TrustListOptions{AllowUnsigned: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	// A did:key issuer needs no key list: its key is its DID.
	list, err := verifier.ParseTrustList([]byte(`{"version":1,"issuers":[{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","types":["RegistrationCredential"]}]}`), verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := list.Issuer("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	if len(iss.PublicKeys()) != 1 {
		t.Fatal("did:key issuer has no key")
	}
}

// publicJWK is an Ed25519 public key as a JWK without kid.
const publicJWK = `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`

// Types may be any credential type, or * for any.
func TestTrustListTypes(t *testing.T) {
	list, err := verifier.ParseTrustList([]byte(`{"version":1,"issuers":[{"did":"`+didKeyIssuer+`","types":["PassportCredential","https://example.org/vct/pid"]},`+
		`{"uri":"https://id.example/issuer","types":["*"],"keys":[`+publicJWK+`]}]}`), verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := list.Issuer(didKeyIssuer)
	if !a.MayIssue("PassportCredential") || !a.MayIssue("https://example.org/vct/pid") || a.MayIssue(credentials.TypeRegistration) {
		t.Fatalf("types: %v", a.Types)
	}
	b, _ := list.Issuer("https://id.example/issuer")
	if !b.MayIssue(credentials.TypeRegistration) || !b.MayIssue("AnythingCredential") {
		t.Fatalf("* does not allow any type: %v", b.Types)
	}
}

// An issuer is named by a DID or by an https URI; Issuer finds either, and
// Identifier gives it.
func TestTrustListURIIssuer(t *testing.T) {
	const uri = "https://id.example/issuer"
	k1 := testKey(t, "mosip-1", "")
	k2 := testKey(t, "mosip-2", "")
	jwk := func(k *credentials.Key, kid string) json.RawMessage {
		j, err := credentials.PublicJWK(k)
		if err != nil {
			t.Fatal(err)
		}
		_ = j.Remove("kid")
		_ = j.Remove("alg")
		if kid != "" {
			_ = j.Set("kid", kid)
		}
		raw, _ := json.Marshal(j)
		return raw
	}
	iss, err := verifier.NewTrustedURIIssuer(uri, "National ID", []credentials.Type{credentials.TypeAny}, jwk(k1, "key 2024/1"))
	if err != nil {
		t.Fatal(err)
	}
	list := verifier.NewTrustList("mixed")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	did, _ := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), testKey(t, "org-a", "did:web:org-a.example"))
	if err := list.Add(did); err != nil {
		t.Fatal(err)
	}
	// Adding a key to an issuer already listed adds the key, once.
	more, err := verifier.NewTrustedURIIssuer(uri, "", []credentials.Type{credentials.TypeAny}, jwk(k2, ""), jwk(k1, "key 2024/1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := list.Add(more); err != nil {
		t.Fatal(err)
	}
	data, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"did": ""`) {
		t.Fatalf("a URI issuer is written with an empty did:\n%s", data)
	}
	back, err := verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := back.Issuer(uri)
	if !ok || got.Identifier() != uri || got.DID != "" || got.Name != "National ID" || len(got.PublicKeys()) != 2 || len(back.Issuers) != 2 {
		t.Fatalf("URI issuer after a round trip: %+v", got)
	}
	if a, ok := back.Issuer("did:web:org-a.example"); !ok || a.Identifier() != a.DID {
		t.Fatal("the DID issuer is lost")
	}

	// A status list of the URI issuer, signed with a key named by its kid,
	// is verified with that key.
	signer := *k1
	signer.DID, signer.ID = uri, "key 2024/1"
	l, _ := credentials.NewStatusList("https://id.example/status/revocation/1", uri, credentials.PurposeRevocation, credentials.MinStatusListSize)
	got.StatusBase = "https://id.example/status"
	body, err := credentials.IssueStatusList(l, &signer, testNow)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Options{Trust: back, Offline: true, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.LoadStatusList(body); err != nil {
		t.Fatalf("a URI issuer's status list: %v", err)
	}
	forger := *testKey(t, "forger", "")
	forger.DID, forger.ID = uri, "key 2024/1"
	body, _ = credentials.IssueStatusList(l, &forger, testNow.Add(time.Minute))
	if err := v.LoadStatusList(body); err == nil {
		t.Fatal("a status list signed by another key passed for the URI issuer's")
	}
}

func TestTrustListAddMerges(t *testing.T) {
	f := newFixture(t)
	k2 := testKey(t, "org-a-rotated", f.key.DID)
	iss, err := verifier.NewTrustedIssuer("", []credentials.Type{credentials.TypeEligibility}, k2)
	if err != nil {
		t.Fatal(err)
	}
	list := f.trustFor(t, credentials.TypeRegistration)
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	got, _ := list.Issuer(f.key.DID)
	if len(list.Issuers) != 1 || len(got.PublicKeys()) != 2 || !got.MayIssue(credentials.TypeEligibility) || !got.MayIssue(credentials.TypeRegistration) || got.Name != "Organisation A" {
		t.Fatalf("merge: %+v", got)
	}
	data, _ := list.Marshal()
	back, err := verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := back.Issuer(f.key.DID)
	if len(b.PublicKeys()) != 2 {
		t.Fatal("round trip lost a key")
	}
}

// The seed corpus of FuzzParseTrustList lives in
// testdata/fuzz/FuzzParseTrustList/. Refresh it with
//
//	go test ./verifier -run TestTrustListFuzzCorpus -update-trustlist-fuzz
var updateTrustListFuzz = flag.Bool("update-trustlist-fuzz", false, "rewrite the seed corpus of FuzzParseTrustList")

const didKeyIssuer = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

// signTrustListJWS signs payload as a trust list JWS with the given typ,
// as SignTrustList would but without its checks.
func signTrustListJWS(t testing.TB, payload []byte, k *credentials.Key, typ string) []byte {
	t.Helper()
	hdr := jws.NewHeaders()
	for name, v := range map[string]any{jws.KeyIDKey: k.ID, jws.TypeKey: typ} {
		if err := hdr.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, k.Signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// trustListSeeds are trust lists (plain, signed by the consortium anchor
// FuzzParseTrustList trusts, did:key only) and broken ones. They name no
// test server, so that they stay the same from run to run.
func trustListSeeds(t testing.TB) map[string][]byte {
	orgA := testKey(t, "org-a", "did:web:org-a.example")
	orgA2 := testKey(t, "org-a-rotated", orgA.DID)
	anchor := testKey(t, "consortium", "")
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), orgA, orgA2)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = "https://org-a.example/status"
	list := verifier.NewTrustList("Dadaab consortium")
	if err := list.Add(iss); err != nil {
		t.Fatal(err)
	}
	plain, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{"plain": plain}
	if seeds["signed"], err = verifier.SignTrustList(list, anchor, testNow, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if seeds["signed-by-stranger"], err = verifier.SignTrustList(list, testKey(t, "stranger", ""), testNow, time.Hour); err != nil {
		t.Fatal(err)
	}
	seeds["signed-no-valid-until"] = signTrustListJWS(t, plain, anchor, verifier.TrustListMediaType)
	seeds["signed-wrong-typ"] = signTrustListJWS(t, plain, anchor, "JWT")
	seeds["signed-truncated"] = seeds["signed"][:len(seeds["signed"])-10]
	seeds["did-key-only"] = []byte(`{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":["RegistrationCredential"]}]}`)
	seeds["did-key-dated"] = []byte(`{"version":1,"name":"x","issued":"2026-11-01T00:00:00Z","validUntil":"2027-11-01T00:00:00Z","issuers":[{"did":"` + didKeyIssuer +
		`","name":"Org B","types":["EligibilityCredential","ReferralCredential"],"statusBase":"https://b.example/s","validFrom":"2026-01-01T00:00:00Z","validUntil":"2027-01-01T00:00:00Z"}]}`)
	seeds["uri-issuer"] = []byte(`{"version":1,"issuers":[{"uri":"https://id.example/issuer","types":["*","PassportCredential"],"keys":[` + publicJWK[:len(publicJWK)-1] + `,"kid":"nid 1"}],"statusBase":"http://127.0.0.1:8080/s"}]}`)
	seeds["http-status-base"] = []byte(`{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":["*"],"statusBase":"http://b.example/s"}]}`)
	seeds["version-7"] = []byte(`{"version":7,"issuers":[]}`)
	seeds["unknown-field"] = []byte(`{"version":1,"issuers":[],"trustEveryone":true}`)
	seeds["private-key"] = []byte(`{"version":1,"issuers":[{"did":"did:web:a.example","types":["RegistrationCredential"],"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}]}`)
	seeds["kid-other-did"] = []byte(`{"version":1,"issuers":[{"did":"did:web:a.example","types":["RegistrationCredential"],"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"did:web:b.example#k"}]}]}`)
	seeds["twice"] = []byte(`{"version":1,"issuers":[{"did":"` + didKeyIssuer + `","types":["RegistrationCredential"]},{"did":"` + didKeyIssuer + `","types":["RegistrationCredential"]}]}`)
	seeds["null-issuer"] = []byte(`{"version":1,"issuers":[null]}`)
	return seeds
}

// TestTrustListFuzzCorpus writes the seed corpus with
// -update-trustlist-fuzz, and otherwise checks that it is there.
func TestTrustListFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, data := range trustListSeeds(t) {
		corpus[name] = fuzzSeed{data}
	}
	fuzzCorpus(t, "FuzzParseTrustList", *updateTrustListFuzz, "update-trustlist-fuzz", corpus)
}

func FuzzParseTrustList(f *testing.F) {
	fx := newFixture(f)
	plain, _ := fx.trust.Marshal()
	anchor := testKey(f, "consortium", "")
	signed, _ := verifier.SignTrustList(fx.trust, anchor, testNow, time.Hour)
	f.Add(plain)
	f.Add(signed)
	f.Add([]byte(`{"version":1,"issuers":[{"did":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","types":["RegistrationCredential"]}]}`))
	stranger := testKey(f, "stranger", "")
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := verifier.ParseTrustList(data, verifier.TrustListOptions{Anchors: []crypto.PublicKey{anchor.Public}, AllowUnsigned: true, Now: clockNow})
		if err != nil {
			return
		}
		// Whatever parses must write out and parse again to the same list.
		out, err := list.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := verifier.ParseTrustList(out, verifier.TrustListOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if len(again.Issuers) != len(list.Issuers) {
			t.Fatal("issuers lost in a round trip")
		}
		// Nothing the fuzzer writes may pass as signed by the anchor
		// unless it is the signed list itself.
		if len(data) > 0 && data[0] != '{' && string(data) != string(signed) {
			if _, err := verifier.ParseTrustList(data, verifier.TrustListOptions{Anchors: []crypto.PublicKey{stranger.Public}, Now: clockNow}); err == nil {
				t.Fatal("a signed list verified under an unrelated key")
			}
		}
	})
}
