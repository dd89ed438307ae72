package oid4vci_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/internal/oid4vci"
)

const goodOffer = `{"credential_issuer":"https://issuer.example/tenants/acme","credential_configuration_ids":["a"],` +
	`"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c0de","tx_code":{"length":4}}}}`

func TestParseOfferLink(t *testing.T) {
	byValue := "openid-credential-offer://?credential_offer=" + url.QueryEscape(goodOffer)
	for name, tc := range map[string]struct {
		link, uri string
		value     bool
	}{
		"by value":            {link: byValue, value: true},
		"by value, haip":      {link: "haip://?credential_offer=" + url.QueryEscape(goodOffer), value: true},
		"by value, https":     {link: "https://wallet.example/offer?credential_offer=" + url.QueryEscape(goodOffer), value: true},
		"JSON":                {link: "  " + goodOffer + "\n", value: true},
		"by reference":        {link: "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2F1", uri: "https://issuer.example/offers/1"},
		"by reference, https": {link: "https://wallet.example/?credential_offer_uri=https%3A%2F%2Fissuer.example%2Fo", uri: "https://issuer.example/o"},
		"bare https":          {link: "https://issuer.example/offers/2", uri: "https://issuer.example/offers/2"},
	} {
		ref, err := oid4vci.ParseOfferLink(tc.link)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tc.value && (ref.Offer == nil || ref.Offer.Grants.PreAuthorizedCode.TxCode.InputMode != "numeric") || !tc.value && ref.URI != tc.uri {
			t.Fatalf("%s: %+v", name, ref)
		}
	}
	for name, link := range map[string]string{
		"empty":          "",
		"both":           "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example",
		"repeated":       "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa.example&credential_offer_uri=https%3A%2F%2Fb.example",
		"neither":        "openid-credential-offer://?issuer=x",
		"not a link":     "hello",
		"file uri":       "openid-credential-offer://?credential_offer_uri=file%3A%2F%2F%2Fetc%2Fpasswd",
		"no grant":       `{"credential_issuer":"https://i.example","credential_configuration_ids":["a"]}`,
		"no ids":         `{"credential_issuer":"https://i.example","credential_configuration_ids":[],"grants":{}}`,
		"issuer query":   `{"credential_issuer":"https://i.example/?x=1","credential_configuration_ids":["a"]}`,
		"issuer not URL": `{"credential_issuer":"did:web:i.example","credential_configuration_ids":["a"]}`,
		"bad input mode": strings.Replace(goodOffer, `"length":4`, `"input_mode":"emoji"`, 1),
		"repeated key":   `{"credential_issuer":"https://i.example","credential_issuer":"https://j.example"}`,
		"too long":       "https://a.example/" + strings.Repeat("a", oid4vci.MaxOfferText),
	} {
		if _, err := oid4vci.ParseOfferLink(link); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestWellKnownURL: the well-known path goes between the host and the
// identifier's path, whose terminating "/" is removed (OpenID4VCI 1.0
// section 12.2.2, RFC 8414 section 3.1).
func TestWellKnownURL(t *testing.T) {
	for id, want := range map[string]string{
		"https://issuer.example":              "https://issuer.example/.well-known/openid-credential-issuer",
		"https://issuer.example/":             "https://issuer.example/.well-known/openid-credential-issuer",
		"https://issuer.example/tenant":       "https://issuer.example/.well-known/openid-credential-issuer/tenant",
		"https://issuer.example/tenant/":      "https://issuer.example/.well-known/openid-credential-issuer/tenant",
		"https://issuer.example:8443/a/b%20c": "https://issuer.example:8443/.well-known/openid-credential-issuer/a/b%20c",
	} {
		got, err := oid4vci.WellKnownURL(id, oid4vci.WellKnownIssuer)
		if err != nil || got != want {
			t.Errorf("%s: %q, want %q (%v)", id, got, want, err)
		}
	}
}

// TestResolveFallsBackToOpenIDConfiguration: an authorization server
// that publishes no RFC 8414 metadata but OpenID Connect Discovery's is
// found; one whose metadata names another issuer is refused.
func TestResolveAuthorizationServer(t *testing.T) {
	var asIssuer string
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	id := srv.URL + "/issuer"
	mux.HandleFunc("/.well-known/openid-credential-issuer/issuer", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"credential_issuer":"` + id + `","credential_endpoint":"` + id + `/credential","authorization_servers":["` + srv.URL + `/op"],` +
			`"credential_configurations_supported":{"a":{"format":"dc+sd-jwt","vct":"https://x.example/a"}}}`))
	})
	mux.HandleFunc("/op/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"` + asIssuer + `","token_endpoint":"` + srv.URL + `/op/token"}`))
	})
	c := &oid4vci.Client{Fetch: fetch.New(fetch.Options{AllowLoopback: true}), Now: time.Now}
	offer := strings.Replace(goodOffer, "https://issuer.example/tenants/acme", id, 1)
	asIssuer = srv.URL + "/op"
	p, err := c.Resolve(context.Background(), offer)
	if err != nil || p.TokenEndpoint != srv.URL+"/op/token" || p.IssuerName("fr") != strings.TrimPrefix(srv.URL, "http://") {
		t.Fatalf("%+v %v", p, err)
	}
	asIssuer = "https://someone-else.example"
	if _, err := c.Resolve(context.Background(), offer); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("another AS's metadata: %v", err)
	}
}

func TestParseCredentialResponse(t *testing.T) {
	got, err := oid4vci.ParseCredentialResponse([]byte(`{"credentials":[{"credential":"a~"},{"credential":"b~"}],"notification_id":"n"}`))
	if err != nil || len(got) != 2 || got[1] != "b~" {
		t.Fatalf("%v %v", got, err)
	}
	for name, body := range map[string]string{
		"deferred":     `{"transaction_id":"t","interval":5}`,
		"draft":        `{"credential":"a~","c_nonce":"n"}`,
		"empty":        `{"credentials":[]}`,
		"not a string": `{"credentials":[{"credential":{"a":1}}]}`,
		"too many":     `{"credentials":[{"credential":"a"},{"credential":"a"},{"credential":"a"},{"credential":"a"},{"credential":"a"}]}`,
		"not JSON":     `<html>`,
	} {
		if _, err := oid4vci.ParseCredentialResponse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseOfferLink(f *testing.F) {
	for _, s := range []string{
		goodOffer,
		"openid-credential-offer://?credential_offer=" + url.QueryEscape(goodOffer),
		"openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2F1",
		"https://issuer.example/offers/2",
		"haip://?credential_offer=%7B%7D",
		"openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=x",
		"", "%", "{", `{"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":null}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		ref, err := oid4vci.ParseOfferLink(link)
		if err != nil {
			return
		}
		if (ref.Offer == nil) == (ref.URI == "") {
			t.Fatalf("an offer by value and by reference, or neither: %+v", ref)
		}
		if o := ref.Offer; o != nil && (len(o.CredentialConfigurationIDs) == 0 || o.Grants.PreAuthorizedCode.PreAuthorizedCode == "") {
			t.Fatalf("an offer without what a wallet needs: %+v", o)
		}
	})
}

func FuzzParseIssuerMetadata(f *testing.F) {
	f.Add([]byte(`{"credential_issuer":"https://i.example/a","credential_endpoint":"https://i.example/a/credential","nonce_endpoint":"https://i.example/a/nonce",` +
		`"authorization_servers":["https://as.example"],"display":[{"name":"I","locale":"en"}],` +
		`"credential_configurations_supported":{"x":{"format":"jwt_vc_json","credential_definition":{"type":["VerifiableCredential","X"]},"credential_metadata":{"display":[{"name":"X"}]}}}}`))
	f.Add([]byte(`{"credential_issuer":"https://i.example","credential_endpoint":"ftp://x"}`))
	f.Add([]byte(`{"issuer":"https://as.example","token_endpoint":"https://as.example/token","grant_types_supported":["authorization_code"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if m, err := oid4vci.ParseIssuerMetadata(body); err == nil {
			if m.CredentialIssuer == "" || m.CredentialEndpoint == "" || len(m.CredentialConfigurationsSupported) == 0 {
				t.Fatalf("metadata without what a wallet needs: %+v", m)
			}
			p := oid4vci.Prepared{Metadata: m}
			for id := range m.CredentialConfigurationsSupported {
				p.ConfigurationName(id, "ar")
			}
			p.IssuerName("fr")
		}
		if m, err := oid4vci.ParseAuthorizationServerMetadata(body); err == nil && (m.Issuer == "" || m.TokenEndpoint == "") {
			t.Fatalf("AS metadata without a token endpoint: %+v", m)
		}
	})
}

func FuzzParseCredentialResponse(f *testing.F) {
	f.Add([]byte(`{"credentials":[{"credential":"eyJ.eyJ.sig~"}]}`))
	f.Add([]byte(`{"transaction_id":"t"}`))
	f.Add([]byte(`{"credentials":[{"credential":1}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := oid4vci.ParseCredentialResponse(body)
		if err == nil && len(got) == 0 {
			t.Fatal("a response without credentials was read")
		}
		for _, c := range got {
			if c == "" {
				t.Fatal("an empty credential was read")
			}
		}
	})
}

// TestCheckSDJWTWithJWTVCIssuerMetadata: an SD-JWT VC whose iss is an
// https URL is checked with the key its JWT VC Issuer Metadata publishes
// (/.well-known/jwt-vc-issuer inserted before iss's path), chosen by kid;
// a credential signed by another key, or bound to another holder, is
// refused.
func TestCheckSDJWTWithJWTVCIssuerMetadata(t *testing.T) {
	issuerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubJWK, _ := jwk.FromRaw(issuerKey.Public())
	pubJWK.Set(jwk.KeyIDKey, "key-1")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	iss := srv.URL + "/tenants/acme"
	mux.HandleFunc("/.well-known/jwt-vc-issuer/tenants/acme", func(w http.ResponseWriter, r *http.Request) {
		set, _ := json.Marshal(map[string]any{"issuer": iss, "jwks": map[string]any{"keys": []any{pubJWK}}})
		w.Write(set)
	})
	holderSigner, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	holderPub, _ := jwk.FromRaw(holderSigner.Public())
	raw, _ := json.Marshal(holderPub)
	did := "did:jwk:" + base64.RawURLEncoding.EncodeToString(raw)
	holderKey, err := credentials.NewKey(holderSigner, did)
	if err != nil {
		t.Fatal(err)
	}
	sdjwt := func(signer *ecdsa.PrivateKey, bound jwk.Key) string {
		payload, _ := json.Marshal(map[string]any{"iss": iss, "vct": "https://credentials.example/voucher", "iat": time.Now().Unix(),
			"cnf": map[string]any{"jwk": bound}, "_sd_alg": "sha-256", "voucher": "rice"})
		h := jws.NewHeaders()
		h.Set(jws.TypeKey, "dc+sd-jwt")
		h.Set(jws.KeyIDKey, "key-1")
		signed, err := jws.Sign(payload, jws.WithKey(jwa.ES256, signer, jws.WithProtectedHeaders(h)))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed) + "~"
	}
	c := &oid4vci.Client{Fetch: fetch.New(fetch.Options{AllowLoopback: true}), Now: time.Now}
	got, err := c.Check(context.Background(), oid4vci.FormatSDJWTVC, sdjwt(issuerKey, holderPub), holderKey)
	if err != nil || !got.Verified || got.Issuer != iss || got.HolderKey != did+"#0" || got.Type != "https://credentials.example/voucher" {
		t.Fatalf("%+v %v", got, err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := c.Check(context.Background(), oid4vci.FormatSDJWTVC, sdjwt(other, holderPub), holderKey); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("another issuer key: %v", err)
	}
	otherPub, _ := jwk.FromRaw(other.Public())
	if _, err := c.Check(context.Background(), oid4vci.FormatSDJWTVC, sdjwt(issuerKey, otherPub), holderKey); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("another holder key: %v", err)
	}
	if _, err := c.Check(context.Background(), oid4vci.FormatJWTVCJSON, sdjwt(issuerKey, holderPub), holderKey); err == nil {
		t.Fatal("an SD-JWT VC was read as a VC-JWT")
	}
}
