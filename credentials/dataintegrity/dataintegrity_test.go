package dataintegrity_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/internal/jsonedit"
)

var diNow = time.Date(2026, 11, 1, 9, 30, 0, 123456789, time.UTC)

// diKey makes a deterministic Ed25519 issuer key; did "" gives a did:key.
func diKey(t testing.TB, seed byte, did string) *credentials.Key {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(s), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issueDI prepares a sample with status entries and signs it.
func issueDI(t testing.TB, sample string, k *credentials.Key) []byte {
	t.Helper()
	c := loadSample(t, sample)
	if err := credentials.Prepare(c, k.DID, rand.Reader); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries("https://dadaab.example.org/status", 7, 40961)
	raw, err := testProc.Issue(c, k, diNow)
	if err != nil {
		t.Fatalf("%s: %v", sample, err)
	}
	return raw
}

func editJSON(t testing.TB, raw []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	return jsonedit.Edit(t, raw, edit)
}

func obj(m map[string]any, key string) map[string]any { return jsonedit.Obj(m, key) }

func TestDataIntegrityRoundTrip(t *testing.T) {
	other := diKey(t, 99, "")
	for _, issuer := range []struct {
		name string
		key  *credentials.Key
	}{
		{"did:key", diKey(t, 1, "")},
		{"did:web", diKey(t, 2, "did:web:dadaab.example.org")},
	} {
		for _, sample := range []string{"registration.json", "eligibility.json", "referral.json"} {
			t.Run(issuer.name+"/"+sample, func(t *testing.T) {
				k := issuer.key
				raw := issueDI(t, sample, k)
				d, err := testProc.Parse(context.Background(), raw)
				if err != nil {
					t.Fatal(err)
				}
				var _ credentials.Secured = d
				if d.Format() != credentials.FormatDataIntegrity || d.Issuer() != k.DID || d.KeyID() != k.ID {
					t.Fatalf("format %s, issuer %s, key id %s", d.Format(), d.Issuer(), d.KeyID())
				}
				if !d.Created().Equal(diNow.Truncate(time.Second)) {
					t.Fatalf("created = %v", d.Created())
				}
				if err := d.VerifySignature(k.Public); err != nil {
					t.Fatalf("verify: %v", err)
				}
				if err := d.VerifySignature(other.Public); !errors.Is(err, credentials.ErrBadSignature) {
					t.Fatalf("wrong key: err = %v, want ErrBadSignature", err)
				}
				if err := d.Credential().Validate(); err != nil {
					t.Fatal(err)
				}
				// The parsed credential is the one that was signed.
				var signed map[string]any
				_ = json.Unmarshal(raw, &signed)
				delete(signed, "proof")
				if consent, ok := obj(signed, "credentialSubject")["consent"].(map[string]any); ok {
					// RDF does not order a set: the consented fields come
					// back sorted.
					fields := consent["fields"].([]any)
					slices.SortFunc(fields, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
				}
				want, _ := json.Marshal(signed)
				got, _ := json.Marshal(d.Credential())
				var gotMap map[string]any
				_ = json.Unmarshal(got, &gotMap)
				got, _ = json.Marshal(gotMap)
				if !bytes.Equal(got, want) {
					t.Fatalf("parsed credential differs:\n got %s\nwant %s", got, want)
				}
				// The proof is what the format promises.
				proof := obj(signed2(t, raw), "proof")
				for name, want := range map[string]string{
					"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
					"proofPurpose": "assertionMethod", "verificationMethod": k.ID,
					"created": "2026-11-01T09:30:00Z",
				} {
					if proof[name] != want {
						t.Errorf("proof %s = %v, want %s", name, proof[name], want)
					}
				}
			})
		}
	}
}

func signed2(t testing.TB, raw []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Reformatting the JSON (member order, white space) changes nothing signed.
func TestDataIntegrityKeyOrderDoesNotMatter(t *testing.T) {
	k := diKey(t, 1, "")
	raw := issueDI(t, "referral.json", k)
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "", "    "); err != nil {
		t.Fatal(err)
	}
	// The top-level members in reverse order.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(members))
	slices.Reverse(names)
	reordered := []byte("{")
	for i, name := range names {
		if i > 0 {
			reordered = append(reordered, ',')
		}
		reordered = fmt.Appendf(reordered, "%q:%s", name, members[name])
	}
	reordered = append(reordered, '}')
	if bytes.Equal(reordered, raw) {
		t.Fatal("re-encoding did not change the member order")
	}
	for name, in := range map[string][]byte{"indented": indented.Bytes(), "reordered": reordered} {
		t.Run(name, func(t *testing.T) {
			d, err := testProc.Parse(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDataIntegrityTampering(t *testing.T) {
	k := diKey(t, 2, "did:web:dadaab.example.org")
	raw := issueDI(t, "registration.json", k)
	mallory := diKey(t, 66, "")

	flipProofValue := func(m map[string]any) {
		p := obj(m, "proof")
		sig, err := base58.Decode(strings.TrimPrefix(p["proofValue"].(string), "z"))
		if err != nil {
			t.Fatal(err)
		}
		sig[10] ^= 1
		p["proofValue"] = "z" + base58.Encode(sig)
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		// wantParse is the sentinel Parse wraps, or nil when it parses and
		// the signature must then fail — or errSame when the change leaves
		// every signed statement as it was, so that it must verify and
		// give exactly the original credential.
		wantParse error
	}{
		{"claim value", func(m map[string]any) { obj(m, "credentialSubject")["fullName"] = "Fatima Hassan Abdy" }, nil},
		{"claim removed", func(m map[string]any) { delete(obj(m, "credentialSubject"), "nationality") }, nil},
		{"dedup seed", func(m map[string]any) { obj(m, "credentialSubject")["dedupSeed"] = "AAAAAAAAAAAAAAAAAAAAAA" }, nil},
		{"validFrom", func(m map[string]any) { m["validFrom"] = "2026-10-01T00:00:00Z" }, nil},
		{"validUntil removed", func(m map[string]any) { delete(m, "validUntil") }, nil},
		{"status index", func(m map[string]any) { m["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = "1" }, nil},
		{"status removed", func(m map[string]any) { delete(m, "credentialStatus") }, nil},
		{"id", func(m map[string]any) { m["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000" }, nil},
		{"proofValue", flipProofValue, nil},
		{"created", func(m map[string]any) { obj(m, "proof")["created"] = "2026-11-02T09:30:00Z" }, nil},
		{"created removed", func(m map[string]any) { delete(obj(m, "proof"), "created") }, nil},
		{"verificationMethod, same DID", func(m map[string]any) { obj(m, "proof")["verificationMethod"] = k.DID + "#key-2" }, nil},
		{"context term remapped", func(m map[string]any) {
			m["@context"].([]any)[1].(map[string]any)["fullName"] = "tally:nickname"
		}, credentials.ErrMalformed},
		// Swapping two terms' meanings and their values leaves every signed
		// RDF statement as it was: the credential is read from those.
		{"two terms and their values swapped", func(m map[string]any) {
			ctx := m["@context"].([]any)[1].(map[string]any)
			ctx["registrationId"], ctx["fullName"] = ctx["fullName"], ctx["registrationId"]
			sub := obj(m, "credentialSubject")
			sub["registrationId"], sub["fullName"] = sub["fullName"], sub["registrationId"]
		}, errSame},
		{"credential types relabelled", func(m map[string]any) {
			ctx := m["@context"].([]any)[1].(map[string]any)
			ctx["RegistrationCredential"], ctx["EligibilityCredential"] = ctx["EligibilityCredential"], ctx["RegistrationCredential"]
		}, credentials.ErrMalformed},
		{"issuer", func(m map[string]any) { m["issuer"] = mallory.DID }, credentials.ErrMalformed},
		{"issuer and verificationMethod", func(m map[string]any) {
			m["issuer"] = mallory.DID
			obj(m, "proof")["verificationMethod"] = mallory.ID
		}, nil},
		{"verificationMethod of another DID", func(m map[string]any) { obj(m, "proof")["verificationMethod"] = mallory.ID }, credentials.ErrMalformed},
		{"proof removed", func(m map[string]any) { delete(m, "proof") }, credentials.ErrMalformed},
		{"cryptosuite", func(m map[string]any) { obj(m, "proof")["cryptosuite"] = "eddsa-jcs-2022" }, credentials.ErrUnsupported},
		{"legacy cryptosuite name", func(m map[string]any) { obj(m, "proof")["cryptosuite"] = "eddsa-2022" }, credentials.ErrUnsupported},
		{"proof type", func(m map[string]any) { obj(m, "proof")["type"] = "Ed25519Signature2020" }, credentials.ErrUnsupported},
		{"proofPurpose", func(m map[string]any) { obj(m, "proof")["proofPurpose"] = "authentication" }, credentials.ErrMalformed},
		{"proof member added", func(m map[string]any) { obj(m, "proof")["nonce"] = "abc" }, nil},
		{"proof member unknown", func(m map[string]any) { obj(m, "proof")["colour"] = "blue" }, credentials.ErrUnsupported},
		{"proof chain", func(m map[string]any) { obj(m, "proof")["previousProof"] = "urn:uuid:1" }, credentials.ErrUnsupported},
		{"proofValue not base58", func(m map[string]any) { obj(m, "proof")["proofValue"] = "uAAAA" }, credentials.ErrMalformed},
		{"created with fractions", func(m map[string]any) { obj(m, "proof")["created"] = "2026-11-01T09:30:00.5Z" }, nil},
		{"undefined claim", func(m map[string]any) { obj(m, "credentialSubject")["shoeSize"] = 44 }, credentials.ErrMalformed},
		{"undefined top-level term", func(m map[string]any) { m["colour"] = "blue" }, credentials.ErrMalformed},
		{"defined but not a tally member", func(m map[string]any) { m["name"] = "Registration" }, credentials.ErrMalformed},
		{"protected term redefined", func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), map[string]any{"fullName": "https://example.org/name"})
		}, credentials.ErrMalformed},
		{"base term redefined", func(m map[string]any) {
			m["@context"].([]any)[1].(map[string]any)["issuer"] = "tally:issuer"
		}, credentials.ErrMalformed},
		{"remote context", func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), "https://example.org/evil-context.jsonld")
		}, credentials.ErrUnsupported},
		{"nested remote context", func(m map[string]any) {
			obj(m, "credentialSubject")["@context"] = "https://example.org/evil-context.jsonld"
		}, credentials.ErrUnsupported},
		{"relative status list", func(m map[string]any) {
			m["credentialStatus"].([]any)[0].(map[string]any)["statusListCredential"] = "revocation/7"
		}, credentials.ErrMalformed},
		{"blank node id", func(m map[string]any) { m["id"] = "_:b0" }, credentials.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := editJSON(t, raw, tc.edit)
			d, err := testProc.Parse(context.Background(), in)
			if tc.wantParse == errSame {
				sameDecision(t, raw, in, k)
				return
			}
			if tc.wantParse != nil {
				if !errors.Is(err, tc.wantParse) {
					t.Fatalf("parse: err = %v, want %v", err, tc.wantParse)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if err := d.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("verify: err = %v, want ErrBadSignature", err)
			}
		})
	}
	// The untouched credential still verifies: the table changed copies.
	d, err := testProc.Parse(context.Background(), raw)
	if err != nil || d.VerifySignature(k.Public) != nil {
		t.Fatalf("original: %v", err)
	}
}

// errSame marks a change that leaves the signed statements as they were.
var errSame = errors.New("same signed statements")

// sameDecision checks that changed parses, verifies with k, and gives
// exactly what orig gives: the same typed credential and the same view.
func sameDecision(t *testing.T, orig, changed []byte, k *credentials.Key) {
	t.Helper()
	want, err := testProc.Parse(context.Background(), orig)
	if err != nil {
		t.Fatal(err)
	}
	got, err := testProc.Parse(context.Background(), changed)
	if err != nil {
		// Refusing a rewrite is allowed; accepting it differently is not.
		if !errors.Is(err, credentials.ErrMalformed) && !errors.Is(err, credentials.ErrUnsupported) {
			t.Fatalf("refused without a sentinel: %v", err)
		}
		t.Logf("refused: %v", err)
		return
	}
	if err := got.VerifySignature(k.Public); err != nil {
		t.Fatalf("the rewrite keeps the signed statements, yet: %v", err)
	}
	wc, _ := json.Marshal(want.Credential())
	gc, _ := json.Marshal(got.Credential())
	if !bytes.Equal(wc, gc) {
		t.Fatalf("credential differs:\n got %s\nwant %s", gc, wc)
	}
	if !reflect.DeepEqual(want.View(), got.View()) {
		t.Fatalf("view differs:\n got %+v\nwant %+v", got.View(), want.View())
	}
}

func TestDataIntegrityMalformedInput(t *testing.T) {
	k := diKey(t, 1, "")
	raw := issueDI(t, "eligibility.json", k)
	for _, tc := range []struct {
		name, in string
	}{
		{"empty", ""},
		{"not JSON", "{nope"},
		{"array", "[]"},
		{"trailing data", string(raw) + "{}"},
		{"duplicate member", strings.Replace(string(raw), `"validFrom":`, `"validFrom":"2020-01-01T00:00:00Z","validFrom":`, 1)},
		{"duplicate proof", strings.Replace(string(raw), `"proof":`, `"proof":{},"proof":`, 1)},
		{"too large", string(raw[:len(raw)-1]) + `,"id":"` + strings.Repeat("a", dataintegrity.MaxSize) + `"}`},
		{"too deep", `{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
		{"too many objects", `{"a":[` + strings.Repeat("{},", 300) + `{}]}`},
		{"no context", `{"type":"RegistrationCredential","proof":{}}`},
		{"proof list empty", strings.Replace(string(raw), `"proof":{`, `"proof":[],"x":{`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testProc.Parse(context.Background(), []byte(tc.in))
			if !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := testProc.Parse(context.Background(), bytes.Repeat([]byte(" "), dataintegrity.MaxSize+1)); err == nil ||
		!strings.Contains(err.Error(), "64 KiB") {
		t.Fatalf("size limit: %v", err)
	}
}

func TestDataIntegrityUndefinedTermsAreErrors(t *testing.T) {
	k := diKey(t, 1, "")
	raw := issueDI(t, "registration.json", k)
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"subject claim", func(m map[string]any) { obj(m, "credentialSubject")["favouriteColour"] = "blue" }, "not defined by any @context"},
		{"top level", func(m map[string]any) { m["colour"] = "blue" }, "not defined by any @context"},
		{"type", func(m map[string]any) {
			m["type"] = []any{"VerifiableCredential", "RegistrationCredential", "PassportCredential"}
		}, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := editJSON(t, raw, tc.edit)
			_, err := testProc.Parse(context.Background(), in)
			if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parse: err = %v", err)
			}
			// The generic check, which knows nothing of tally's schema,
			// refuses it too.
			err = verifyJSON(in, k.Public)
			if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("VerifyDataIntegrityJSON: err = %v", err)
			}
		})
	}
}

func TestDataIntegrityNeedsEd25519(t *testing.T) {
	signer, err := credentials.GenerateKey(credentials.ES256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := credentials.NewKey(signer, "")
	if err != nil {
		t.Fatal(err)
	}
	c := loadSample(t, "registration.json")
	if err := credentials.Prepare(c, p256.DID, rand.Reader); err != nil {
		t.Fatal(err)
	}
	_, err = testProc.Issue(c, p256, diNow)
	if !errors.Is(err, credentials.ErrUnsupported) || !strings.Contains(err.Error(), "needs an Ed25519 key") {
		t.Fatalf("issue with P-256: err = %v", err)
	}

	k := diKey(t, 1, "")
	d, err := testProc.Parse(context.Background(), issueDI(t, "registration.json", k))
	if err != nil {
		t.Fatal(err)
	}
	err = d.VerifySignature(p256.Public)
	if !errors.Is(err, credentials.ErrBadSignature) || !strings.Contains(err.Error(), "needs an Ed25519 key") {
		t.Fatalf("verify with P-256: err = %v", err)
	}
	if err := d.VerifySignature(ed25519.PublicKey{1, 2, 3}); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("verify with a short key: err = %v", err)
	}
}

func TestIssueDataIntegrityChecksItsInput(t *testing.T) {
	k := diKey(t, 1, "")
	prepared := func() *credentials.Credential {
		c := loadSample(t, "registration.json")
		if err := credentials.Prepare(c, k.DID, rand.Reader); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		edit func(c *credentials.Credential, k **credentials.Key, now *time.Time)
	}{
		{"public key only", func(_ *credentials.Credential, k **credentials.Key, _ *time.Time) { *k = (*k).PublicOnly() }},
		{"other issuer", func(c *credentials.Credential, _ **credentials.Key, _ *time.Time) { c.Issuer = "did:web:example.org" }},
		{"no context", func(c *credentials.Credential, _ **credentials.Key, _ *time.Time) { c.Context = nil }},
		{"invalid", func(c *credentials.Credential, _ **credentials.Key, _ *time.Time) {
			c.Subject.(*credentials.Registration).FullName = ""
		}},
		{"no time", func(_ *credentials.Credential, _ **credentials.Key, now *time.Time) { *now = time.Time{} }},
		{"relative status list", func(c *credentials.Credential, _ **credentials.Key, _ *time.Time) {
			c.Status = credentials.StatusEntries("", 7, 1) // the card form
		}},
		{"remote context", func(c *credentials.Credential, _ **credentials.Key, _ *time.Time) {
			c.Context = append(c.Context, "https://example.org/context.jsonld")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, key, now := prepared(), k, diNow
			tc.edit(c, &key, &now)
			if out, err := testProc.Issue(c, key, now); err == nil {
				t.Fatalf("issued %s", out)
			}
		})
	}
}

func TestDataIntegrityMultipleProofs(t *testing.T) {
	k := diKey(t, 1, "")
	witness := diKey(t, 2, "did:web:witness.example.org")
	raw := issueDI(t, "registration.json", k)
	issuerProof := signed2(t, raw)["proof"]
	// A proof by someone else: taken from a credential the witness issued.
	witnessProof := signed2(t, issueDI(t, "registration.json", witness))["proof"]

	t.Run("issuer and witness", func(t *testing.T) {
		in := editJSON(t, raw, func(m map[string]any) { m["proof"] = []any{witnessProof, issuerProof} })
		d, err := testProc.Parse(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.KeyID() != k.ID {
			t.Fatalf("key id = %s, want the issuer's %s", d.KeyID(), k.ID)
		}
		if err := d.VerifySignature(k.Public); err != nil {
			t.Fatal(err)
		}
		if err := d.VerifySignature(witness.Public); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("witness key: err = %v", err)
		}
	})
	t.Run("witness only", func(t *testing.T) {
		in := editJSON(t, raw, func(m map[string]any) { m["proof"] = []any{witnessProof} })
		if _, err := testProc.Parse(context.Background(), in); !errors.Is(err, credentials.ErrMalformed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("two by the issuer", func(t *testing.T) {
		in := editJSON(t, raw, func(m map[string]any) { m["proof"] = []any{issuerProof, issuerProof} })
		if _, err := testProc.Parse(context.Background(), in); !errors.Is(err, credentials.ErrUnsupported) {
			t.Fatalf("err = %v", err)
		}
	})
}

// The W3C vc-di-eddsa test vector verifies, and stops verifying when touched.
func TestDataIntegrityW3CTestVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/di/w3c-vc-di-eddsa-rdfc-2022.json")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := credentials.ParseMultikey("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyJSON(raw, pub); err != nil {
		t.Fatalf("W3C vector: %v", err)
	}
	tampered := bytes.Replace(raw, []byte("The School of Examples"), []byte("The School of Exemples"), 1)
	if err := verifyJSON(tampered, pub); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("tampered vector: err = %v", err)
	}
	other := diKey(t, 5, "")
	if err := verifyJSON(raw, other.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("other key: err = %v", err)
	}
	// It is not a tally credential: it comes as a generic view, read from
	// the signed statements.
	d, err := testProc.Parse(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Credential() != nil {
		t.Fatal("the W3C vector parsed as a tally credential")
	}
	v := d.View()
	if !v.HasType("VerifiableCredential") || !v.HasType("AlumniCredential") || v.Issuer != "https://vc.example/issuers/5678" {
		t.Fatalf("view: types %v, issuer %s", v.Types, v.Issuer)
	}
	var claims map[string]any
	if err := json.Unmarshal(v.Claims, &claims); err != nil || claims["alumniOf"] != "The School of Examples" {
		t.Fatalf("claims: %s (%v)", v.Claims, err)
	}
}

func TestJSONLDLoaderRefusesOtherURLs(t *testing.T) {
	l := testProc.DocumentLoader()
	doc, err := l.LoadDocument(credentials.BaseContext)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := doc.Document.(map[string]any); !ok || m["@context"] == nil {
		t.Fatalf("base context: %#v", doc.Document)
	}
	for _, u := range dataintegrity.BundledContexts() {
		if _, err := l.LoadDocument(u); err != nil {
			t.Errorf("bundled context %s: %v", u, err)
		}
	}
	for _, u := range []string{
		"https://www.w3.org/ns/credentials/examples/v3",
		"https://w3id.org/security/data-integrity/v1",
		"http://127.0.0.1:1/context",
		"file:///etc/passwd",
	} {
		if _, err := l.LoadDocument(u); !errors.Is(err, dataintegrity.ErrContextNotAvailable) {
			t.Fatalf("%s: err = %v", u, err)
		}
	}
}

// Every claim of the schema is a term of tally's context, and the context
// is accepted next to the VCDM 2.0 base context (no protected term clash).
func TestTallyContextDefinesEveryClaim(t *testing.T) {
	ctx := credentials.TallyContext()
	for _, c := range credentials.Schema() {
		if _, ok := ctx[c.Name]; !ok {
			t.Errorf("claim %s has no term in contexts/tally-v1.jsonld", c.Name)
		}
	}
	for _, typ := range credentials.Types() {
		if _, ok := ctx[string(typ)]; !ok {
			t.Errorf("type %s has no term in contexts/tally-v1.jsonld", typ)
		}
	}
	if ctx["@protected"] != true {
		t.Error("tally's context is not protected")
	}
}

// One parsed credential may be verified from many goroutines (run with -race).
func TestDataIntegrityConcurrentVerify(t *testing.T) {
	k := diKey(t, 1, "")
	d, err := testProc.Parse(context.Background(), issueDI(t, "referral.json", k))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- d.VerifySignature(k.Public) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// One Processor parses many credentials at once — tally's own, others'
// with their own contexts, rewritten ones that take JSON-LD expansion —
// sharing its context caches (run with -race).
func TestDataIntegrityConcurrentParse(t *testing.T) {
	k := diKey(t, 1, "")
	p, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vector, err := os.ReadFile("testdata/di/w3c-vc-di-eddsa-rdfc-2022.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := issueDI(t, "registration.json", k)
	inputs := [][]byte{
		reg, issueDI(t, "eligibility.json", k), issueDI(t, "referral.json", k), vector,
		editJSON(t, reg, func(m map[string]any) { m["issuer"] = map[string]any{"id": m["issuer"]} }),
		editJSON(t, reg, func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), map[string]any{"more": "@nest"})
			m["more"] = map[string]any{"validUntil": m["validUntil"]}
			delete(m, "validUntil")
		}),
	}
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		d, err := p.Parse(context.Background(), in)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		want[i], _ = json.Marshal(d.View())
	}
	fresh, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	for g := range 8 {
		go func() {
			for j := range 8 {
				i := (g + j) % len(inputs)
				d, err := fresh.Parse(context.Background(), inputs[i])
				if err == nil {
					if got, _ := json.Marshal(d.View()); !bytes.Equal(got, want[i]) {
						err = fmt.Errorf("input %d: view %s, want %s", i, got, want[i])
					}
				}
				errs <- err
			}
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
