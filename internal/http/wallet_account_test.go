package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/web"
)

// The wallet's account part (issue 8): the route walk's cases, the public
// doors of recovery and reset, the staff's reset codes, and the raw
// database file.

const backupPass = "river lantern cobalt pepper"

// restoreType is the multipart body restoreForm makes.
const restoreType = "multipart/form-data; boundary=tallyrestore"

func restoreForm(file, pass string) string {
	return "--tallyrestore\r\nContent-Disposition: form-data; name=\"passphrase\"\r\n\r\n" + pass +
		"\r\n--tallyrestore\r\nContent-Disposition: form-data; name=\"file\"; filename=\"backup.json\"\r\nContent-Type: application/json\r\n\r\n" + file +
		"\r\n--tallyrestore--\r\n"
}

func restoreJSON(file, pass string) string {
	p, _ := json.Marshal(pass)
	return `{"passphrase":` + string(p) + `,"file":` + file + `}`
}

// walletBackup is a backup of a new holder's wallet with one credential.
func (e *env) walletBackup() string {
	e.t.Helper()
	h := e.newHolder()
	e.addWalletCredential(h)
	w, err := e.holders.Wallet(e.asHolder(h).wallet)
	if err != nil {
		e.t.Fatal(err)
	}
	file, err := w.Backup(context.Background(), backupPass)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(file)
}

func backupForm(int) string {
	return "passphrase=river+lantern+cobalt+pepper&passphrase_again=river+lantern+cobalt+pepper"
}

func restoreFormFor(e *env, _ walletHolder) string { return restoreForm(e.walletBackup(), backupPass) }
func restoreJSONFor(e *env, _ walletHolder) string { return restoreJSON(e.walletBackup(), backupPass) }

func pinJSON(_ *env, h walletHolder) string {
	return `{"device_secret":"` + h.device + `","pin":"` + h.pin + `","new_pin":"730264"}`
}

func deleteJSON(_ *env, h walletHolder) string {
	return `{"device_secret":"` + h.device + `","pin":"` + h.pin + `"}`
}

var (
	pagePINBad = []badInput{
		{name: "PINs differ", contentType: formType, body: "pin=480915&new_pin=730264&new_pin_again=730265", status: http.StatusBadRequest},
		{name: "easy PIN", contentType: formType, body: "pin=480915&new_pin=123456&new_pin_again=123456", status: http.StatusBadRequest},
		{name: "same PIN", contentType: formType, body: "pin=480915&new_pin=480915&new_pin_again=480915", status: http.StatusBadRequest},
	}
	pageBackupBad = []badInput{
		{name: "weak passphrase", contentType: formType, body: "passphrase=short&passphrase_again=short", status: http.StatusBadRequest},
		{name: "passphrases differ", contentType: formType, body: "passphrase=river+lantern+cobalt+pepper&passphrase_again=river+lantern+cobalt", status: http.StatusBadRequest},
	}
	pageRestoreBad = []badInput{
		{name: "no file", contentType: restoreType, body: "--tallyrestore\r\nContent-Disposition: form-data; name=\"passphrase\"\r\n\r\nx\r\n--tallyrestore--\r\n", status: http.StatusBadRequest},
		{name: "not a backup", contentType: restoreType, body: restoreForm(`{"format":"other"}`, backupPass), status: http.StatusBadRequest},
		{name: "not multipart", contentType: formType, body: "passphrase=x", status: http.StatusBadRequest},
	}
	pageDeleteBad = []badInput{
		{name: "not confirmed", contentType: formType, body: "pin=480915", status: http.StatusBadRequest},
		{name: "no PIN", contentType: formType, body: "confirm=yes&pin=", status: http.StatusBadRequest},
	}
	apiPINBad = []badInput{
		{name: "no device secret", contentType: acctJSON, body: `{"pin":"480915","new_pin":"730264"}`, status: http.StatusBadRequest},
		{name: "easy PIN", contentType: acctJSON, body: `{"device_secret":"x","pin":"480915","new_pin":"123456"}`, status: http.StatusBadRequest},
		{name: "same PIN", contentType: acctJSON, body: `{"device_secret":"x","pin":"480915","new_pin":"480915"}`, status: http.StatusBadRequest},
		{name: "unknown field", contentType: acctJSON, body: `{"device_secret":"x","pin":"480915","new_pin":"730264","old":"1"}`, status: http.StatusBadRequest},
	}
	apiBackupBad = []badInput{
		{name: "weak passphrase", contentType: acctJSON, body: `{"passphrase":"short"}`, status: http.StatusBadRequest},
		{name: "no passphrase", contentType: acctJSON, body: `{}`, status: http.StatusBadRequest},
	}
	apiRestoreBad = []badInput{
		{name: "no file", contentType: acctJSON, body: `{"passphrase":"river lantern cobalt pepper"}`, status: http.StatusBadRequest},
		{name: "not a backup", contentType: acctJSON, body: `{"passphrase":"river lantern cobalt pepper","file":{"format":"x"}}`, status: http.StatusBadRequest},
		{name: "oversized parameters", contentType: acctJSON, body: `{"passphrase":"river lantern cobalt pepper","file":{"format":"tally-wallet-backup","v":1,"kdf":{"alg":"argon2id","t":1000,"m":4194304,"p":4,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},"cipher":"A256GCM","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}}`, status: http.StatusBadRequest},
	}
	apiDeleteBad = []badInput{
		{name: "no PIN", contentType: acctJSON, body: `{"device_secret":"x"}`, status: http.StatusBadRequest},
		{name: "no device secret", contentType: acctJSON, body: `{"pin":"480915"}`, status: http.StatusBadRequest},
	}
)

const acctJSON = "application/json"

// walletParam is the :wallet of the staff's reset route: a new holder's
// wallet number for each route walked.
func (e *env) walletParam(pattern string) string {
	if !strings.Contains(pattern, ":wallet") {
		return ""
	}
	return e.newHolder().id
}

// walletStaffCases are the staff's routes of the wallet/account part.
func walletStaffCases(e *env) map[string]routeCase {
	return map[string]routeCase{
		"GET /admin/wallets": {status: http.StatusOK},
		"POST /admin/wallets": {contentType: formType, status: http.StatusOK,
			good: func(int) string { return form("wallet", holder.FormatID(e.newHolder().id), "checked", "yes") },
			bad: []badInput{
				{name: "not checked", contentType: formType, body: form("wallet", "ABCDE-FGHIJ"), status: http.StatusBadRequest},
				{name: "malformed number", contentType: formType, body: form("wallet", "ABC", "checked", "yes"), status: http.StatusBadRequest},
				{name: "unknown wallet", contentType: formType, body: form("wallet", "ABCDE-FGHIJ", "checked", "yes"), status: http.StatusNotFound},
			}},
		"POST /api/v1/wallets/:wallet/reset": {status: http.StatusCreated},
	}
}

// TestWalletStaffResetAndHolderReset: registration staff give a reset
// code for the wallet number a holder reads out; the code is audited
// under a keyed hash, and opens the wallet again, once, with a new PIN
// and recovery code and no credential.
func TestWalletStaffResetAndHolderReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.newHolder()
	e.addWalletCredential(h)

	// Unknown and malformed numbers.
	res := e.do(http.MethodPost, "/api/v1/wallets/ABCDEFGHIJ/reset", "", "", e.asToken("demo", issuer.RoleRegistrar))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown wallet: %d", res.StatusCode)
	}
	res = e.do(http.MethodPost, "/api/v1/wallets/ABC/reset", "", "", e.asToken("demo", issuer.RoleRegistrar))
	if code, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || code != "invalid" || len(fields) != 1 || fields[0] != "wallet" {
		t.Fatalf("malformed wallet number: %d %s %v", res.StatusCode, code, fields)
	}

	res = e.do(http.MethodPost, "/admin/wallets", formType, form("wallet", strings.ToLower(holder.FormatID(h.id)), "checked", "yes"), e.asStaff("other", issuer.RoleSupervisor))
	page := readBody(t, res)
	m := regexp.MustCompile(`class="secret reset-code" dir="ltr">([A-Z2-7-]+)<`).FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("%d: no reset code shown: %.500s", res.StatusCode, page)
	}
	code := m[1]
	found := false
	if err := e.auditLog.Entries(ctx, func(en audit.Entry) error {
		if en.Action == audit.ActionWalletReset {
			found = true
			if en.Org != "other" || len(en.Objects) != 1 || en.Objects[0].Kind != audit.ObjectWallet || !strings.HasPrefix(en.Objects[0].ID, "hmac:") || strings.Contains(en.Objects[0].ID, h.id) {
				t.Errorf("audit entry %+v", en)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatal("the reset code is not in the audit log")
	}

	// The public door: bad input first, nothing changes.
	before := e.walletState(h)
	for name, body := range map[string]string{
		"malformed number": form("wallet", "AB", "code", code, "pin", "730264", "pin_again", "730264"),
		"no code":          form("wallet", h.id, "code", "", "pin", "730264", "pin_again", "730264"),
		"PINs differ":      form("wallet", h.id, "code", code, "pin", "730264", "pin_again", "730265"),
		"easy PIN":         form("wallet", h.id, "code", code, "pin", "111111", "pin_again", "111111"),
	} {
		res := e.do(http.MethodPost, "/wallet/reset", formType, body, who{})
		if page := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) {
			t.Fatalf("%s: %d", name, res.StatusCode)
		}
	}
	res = e.do(http.MethodPost, "/wallet/reset", formType, form("wallet", h.id, "code", "AAAA-BBBB-CCCC", "pin", "730264", "pin_again", "730264"), who{})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	if e.walletState(h) != before {
		t.Fatal("a refused reset changed the wallet")
	}
	res = e.do(http.MethodPost, "/wallet/reset", formType, form("wallet", holder.FormatID(h.id), "code", code, "pin", "730264", "pin_again", "730264"), who{})
	page = readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, holder.FormatID(h.id)) || !strings.Contains(page, "credentials again") {
		t.Fatalf("reset: %d %.500s", res.StatusCode, page)
	}
	var device, session string
	for _, c := range res.Cookies() {
		switch c.Name {
		case "tally_wd_" + h.id:
			device = c.Value
		case "tally_wallet":
			session = c.Value
		}
	}
	if device == "" || device == h.device || session == "" {
		t.Fatal("the reset gave this phone no new device secret or session")
	}
	w, err := e.holders.Wallet(session)
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := w.Credentials(ctx); len(cs) != 0 {
		t.Fatal("credentials survived a reset")
	}
	// Once only; the old phone is locked out.
	res = e.do(http.MethodPost, "/api/v1/wallet/reset", acctJSON, `{"wallet":"`+h.id+`","reset_code":"`+code+`","pin":"264730"}`, who{})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the reset code worked twice: %d", res.StatusCode)
	}
	if _, err := e.holders.SignIn(ctx, h.id, h.device, h.pin); err == nil {
		t.Fatal("the old phone still opens the wallet")
	}
	// The API twin, end to end.
	res = e.do(http.MethodPost, "/api/v1/wallets/"+h.id+"/reset", "", "", e.asToken("demo", issuer.RoleSupervisor))
	var given struct {
		ResetCode string `json:"reset_code"`
		Expires   string `json:"expires"`
	}
	if err := json.NewDecoder(res.Body).Decode(&given); err != nil || res.StatusCode != http.StatusCreated || given.Expires == "" {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	res = e.do(http.MethodPost, "/api/v1/wallet/reset", acctJSON, `{"wallet":"`+h.id+`","reset_code":"`+given.ResetCode+`","pin":"264730","lang":"ar"}`, who{})
	var opened struct{ Wallet, DeviceSecret, RecoveryCode, Token string }
	if err := json.NewDecoder(res.Body).Decode(&opened); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	// Public API bad input names its field.
	for name, tc := range map[string]struct{ body, field string }{
		"malformed number": {`{"wallet":"A","reset_code":"x","pin":"730264"}`, "wallet"},
		"no code":          {`{"wallet":"ABCDEFGHIJ","reset_code":"","pin":"730264"}`, "reset_code"},
		"easy PIN":         {`{"wallet":"ABCDEFGHIJ","reset_code":"x","pin":"123456"}`, "pin"},
		"unknown language": {`{"wallet":"ABCDEFGHIJ","reset_code":"x","pin":"730264","lang":"xx"}`, "lang"},
	} {
		res := e.do(http.MethodPost, "/api/v1/wallet/reset", acctJSON, tc.body, who{})
		if _, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || len(fields) != 1 || fields[0] != tc.field {
			t.Fatalf("%s: %d %v", name, res.StatusCode, fields)
		}
	}
}

// TestWalletRecoverDoors: the recovery code brings a wallet to a new
// phone (page and API), with every credential; bad input names its field
// and changes nothing; too many tries from one client are refused before
// any key is derived.
func TestWalletRecoverDoors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.holders.Open(ctx, walletPIN, "fr")
	if err != nil {
		t.Fatal(err)
	}
	h := walletHolder{id: o.ID, device: o.DeviceSecret, pin: walletPIN}
	cred := e.addWalletCredential(h)

	before := e.walletState(h)
	for name, tc := range map[string]struct{ body, field string }{
		"malformed number": {`{"wallet":"A","recovery_code":"x","pin":"730264"}`, "wallet"},
		"no code":          {`{"wallet":"` + h.id + `","recovery_code":"--","pin":"730264"}`, "recovery_code"},
		"easy PIN":         {`{"wallet":"` + h.id + `","recovery_code":"x","pin":"000000"}`, "pin"},
		"not JSON":         {`wallet=x`, "body"},
	} {
		res := e.do(http.MethodPost, "/api/v1/wallet/recover", acctJSON, tc.body, who{})
		if _, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || len(fields) != 1 || fields[0] != tc.field {
			t.Fatalf("%s: %d %v", name, res.StatusCode, fields)
		}
	}
	res := e.do(http.MethodPost, "/wallet/recover", formType, form("wallet", h.id, "code", "AAAA-AAAA-AAAA-AAAA-AAAA", "pin", "730264", "pin_again", "730264"), who{})
	if page := readBody(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("wrong recovery code: %d", res.StatusCode)
	}
	if strings.Contains(e.logs.String(), o.RecoveryCode) {
		t.Fatal("the logs hold a recovery code")
	}
	_ = before

	res = e.do(http.MethodPost, "/wallet/recover", formType, form("wallet", strings.ToLower(holder.FormatID(h.id)), "code", strings.ToLower(o.RecoveryCode), "pin", "730264", "pin_again", "730264"), who{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("recover: %d %s", res.StatusCode, readBody(t, res))
	}
	var device, session string
	for _, c := range res.Cookies() {
		switch c.Name {
		case "tally_wd_" + h.id:
			device = c.Value
		case "tally_wallet":
			session = c.Value
		}
	}
	// The wallet speaks the holder's language, with every credential.
	res = e.do(http.MethodGet, "/wallet/", "", "", who{wallet: session})
	if page := readBody(t, res); !strings.Contains(page, `lang="fr"`) || !strings.Contains(page, walletMarker+h.id) {
		t.Fatalf("after recovery: %.400s", page)
	}
	if _, err := e.holders.SignIn(ctx, h.id, device, "730264"); err != nil {
		t.Fatal(err)
	}
	w, _ := e.holders.Wallet(session)
	if _, err := w.Credential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	// The API door.
	res = e.do(http.MethodPost, "/api/v1/wallet/recover", acctJSON, `{"wallet":"`+h.id+`","recovery_code":"`+o.RecoveryCode+`","pin":"264730"}`, who{})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("API recover: %d %s", res.StatusCode, readBody(t, res))
	}

	// The limit per client: attempts at unknown wallets cost no key, but
	// still count.
	limited := false
	for i := range 30 {
		res := e.do(http.MethodPost, "/api/v1/wallet/recover", acctJSON, `{"wallet":"AAAAAAAAA`+string(rune('A'+i%26))+`","recovery_code":"x","pin":"730264"}`, who{})
		if res.StatusCode == http.StatusTooManyRequests {
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("no limit on recovery attempts from one client")
	}
	res = e.do(http.MethodPost, "/wallet/reset", formType, form("wallet", h.id, "code", "AAAA", "pin", "730264", "pin_again", "730264"), who{})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the reset door is not limited with the recovery door: %d", res.StatusCode)
	}
}

// TestWalletSettingsLanguage: the language chosen in the settings is the
// language of every page of the holder's wallet.
func TestWalletSettingsLanguage(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	as := e.asHolder(h)
	res := e.do(http.MethodPost, "/wallet/settings/lang", formType, "lang=ar", as)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d", res.StatusCode)
	}
	for _, p := range []string{"/wallet/", "/wallet/settings", "/wallet/shares", "/wallet/settings/delete"} {
		page := readBody(t, e.do(http.MethodGet, p, "", "", as, "Accept-Language", "en"))
		if !strings.Contains(page, `lang="ar"`) || !strings.Contains(page, `dir="rtl"`) {
			t.Fatalf("%s is not in Arabic: %.300s", p, page)
		}
	}
}

// TestWalletSharesPage: the share log says who, when, for what, which
// claims by name (never their values) and the answer; empty, it says so.
func TestWalletSharesPage(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	as := e.asHolder(h)
	if page := readBody(t, e.do(http.MethodGet, "/wallet/shares", "", "", as)); !strings.Contains(page, "not shared anything yet") {
		t.Fatal("no empty state")
	}
	id := e.addWalletCredential(h)
	w, _ := e.holders.Wallet(as.wallet)
	if _, err := w.LogShare(context.Background(), holder.Share{VerifierName: "Dadaab Health Post", Purpose: "Clinic check-in", Credentials: []string{id}, Claims: []string{"fullName", "dateOfBirth"}, Mode: "oid4vp", Outcome: "accepted"}); err != nil {
		t.Fatal(err)
	}
	page := readBody(t, e.do(http.MethodGet, "/wallet/shares", "", "", as))
	// The claims by their names in words, the answer in words.
	for _, want := range []string{"Dadaab Health Post", "Clinic check-in", "Your full name", "Your date of birth", "Accepted", "Registration " + walletMarker} {
		if !strings.Contains(page, want) {
			t.Fatalf("the share log does not show %q", want)
		}
	}
	res := e.do(http.MethodGet, "/api/v1/wallet/shares", "", "", as)
	var got struct{ Shares []holder.Share }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || len(got.Shares) != 1 || got.Shares[0].Claims[1] != "dateOfBirth" {
		t.Fatalf("API share log: %+v %v", got, err)
	}
}

// TestWalletRawDatabase: after a holder opened a wallet on a wallet-only
// server, received Fatima's SD-JWT, shared it and changed the PIN, the
// raw database file holds none of her data, the credential, its issuer,
// the claim names or any of the holder's secrets.
func TestWalletRawDatabase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wallet.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := bolt.NewHolderStore(db)
	if err != nil {
		t.Fatal(err)
	}
	fast := holder.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	holders, err := holder.New(st, holder.Options{KDF: fast, BackupKDF: fast})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, Parts: tallyhttp.PartWallet, Holders: holders})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	call := func(method, p, body, token string) *http.Response {
		req, _ := http.NewRequest(method, ts.URL+p, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", acctJSON)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	res := call(http.MethodPost, "/api/v1/wallet/holders", `{"pin":"480915","lang":"so"}`, "")
	var o struct {
		Wallet       string `json:"wallet"`
		DeviceSecret string `json:"device_secret"`
		RecoveryCode string `json:"recovery_code"`
		Token        string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&o); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	w, err := holders.Wallet(o.Token)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := w.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: e.staffID["demo/registrar"]}
	out, err := e.svc.Issue(ctx, by, "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatSDJWT, Holder: hk.Public})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := credentials.ParseSDJWT([]byte(out.Credential))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := w.AddCredential(ctx, holder.Credential{Format: "dc+sd-jwt", Raw: out.Credential, Issuer: sd.Issuer(), IssuerName: "Demo", Type: sd.VCT(), Name: "Registration", HolderKey: hk.ID, Source: "oid4vci"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.LogShare(ctx, holder.Share{Verifier: "x509_san_dns:clinic.example", VerifierName: "Clinic", Purpose: "check-in", Credentials: []string{kept.ID}, Claims: []string{"fullName", "dateOfBirth"}, Mode: "oid4vp", Outcome: "accepted"}); err != nil {
		t.Fatal(err)
	}
	res = call(http.MethodPut, "/api/v1/wallet/pin", `{"device_secret":"`+o.DeviceSecret+`","pin":"480915","new_pin":"730264"}`, o.Token)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PIN change: %d", res.StatusCode)
	}
	res = call(http.MethodGet, "/api/v1/wallet/credentials", "", o.Token)
	if body, _ := readAll(res); !strings.Contains(body, "Fatima") && !strings.Contains(body, out.Credential[:30]) {
		t.Fatalf("the holder does not read their credential back: %.200s", body)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file is the wallet's: its accounts are there, by number.
	if !bytes.Contains(raw, []byte(o.Wallet)) {
		t.Fatal("the wallet's account is not in the file read")
	}
	jwtParts := strings.Split(out.Credential, ".")
	for what, s := range map[string]string{
		"full name": "Fatima", "surname": "Hassan", "birth date": "1991-03-14", "ID number": "KE-DAD-2026-000123",
		"credential header": jwtParts[0], "credential text": out.Credential[len(out.Credential)/2 : len(out.Credential)/2+40],
		"issuer DID": sd.Issuer(), "claim name": "dateOfBirth", "claim name fullName": "fullName", "verifier": "clinic.example",
		"old PIN": "480915", "new PIN": "730264", "device secret": o.DeviceSecret, "recovery code": o.RecoveryCode,
		"recovery code ungrouped": strings.ReplaceAll(o.RecoveryCode, "-", ""), "holder DID": hk.DID, "session": o.Token,
	} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the raw database file holds the %s", what)
		}
	}
}

func readAll(res *http.Response) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(res.Body)
	return b.String(), err
}

// TestWalletResetCodeOnce: a reset code opens the wallet once, even when
// many phones try it at the same time.
func TestWalletResetCodeOnce(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	code, err := e.holders.IssueReset(context.Background(), h.id)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	statuses := make(chan int, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v1/wallet/reset", strings.NewReader(`{"wallet":"`+h.id+`","reset_code":"`+code+`","pin":"730264"}`))
			req.Header.Set("Content-Type", acctJSON)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	won := 0
	for range n {
		switch s := <-statuses; s {
		case http.StatusCreated:
			won++
		case http.StatusUnauthorized:
		default:
			t.Errorf("status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("the reset code opened the wallet %d times", won)
	}
}

// TestWalletAccountPages: the doors' forms show; the plain export and
// deleting the wallet want the right PIN from the holder's phone, and a
// wrong one changes nothing but the count of wrong PINs.
func TestWalletAccountPages(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/wallet/recover", "/wallet/reset"} {
		res := e.do(http.MethodGet, p, "", "", who{})
		if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `action="/wallet/`) {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}
	page := readBody(t, e.do(http.MethodGet, "/wallet/signin", "", "", who{}))
	if !strings.Contains(page, `href="/wallet/recover"`) || !strings.Contains(page, `href="/wallet/reset"`) {
		t.Fatal("the sign-in page does not lead to recovery and reset")
	}
	h := e.newHolder()
	e.addWalletCredential(h)
	as := e.asHolder(h)
	phone := []string{"Cookie", "tally_wallet=" + as.wallet + "; tally_wd_" + h.id + "=" + h.device}
	res := e.do(http.MethodPost, "/wallet/settings/export", formType, "pin=999990", as, phone...)
	if body := readBody(t, res); res.StatusCode != http.StatusUnauthorized || strings.Contains(body, walletMarker) {
		t.Fatalf("export with a wrong PIN: %d", res.StatusCode)
	}
	// Without this phone's device secret, the PIN is not even tried.
	res = e.do(http.MethodPost, "/wallet/settings/export", formType, "pin="+h.pin, as)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("export from another phone: %d", res.StatusCode)
	}
	res = e.do(http.MethodPost, "/wallet/settings/export", formType, "pin="+h.pin, as, phone...)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, walletMarker+h.id) || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d", res.StatusCode)
	}
	res = e.do(http.MethodPost, "/wallet/settings/delete", formType, "confirm=yes&pin=999990", as, phone...)
	if res.StatusCode != http.StatusUnauthorized || e.walletState(h) == "gone" {
		t.Fatalf("delete with a wrong PIN: %d", res.StatusCode)
	}
	res = e.do(http.MethodPost, "/wallet/settings/delete", formType, "confirm=yes&pin="+h.pin, as, phone...)
	if res.StatusCode != http.StatusSeeOther || e.walletState(h) != "gone" {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	cleared := false
	for _, c := range res.Cookies() {
		cleared = cleared || c.Name == "tally_wd_"+h.id && c.MaxAge < 0
	}
	if !cleared {
		t.Fatal("the phone still keeps the deleted wallet's device secret")
	}
}

// TestWalletBackupLimited: each backup or restore derives a key at a
// backup's cost, so one holder gets a bounded number of them a window.
func TestWalletBackupLimited(t *testing.T) {
	e := newEnv(t)
	as := e.asHolder(e.newHolder())
	for i := range 30 {
		res := e.do(http.MethodPost, "/api/v1/wallet/backup", acctJSON, `{"passphrase":"river lantern cobalt pepper"}`, as)
		if res.StatusCode == http.StatusTooManyRequests {
			if i < 10 || res.Header.Get("Retry-After") == "" {
				t.Fatalf("limited after %d backups, Retry-After %q", i, res.Header.Get("Retry-After"))
			}
			// Another holder is not limited by this one.
			res = e.do(http.MethodPost, "/api/v1/wallet/backup", acctJSON, `{"passphrase":"river lantern cobalt pepper"}`, e.asHolder(e.newHolder()))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("another holder: %d", res.StatusCode)
			}
			return
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("backup %d: %d", i, res.StatusCode)
		}
	}
	t.Fatal("no limit on backups")
}
