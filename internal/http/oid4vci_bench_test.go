package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/web"
)

// BenchmarkOfferToCredential measures the server's time for one wallet
// credential, from the registrar's offer to the credential response: the
// offer (API), its fetch, the token, the nonce and the credential, each
// served by the real handler on real bbolt. The wallet's own work (its
// proof's signature) is not counted. Target: ≤ 10 ms per credential.
func BenchmarkOfferToCredential(b *testing.B) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(b.TempDir(), bolt.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const base = "https://tally.example"
	svc, err := issuer.New(db.Stores(), issuer.Options{
		BaseURL: base, MasterKey: []byte("river lantern cobalt pepper"),
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, ScryptN: credentials.LowestScryptN,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := svc.CreateOrganisation(ctx, issuer.NewOrganisation{Slug: "demo", Name: "Demo", Host: "tally.example",
		Admin: issuer.NewStaff{Name: "Admin", Username: "admin"}}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateProgramme(ctx, issuer.SystemPrincipal("bench"), "demo", issuer.ProgrammeInput{Code: "MPCA-2026", Name: "Cash",
		Languages: []string{"en"}, RetentionMonths: 24, CredentialTypes: []string{"registration"}, Purpose: "Cash."}); err != nil {
		b.Fatal(err)
	}
	staff, _, err := svc.CreateStaff(ctx, issuer.Principal{}, "demo", issuer.NewStaff{Name: "Reg", Username: "reg", Role: issuer.RoleRegistrar})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := svc.Register(ctx, issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: staff.ID}, "demo",
		issuer.NewRegistration{Person: fatima(), Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		b.Fatal(err)
	}
	apiToken, _, err := svc.NewToken(ctx, "demo", issuer.RoleRegistrar, "")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: svc, Files: web.FS})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := jwk.FromRaw(key.Public())
	steps := map[string]time.Duration{}
	serve := func(method, path, contentType, body, token string, out any) {
		start := time.Now()
		defer func() {
			step := path
			if i := strings.LastIndex(path, "/"); i >= 0 {
				step = path[i+1:]
			}
			if strings.Contains(path, "/offers/") {
				step = "offer-fetch"
			}
			steps[step] += time.Since(start)
		}()
		req := httptest.NewRequest(method, base+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		var made offerMade
		serve(http.MethodPost, "/api/v1/orgs/demo/registrations/"+reg.ID+"/offers", "application/json", `{"type":"RegistrationCredential"}`, apiToken, &made)
		var offer walletOffer
		serve(http.MethodGet, strings.TrimPrefix(made.CredentialOfferURI, base), "", "", "", &offer)
		code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].PreAuthorizedCode
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}, "tx_code": {made.TxCode}}
		serve(http.MethodPost, "/orgs/demo/token", "application/x-www-form-urlencoded", form.Encode(), "", &tok)
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		serve(http.MethodPost, "/orgs/demo/nonce", "", "", "", &n)
		b.StopTimer()
		payload, _ := json.Marshal(map[string]any{"aud": base + "/orgs/demo", "iat": time.Now().Unix(), "nonce": n.CNonce})
		h := jws.NewHeaders()
		h.Set(jws.TypeKey, "openid4vci-proof+jwt")
		h.Set(jws.JWKKey, pub)
		proof, err := jws.Sign(payload, jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(h)))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"credential_configuration_id": "RegistrationCredential_dc+sd-jwt", "proofs": map[string]any{"jwt": []string{string(proof)}}})
		b.StartTimer()
		var out struct {
			Credentials []struct{ Credential string } `json:"credentials"`
		}
		serve(http.MethodPost, "/orgs/demo/credential", "application/json", string(body), tok.AccessToken, &out)
		if len(out.Credentials) != 1 {
			b.Fatal("no credential")
		}
	}
	for step, d := range steps {
		b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), step+"-ms/op")
	}
}
