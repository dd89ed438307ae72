package verifier_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func wantReason(t *testing.T, err error, reasons ...verifier.Reason) {
	t.Helper()
	var ve *verifier.Error
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *verifier.Error with reason %v", err, reasons)
	}
	for _, r := range reasons {
		if ve.Reason == r {
			if ve.Error() == "" || ve.Detail == "" {
				t.Fatalf("error without words: %#v", ve)
			}
			return
		}
	}
	t.Fatalf("reason = %v (%v), want one of %v", ve.Reason, ve, reasons)
}

// flip changes the byte at i to another character of the same alphabet.
func flip(raw []byte, i int) []byte {
	out := append([]byte{}, raw...)
	switch c := out[i]; {
	case c == 'A':
		out[i] = 'B'
	case c >= '0' && c <= '9':
		out[i] = '0' + (c-'0'+1)%10
	default:
		out[i] = 'A'
	}
	return out
}

func TestVerifyEveryFormat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stranger := testKey(t, "stranger", "did:web:stranger.example")
	// impostor claims the trusted key's id but signs with another key.
	impostor := *f.key
	impostor.Signer = stranger.Signer

	for _, fm := range credentials.Formats() {
		t.Run(string(fm), func(t *testing.T) {
			reg := sample(t, "registration", f.key, f.base)
			raw := issue(t, fm, reg, f.key)

			t.Run("valid", func(t *testing.T) {
				res, err := f.verifier(t, verifier.Options{}).Verify(ctx, raw)
				if err != nil {
					t.Fatal(err)
				}
				if res.Format != fm || res.Credential.Type != credentials.TypeRegistration || res.IssuerName != "Organisation A" {
					t.Fatalf("result: %+v", res)
				}
				if !res.Status.HasStatus || !res.Status.Checked || res.Status.Stale || len(res.Warnings) != 0 {
					t.Fatalf("status: %+v warnings %v", res.Status, res.Warnings)
				}
				if got := credentials.SubjectRegistrationID(res.Credential.Subject); fm != credentials.FormatSDJWT && got != "KE-DAD-2026-000123" {
					t.Fatalf("registrationId = %q", got)
				}
				if credentials.SubjectSeed(res.Credential.Subject) != nil {
					t.Fatal("the dedup seed left the library in Result.Credential")
				}
			})
			t.Run("tampered", func(t *testing.T) {
				for _, i := range []int{len(raw) / 3, len(raw) / 2, len(raw) - 5} {
					// A changed claim name may also name a feature tally
					// does not support (an SD-JWT status mechanism).
					_, err := f.verifier(t, verifier.Options{}).Verify(ctx, flip(raw, i))
					wantReason(t, err, verifier.BadSignature, verifier.Malformed, verifier.UntrustedIssuer, verifier.UnsupportedFormat)
				}
			})
			t.Run("signature altered", func(t *testing.T) {
				_, err := f.verifier(t, verifier.Options{}).Verify(ctx, alterSignature(t, fm, raw))
				wantReason(t, err, verifier.BadSignature)
			})
			t.Run("wrong key", func(t *testing.T) {
				_, err := f.verifier(t, verifier.Options{}).Verify(ctx, issue(t, fm, sample(t, "registration", f.key, f.base), &impostor))
				wantReason(t, err, verifier.BadSignature)
			})
			t.Run("untrusted issuer", func(t *testing.T) {
				_, err := f.verifier(t, verifier.Options{}).Verify(ctx, issue(t, fm, sample(t, "registration", stranger, f.base), stranger))
				wantReason(t, err, verifier.UntrustedIssuer)
			})
			t.Run("type not allowed", func(t *testing.T) {
				v := f.verifier(t, verifier.Options{Trust: f.trustFor(t, credentials.TypeEligibility)})
				_, err := v.Verify(ctx, raw)
				wantReason(t, err, verifier.TypeNotAllowed)
			})
			t.Run("expired", func(t *testing.T) {
				later := reg.ValidUntil.Add(time.Hour)
				_, err := f.verifier(t, verifier.Options{Now: func() time.Time { return later }}).Verify(ctx, raw)
				wantReason(t, err, verifier.Expired)
			})
			t.Run("within clock skew", func(t *testing.T) {
				justAfter := reg.ValidUntil.Add(time.Minute)
				if _, err := f.verifier(t, verifier.Options{Now: func() time.Time { return justAfter }}).Verify(ctx, raw); err != nil {
					t.Fatalf("one minute past validUntil, within the 5-minute skew: %v", err)
				}
			})
			t.Run("not yet valid", func(t *testing.T) {
				early := reg.ValidFrom.Add(-time.Hour)
				_, err := f.verifier(t, verifier.Options{Now: func() time.Time { return early }}).Verify(ctx, raw)
				wantReason(t, err, verifier.NotYetValid)
			})
		})
	}
}

func TestVerifyStatus(t *testing.T) {
	ctx := context.Background()
	for _, fm := range credentials.Formats() {
		t.Run(string(fm), func(t *testing.T) {
			for _, tc := range []struct {
				purpose string
				want    verifier.Reason
			}{
				{credentials.PurposeRevocation, verifier.Revoked},
				{credentials.PurposeSuspension, verifier.Suspended},
			} {
				t.Run(tc.purpose, func(t *testing.T) {
					f := newFixture(t)
					raw := issue(t, fm, sample(t, "registration", f.key, f.base), f.key)
					f.setStatus(t, tc.purpose, testIndex)
					_, err := f.verifier(t, verifier.Options{}).Verify(ctx, raw)
					wantReason(t, err, tc.want)
				})
			}
		})
	}
}

func TestStatusOfflinePolicy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	now := testNow
	clock := func() time.Time { return now }

	lenient := f.verifier(t, verifier.Options{Now: clock})
	strict := f.verifier(t, verifier.Options{Now: clock, MaxStatusAge: time.Hour})
	for _, v := range []*verifier.Verifier{lenient, strict} {
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	hits := f.hits
	if _, err := lenient.Verify(ctx, raw); err != nil || f.hits != hits {
		t.Fatalf("a cached list was fetched again (%d -> %d): %v", hits, f.hits, err)
	}

	// The network goes away; two hours pass.
	f.srv.Close()
	now = testNow.Add(2 * time.Hour)
	res, err := lenient.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("lenient verifier rejected a credential whose status is merely old: %v", err)
	}
	if !res.Status.Stale || res.Status.Age != 2*time.Hour || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "status not checked since") {
		t.Fatalf("offline result does not say how old its status is: %+v %v", res.Status, res.Warnings)
	}
	_, err = strict.Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)

	// A verifier that never saw the list.
	fresh := f.verifier(t, verifier.Options{Now: clock})
	res, err = fresh.Verify(ctx, raw)
	if err != nil || res.Status.Checked || len(res.Warnings) == 0 {
		t.Fatalf("unchecked status must be accepted with a warning by default: %v %+v", err, res)
	}
	_, err = f.verifier(t, verifier.Options{Now: clock, MaxStatusAge: time.Hour}).Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
}

func TestLoadStatusListOffline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	v := f.verifier(t, verifier.Options{Offline: true, MaxStatusAge: 24 * time.Hour})
	_, err := v.Verify(ctx, raw)
	wantReason(t, err, verifier.StatusUnavailable)
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		body, err := credentials.IssueStatusList(f.lists[credentials.StatusListPath(p, 3)], f.key, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.LoadStatusList(body); err != nil {
			t.Fatal(err)
		}
	}
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)

	// A list signed by someone else is refused.
	stranger := testKey(t, "stranger", f.key.DID)
	body, _ := credentials.IssueStatusList(f.lists["revocation/3"], stranger, testNow)
	if err := v.LoadStatusList(body); err == nil {
		t.Fatal("a status list signed by an unknown key was loaded")
	}
}

func TestDedupToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.verifier(t, verifier.Options{})
	domain, _ := verifier.NewDedupKey("dadaab", nil)
	other, _ := verifier.NewDedupKey("elsewhere", nil)

	tokens := map[credentials.Format]string{}
	for _, fm := range []credentials.Format{credentials.FormatQR, credentials.FormatJWT, credentials.FormatDataIntegrity} {
		res, err := v.Verify(ctx, issue(t, fm, sample(t, "registration", f.key, f.base), f.key))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := res.DedupToken(domain)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 26 || strings.ToLower(tok) != tok || strings.Contains(tok, "=") {
			t.Fatalf("token %q is not 26 lower-case base32 characters", tok)
		}
		tokens[fm] = tok
		if o, _ := res.DedupToken(other); o == tok {
			t.Fatal("two domains gave the same token")
		}
		// Known answer: DESIGN.md's formula, computed here independently.
		mac := hmac.New(sha256.New, domain.Secret[:])
		mac.Write([]byte("tally-dedup-v1\x00" + f.key.DID + "\x00" + "0123456789abcdef"))
		want := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil)[:16]))
		if tok != want {
			t.Fatalf("token %s, want %s", tok, want)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			printed := fmt.Sprintf(verb, res)
			if strings.Contains(printed, "0123456789abcdef") || strings.Contains(printed, "48 49 50 51") || strings.Contains(printed, "0x30, 0x31") {
				t.Fatalf("%s of a Result prints the seed: %s", verb, printed)
			}
		}
		data, _ := json.Marshal(res.Credential.Subject)
		if strings.Contains(string(data), "dedupSeed") {
			t.Fatalf("the seed is in the result's credential: %s", data)
		}
	}
	if tokens[credentials.FormatQR] != tokens[credentials.FormatJWT] || tokens[credentials.FormatJWT] != tokens[credentials.FormatDataIntegrity] {
		t.Fatalf("one person, different tokens across formats: %v", tokens)
	}

	// The same seed under another issuer is another person.
	g := newFixture(t)
	g.key = testKey(t, "org-b", "did:web:org-b.example")
	g.trust = g.trustFor(t, credentials.Types()...)
	res, err := g.verifier(t, verifier.Options{Offline: true}).Verify(ctx, issue(t, credentials.FormatJWT, sample(t, "registration", g.key, g.base), g.key))
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := res.DedupToken(domain); tok == tokens[credentials.FormatJWT] {
		t.Fatal("an issuer could collide with another issuer's person")
	}
}

func TestVerifyBadInput(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, verifier.Options{Offline: true})
	for _, tc := range []struct {
		name string
		in   string
		want verifier.Reason
	}{
		{"empty", "", verifier.UnsupportedFormat},
		{"prose", "hello, world!", verifier.UnsupportedFormat},
		{"json garbage", "{not json", verifier.Malformed},
		{"jwt garbage", "eyJhbGciOi.def.ghi", verifier.Malformed},
		{"dotted garbage", "abc.def.ghi", verifier.UnsupportedFormat},
		{"sd-jwt garbage", "eyJhbGciOi.def.ghi~WyJ~", verifier.Malformed},
		{"base45 garbage", "ZZZZZZZZZZ", verifier.Malformed},
		{"huge", strings.Repeat("A", verifier.MaxCredentialSize+1), verifier.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), []byte(tc.in))
			wantReason(t, err, tc.want)
		})
	}
}

func TestNewNeedsTrust(t *testing.T) {
	if _, err := verifier.New(verifier.Options{}); err == nil {
		t.Fatal("a verifier without a trust list was made")
	}
}

// alterSignature changes one byte of a credential's signature and nothing
// else, so that it still parses and must fail on the signature alone.
func alterSignature(t *testing.T, fm credentials.Format, raw []byte) []byte {
	t.Helper()
	switch fm {
	case credentials.FormatJWT, credentials.FormatSDJWT:
		s := string(raw)
		end := len(s)
		if i := strings.IndexByte(s, '~'); i >= 0 {
			end = i
		}
		sigStart := strings.LastIndexByte(s[:end], '.') + 1
		sig, err := base64.RawURLEncoding.DecodeString(s[sigStart:end])
		if err != nil {
			t.Fatal(err)
		}
		sig[10] ^= 0x01
		return []byte(s[:sigStart] + base64.RawURLEncoding.EncodeToString(sig) + s[end:])
	case credentials.FormatDataIntegrity:
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		proof := m["proof"].(map[string]any)
		sig, err := base58.Decode(strings.TrimPrefix(proof["proofValue"].(string), "z"))
		if err != nil {
			t.Fatal(err)
		}
		sig[10] ^= 0x01
		proof["proofValue"] = "z" + base58.Encode(sig)
		out, _ := json.Marshal(m)
		return out
	case credentials.FormatQR:
		z, err := credentials.Base45Decode(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		cose, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		cose[len(cose)-10] ^= 0x01 // the signature is the COSE_Sign1's last member
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		_, _ = zw.Write(cose)
		_ = zw.Close()
		return []byte(credentials.Base45Encode(buf.Bytes()))
	}
	t.Fatalf("no signature to alter in %s", fm)
	return nil
}

// A signed credential whose claims are invalid is rejected, and the
// rejection names the fields without quoting their (personal) values.
func TestInvalidClaimsNameFieldsNotValues(t *testing.T) {
	f := newFixture(t)
	c := sample(t, "registration", f.key, f.base)
	raw := issue(t, credentials.FormatJWT, c, f.key)
	// Re-sign a payload with a bad birth date, as a buggy issuer would.
	parts := strings.Split(string(raw), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte(`"1991-03-14"`), []byte(`"14/03/1991"`), 1)
	input := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := f.key.Signer.Sign(nil, []byte(input), crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
	_, err = f.verifier(t, verifier.Options{Offline: true}).Verify(context.Background(), bad)
	wantReason(t, err, verifier.Malformed)
	var ve *verifier.Error
	errors.As(err, &ve)
	if !strings.Contains(ve.Detail, "credentialSubject.dateOfBirth") || strings.Contains(ve.Detail, "14/03/1991") {
		t.Fatalf("detail %q", ve.Detail)
	}
}
