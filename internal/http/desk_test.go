package http_test

// --- desk (issue 7): the scanning page, the answer, the settings and the
// JSON verify API.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/claim169test"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
	"github.com/tally-id/tally/web"
)

// otherCard registers Amina in organisation other and issues her a card:
// the route walk checks with it, so that other's staff see nothing of
// demo's.
func otherCard(e *env) string {
	ctx := context.Background()
	reg, err := e.svc.Register(ctx, issuer.Principal{Org: "other", Role: issuer.RoleRegistrar, StaffID: e.staffID["other/registrar"]}, "other",
		issuer.NewRegistration{Person: credentials.Registration{RegistrationID: "KE-KAK-2026-000777", FullName: "Amina Yusuf Ali", DateOfBirth: "1988-07-02",
			Gender: "female", Programme: "MPCA-2026"}, Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "other", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, "Amina", "1988-07-02", "KE-KAK-2026-000777")
	return out.Credential
}

// deskCases are the route walk's cases of the desk's routes.
func deskCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	card := otherCard(e)
	png, err := credentials.CardPNG(card, 400)
	if err != nil {
		e.t.Fatal(err)
	}
	verifyJSON := func(cred, sp, prog string) string {
		b, _ := json.Marshal(map[string]string{"credential": cred, "servicePoint": sp, "programme": prog})
		return string(b)
	}
	return map[string]routeCase{
		"GET /verify/": {status: http.StatusOK},
		// The answer names the card's issuer, whichever organisation
		// scans it.
		"POST /verify/check": {
			contentType: formType, status: http.StatusOK, instanceWide: true,
			good: func(int) string { return form("servicePoint", "Gate A", "programme", "MPCA-2026", "credential", card) },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"servicePoint"}, nil},
				{"no credential", formType, form("servicePoint", "Gate A"), http.StatusBadRequest, []string{"credential"}, nil},
				{"unknown programme", formType, form("servicePoint", "Gate A", "programme", "NOPE", "credential", card), http.StatusBadRequest, []string{"programme"}, nil},
				{"service point too long", formType, form("servicePoint", strings.Repeat("g", 65), "credential", card), http.StatusBadRequest, []string{"servicePoint"}, nil},
				{"credential too long", formType, form("servicePoint", "Gate A", "credential", strings.Repeat("A", verifier.MaxCredentialSize+1)), http.StatusBadRequest, []string{"credential"}, nil},
			},
		},
		"POST /verify/scan/frame": {contentType: "image/png", status: http.StatusOK, good: func(int) string { return string(png) }},
		"GET /verify/settings":    {status: http.StatusOK},
		"POST /verify/settings": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string { return form("servicePoints", fmt.Sprintf("Gate A\nPoint %d", n)) },
			bad: []badInput{
				{"a service point twice", formType, form("servicePoints", "Gate A\nGate A"), http.StatusBadRequest, []string{"servicePoints"}, nil},
				{"a service point too long", formType, form("servicePoints", strings.Repeat("g", 65)), http.StatusBadRequest, []string{"servicePoints"}, nil},
				{"unknown domain", formType, form("domain", "nowhere", "servicePoints", "Gate A"), http.StatusBadRequest, []string{"domain"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/verify": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return verifyJSON(card, "Gate A", "MPCA-2026") },
			bad: []badInput{
				{"not JSON", formType, form("credential", card), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"credential":"x","servicePoint":"Gate A","name":"Amina"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"servicePoint"}, nil},
				{"no credential", jsonType, verifyJSON("", "Gate A", ""), http.StatusBadRequest, []string{"credential"}, nil},
				{"unknown programme", jsonType, verifyJSON(card, "Gate A", "NOPE"), http.StatusBadRequest, []string{"programme"}, nil},
				{"credential too long", jsonType, verifyJSON(strings.Repeat("A", verifier.MaxCredentialSize+1), "Gate A", ""), http.StatusBadRequest, []string{"credential"}, nil},
				{"too large", jsonType, verifyJSON(strings.Repeat("A", 2<<20), "Gate A", ""), http.StatusRequestEntityTooLarge, nil, nil},
			},
		},
	}
}

// deskUpload is a multipart form with a file part "photo".
func deskUpload(t *testing.T, file []byte, kv ...string) (contentType, body string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := w.WriteField(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("photo", "card.jpg")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.String()
}

// demoCard issues Fatima a new card and returns its text and record id.
func (e *env) demoCard() (string, string) {
	out, err := e.svc.Issue(context.Background(), issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Credential, out.Record.ID
}

func blankPNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(10, 10, color.Black)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeskPasteNewThenSeen(t *testing.T) {
	e := newEnv(t)
	card, _ := e.demoCard()
	as := e.asStaff("demo", issuer.RoleVerifier)
	res := e.do("POST", "/verify/check", formType, form("servicePoint", "Gate A", "programme", "MPCA-2026", "credential", card), as)
	page := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Fatima Hassan Abdi") || !strings.Contains(page, "Born in 1991") ||
		!strings.Contains(page, "First time in this domain") || !strings.Contains(page, "answer-green") || !strings.Contains(page, "Status checked") {
		t.Fatalf("%d: %s", res.StatusCode, page)
	}
	for _, secret := range []string{"1991-03-14", "KE-DAD-2026-000123", "asylum", card[:30]} {
		if strings.Contains(page, secret) {
			t.Fatalf("the answer shows %q", secret)
		}
	}
	if !strings.Contains(page, "autofocus") {
		t.Fatal("the next-person button has no focus")
	}
	var remembered string
	for _, c := range res.Cookies() {
		if c.Name == "tally_desk" {
			remembered = c.Value
		}
	}
	if !strings.Contains(remembered, "Gate+A") || strings.Contains(remembered, "Fatima") {
		t.Fatalf("cookie %q", remembered)
	}
	// The scanning page picks the remembered service point and programme.
	res = e.do("GET", "/verify/", "", "", as, "Cookie", "tally_desk="+remembered+"; tally_session="+as.session)
	page = readBody(t, res)
	if !strings.Contains(page, `value="Gate A"`) || !strings.Contains(page, `value="MPCA-2026" selected`) {
		t.Fatalf("the choice is not remembered: %s", page)
	}
	res = e.do("POST", "/verify/check", formType, form("servicePoint", "Clinic", "credential", card), as)
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "answer-amber") || !strings.Contains(page, "Already seen once") ||
		!strings.Contains(page, "at \u2068Gate A\u2069, for programme \u2068MPCA-2026\u2069") {
		t.Fatalf("%d: %s", res.StatusCode, page)
	}
	// The first scan made demo's own domain: the settings page says so.
	res = e.do("GET", "/verify/settings", "", "", e.asStaff("demo", issuer.RoleSupervisor))
	if page := readBody(t, res); !strings.Contains(page, "the first scan made it") {
		t.Fatalf("settings: %s", page)
	}
}

func TestDeskRevokedAndInvalid(t *testing.T) {
	e := newEnv(t)
	card, id := e.demoCard()
	if _, err := e.svc.Revoke(context.Background(), issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: e.staffID["demo/supervisor"]}, "demo", id); err != nil {
		t.Fatal(err)
	}
	as := e.asStaff("demo", issuer.RoleVerifier)
	for name, tc := range map[string]struct{ cred, want string }{
		"revoked":  {card, "The issuer has cancelled this card."},
		"garbage":  {"HELLO WORLD", "This is not a card tally can read"},
		"tampered": {card[:len(card)-4] + "AAAA", "Not accepted"},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("POST", "/verify/check", formType, form("servicePoint", "Gate A", "credential", tc.cred), as)
			page := readBody(t, res)
			if res.StatusCode != 200 || !strings.Contains(page, "answer-red") || !strings.Contains(page, tc.want) || strings.Contains(page, "Fatima") {
				t.Fatalf("%d: %s", res.StatusCode, page)
			}
		})
	}
	// Nothing invalid was counted.
	l, err := e.registry.Export(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rows) != 0 {
		t.Fatalf("invalid credentials were recorded: %v", l.Rows)
	}
}

func TestDeskPhotoAndPDF(t *testing.T) {
	e := newEnv(t)
	registrar := e.asStaff("demo", issuer.RoleRegistrar)
	as := e.asStaff("demo", issuer.RoleVerifier)
	for i, kind := range []string{"card.png", "card.pdf"} {
		res := e.do("GET", "/issuer/credentials/"+e.credID+"/"+kind, "", "", registrar)
		file := []byte(readBody(t, res))
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", kind, res.StatusCode)
		}
		ct, body := deskUpload(t, file, "servicePoint", "Gate A")
		res = e.do("POST", "/verify/check", ct, body, as)
		page := readBody(t, res)
		want := "First time in this domain"
		if i > 0 {
			want = "Already seen once"
		}
		if res.StatusCode != 200 || !strings.Contains(page, "Fatima Hassan Abdi") || !strings.Contains(page, want) {
			t.Fatalf("%s: %d: %s", kind, res.StatusCode, page)
		}
	}
}

func TestDeskUploadBadInput(t *testing.T) {
	e := newEnv(t)
	as := e.asStaff("demo", issuer.RoleVerifier)
	for name, tc := range map[string]struct {
		file   []byte
		status int
		field  string
		words  string
	}{
		"not a QR":      {blankPNG(t), 422, "photo", "No QR code could be read"},
		"garbage image": {append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 500)...), 422, "photo", "damaged"},
		"not an image":  {[]byte("just some text, not an image at all"), 422, "photo", "is not a photo"},
		"empty file":    {[]byte{}, 400, "credential", "Scan the card"},
	} {
		t.Run(name, func(t *testing.T) {
			ct, body := deskUpload(t, tc.file, "servicePoint", "Gate A")
			res := e.do("POST", "/verify/check", ct, body, as)
			page := readBody(t, res)
			if res.StatusCode != tc.status || !strings.Contains(page, `id="`+tc.field+`-error"`) || !strings.Contains(page, tc.words) || !strings.Contains(page, `role="alert"`) {
				t.Fatalf("%d: %s", res.StatusCode, page)
			}
		})
	}
	t.Run("oversized", func(t *testing.T) {
		ct, body := deskUpload(t, bytes.Repeat([]byte{1}, 9<<20), "servicePoint", "Gate A")
		if res := e.do("POST", "/verify/check", ct, body, as); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d", res.StatusCode)
		}
	})
}

func TestDeskFrame(t *testing.T) {
	e := newEnv(t)
	card, _ := e.demoCard()
	png, err := credentials.CardPNG(card, 400)
	if err != nil {
		t.Fatal(err)
	}
	as := e.asStaff("demo", issuer.RoleVerifier)
	res := e.do("POST", "/verify/scan/frame", "image/png", string(png), as)
	var got struct{ Text string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 || got.Text != card {
		t.Fatalf("%d %v: %q", res.StatusCode, err, got.Text)
	}
	for name, tc := range map[string]struct {
		body   string
		status int
	}{
		"no code":   {string(blankPNG(t)), 422},
		"garbage":   {"\xff\xd8\xff garbage", 422},
		"empty":     {"", 400},
		"oversized": {strings.Repeat("x", 3<<20), 413},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("POST", "/verify/scan/frame", "image/jpeg", tc.body, as)
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d", res.StatusCode, tc.status)
			}
			if tc.status == 422 {
				if _, fields := apiErr(t, res); len(fields) != 1 || fields[0] != "photo" {
					t.Fatalf("fields %v", fields)
				}
			}
		})
	}
}

func TestDeskAPI(t *testing.T) {
	e := newEnv(t)
	card, _ := e.demoCard()
	body, _ := json.Marshal(map[string]string{"credential": card, "servicePoint": "Gate A", "programme": "MPCA-2026"})
	for i, want := range []bool{true, false} {
		res := e.do("POST", "/api/v1/orgs/demo/verify", "application/json", string(body), e.asToken("demo", issuer.RoleVerifier))
		raw := readBody(t, res)
		var a servicepoint.Answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %v: %s", res.StatusCode, err, raw)
		}
		if a.Person == nil || a.Person.FullName != "Fatima Hassan Abdi" || a.Person.BirthYear != 1991 || a.Dedup == nil || a.Dedup.New != want ||
			a.Type != "RegistrationCredential" || a.IssuerName != "Organisation demo" || a.Status == nil || !a.Status.Checked {
			t.Fatalf("scan %d: %s", i, raw)
		}
		if i == 1 && (a.Verdict != servicepoint.Warning || a.Dedup.SeenBefore != 1 || a.Dedup.FirstServicePoint != "Gate A") {
			t.Fatalf("seen before: %s", raw)
		}
		for _, secret := range []string{"1991-03-14", "KE-DAD", "dedupSeed", "token"} {
			if strings.Contains(raw, secret) {
				t.Fatalf("the answer holds %q: %s", secret, raw)
			}
		}
	}
}

// claim169Issuer is the issuer of the idpass/claim-169 project's public
// test vector, and the vector's card.
func claim169Issuer(t *testing.T) (*verifier.TrustedIssuer, string) {
	qr, iss := claim169test.Vector(t)
	return iss, qr
}

// TestDeskForeign: a Claim 169 card of another issuer, trusted by the
// verifier, is answered with its claims as a table and no dedup.
func TestDeskForeign(t *testing.T) {
	e := newEnv(t)
	iss, card := claim169Issuer(t)
	ctx := context.Background()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC) // the vector's card expires in 2027
	trust, err := trustsync.New(ctx, trustsync.Options{
		Local: func(ctx context.Context) ([]*verifier.TrustedIssuer, error) {
			own, err := e.svc.TrustedIssuers(ctx)
			return append(own, iss), err
		},
		Verifier: verifier.Options{Now: func() time.Time { return at }},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.NewServicePointStore(e.db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := servicepoint.New(trust, e.registry, st, servicepoint.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, Trust: trust, Registry: e.registry, ServicePoints: sp,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/verify/check", strings.NewReader(form("servicePoint", "Gate A", "credential", card)))
	req.Header.Set("Content-Type", formType)
	req.AddCookie(&http.Cookie{Name: "tally_session", Value: e.session["demo/verifier"]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Signed Test Person") || !strings.Contains(page, "What the card says") ||
		!strings.Contains(page, "MOSIP example") || !strings.Contains(page, "no dedup seed") || !strings.Contains(page, "Identity card (Claim 169)") {
		t.Fatalf("%d: %s", res.StatusCode, page)
	}
}

// TestDeskNotWired: without the verifier service, the desk's routes are
// not found.
func TestDeskNotWired(t *testing.T) {
	e := newEnv(t)
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/verify/", nil)
	req.AddCookie(&http.Cookie{Name: "tally_session", Value: e.session["demo/verifier"]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("%d, want 404", res.StatusCode)
	}
}
