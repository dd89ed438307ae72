package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/fetch"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/referral"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
	"github.com/tally-id/tally/web"
	"go.etcd.io/bbolt"
)

// syncBuffer collects the server's logs, written from request goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a server on real bbolt with two organisations: demo, with a staff
// member and an API token of every role, and other, with an
// administrator.
type env struct {
	t       *testing.T
	db      *bolt.DB
	srv     *tallyhttp.Server
	ts      *httptest.Server
	svc     *issuer.Service
	logs    *syncBuffer
	session map[string]string // "org/role" → session id
	token   map[string]string // "org/role" → API token
	staffID map[string]string // "org/role" → staff member's id
	secrets []string          // what must never reach the logs
	// regID is the internal id of Fatima's registration in demo.
	regID string
	// credID and revokeID are cards issued from it.
	credID, revokeID string
	// importID is a done import of demo's, of two people.
	importID string
	// trust and registry are the verifier service's: the verifier trusts
	// the instance's two organisations; the registry has no domain yet.
	trust    *trustsync.Service
	registry *registry.Service
	// vpTx is an OpenID4VP request of demo's (oid4vp_routes_test.go).
	vpTx string
	// referrals (issue 7): both sides, on bbolt; tests deliver the
	// outbox with DeliverDue. auditLog is the instance's audit log.
	referrals *referral.Service
	auditLog  *audit.Log
	auditFail *atomic.Bool // review8: true makes every audit entry fail
	// desk (issue 7): the service points.
	desk *servicepoint.Service
	// holders is the wallet (issue 8), with a low argon2id cost;
	// holderStore its store, read raw by the tests.
	holders     *holder.Service
	holderStore *bolt.HolderStore
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ts := httptest.NewUnstartedServer(nil)
	di, err := dataintegrity.New(dataintegrity.Options{})
	auditStore, err := bolt.NewAuditStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	// review8: the audit log can be made to fail (e.auditFail), to see
	// what a failing entry leaves behind.
	failing := &failingAuditStore{Store: auditStore}
	auditLog := audit.NewLog(failing, audit.Options{Programmes: db})
	svc, err := issuer.New(db.Stores(), issuer.Options{
		Audit:     auditLog,
		BaseURL:   "http://" + ts.Listener.Addr().String(),
		MasterKey: []byte("river lantern cobalt pepper"),
		Password:  issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		ScryptN:   credentials.LowestScryptN, DataIntegrity: di,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, svc: svc, logs: &syncBuffer{}, session: map[string]string{}, token: map[string]string{}, staffID: map[string]string{}}
	for _, org := range []string{"demo", "other"} {
		_, _, pw, err := svc.CreateOrganisation(ctx, issuer.NewOrganisation{
			Slug: org, Name: "Organisation " + org, Host: "tally.example",
			Admin: issuer.NewStaff{Name: "Amira Admin " + org, Username: "admin-" + org},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.signIn(org, issuer.RoleAdmin, "admin-"+org, pw)
		e.secrets = append(e.secrets, pw, "Amira Admin "+org, "admin-"+org)
		for _, role := range issuer.AllRoles() {
			if role != issuer.RoleAdmin {
				username := org + "-" + string(role)
				st, pw, err := svc.CreateStaff(ctx, issuer.SystemPrincipal("test"), org, issuer.NewStaff{Name: "Staff " + username, Username: username, Role: role})
				if err != nil {
					t.Fatal(err)
				}
				e.signIn(org, role, st.Username, pw)
				e.staffID[org+"/"+string(role)] = st.ID
				e.secrets = append(e.secrets, pw, "Staff "+username, username)
			}
			tok, _, err := svc.NewToken(ctx, org, role, "")
			if err != nil {
				t.Fatal(err)
			}
			e.token[org+"/"+string(role)] = tok
			e.secrets = append(e.secrets, tok)
		}
	}
	for _, org := range []string{"demo", "other"} {
		if _, err := svc.CreateProgramme(ctx, issuer.SystemPrincipal("test"), org, issuer.ProgrammeInput{
			Code: "MPCA-2026", Name: "Cash " + org, Languages: []string{"en", "so", "ar"}, RetentionMonths: 24,
			CredentialTypes: []string{"registration"}, Purpose: "Monthly cash in 2026.",
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Each organisation's data key is made now, not by the first request
	// that needs it, so that what requests change is theirs alone.
	if err := svc.OpenDataKeys(ctx); err != nil {
		t.Fatal(err)
	}
	reg, err := svc.Register(ctx, issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: e.staffID["demo/registrar"]}, "demo",
		issuer.NewRegistration{Person: fatima(), Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		t.Fatal(err)
	}
	e.regID = reg.ID
	// Two cards of Fatima's: credID for the routes that suspend and
	// reinstate, revokeID for the one that revokes.
	for _, id := range []*string{&e.credID, &e.revokeID} {
		out, err := svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
		if err != nil {
			t.Fatal(err)
		}
		*id = out.Record.ID
	}
	e.secrets = append(e.secrets, "Fatima", "Hassan", "1991-03-14", "KE-DAD-2026-000123", "asylum-seeker")
	im := e.importDone(ctx)
	regStore, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if e.registry, err = registry.New(regStore.Stores(), registry.Options{MasterKey: []byte("river lantern cobalt pepper"), ScryptN: credentials.LowestScryptN}); err != nil {
		t.Fatal(err)
	}
	// trust: the verifier keeps its anchors, lists and status lists in the
	// database, and reads the instance's own status lists in-process.
	trustStore, err := bolt.NewTrustStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if e.trust, err = trustsync.New(ctx, trustsync.Options{Local: svc.TrustedIssuers, LocalStatus: svc.LocalStatusList, LocalStatusGeneration: svc.StatusGeneration, Stores: trustStore.Stores(),
		Verifier: verifier.Options{Formats: []verifier.FormatParser{di}}}); err != nil {
		t.Fatal(err)
	}
	e.auditLog = auditLog
	e.auditFail = &failing.fail
	if e.referrals, err = newReferrals(db, svc, e.trust, auditLog); err != nil { // referrals (issue 7)
		t.Fatal(err)
	}
	// oid4vp: the OpenID4VP presentation requests.
	presentations, err := bolt.NewPresentationStore(db)
	if err != nil {
		t.Fatal(err)
	}
	// desk (issue 7): the service points.
	spStore, err := bolt.NewServicePointStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if e.desk, err = servicepoint.New(e.trust, e.registry, spStore, servicepoint.Options{Now: svc.Now, Nonces: spStore}); err != nil {
		t.Fatal(err)
	}
	// the wallet (issue 8)
	if e.holderStore, err = bolt.NewHolderStore(db); err != nil {
		t.Fatal(err)
	}
	if e.holders, err = holder.New(e.holderStore, holder.Options{Now: svc.Now, KDF: holder.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, BackupKDF: holder.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	e.srv, err = tallyhttp.New(tallyhttp.Options{
		Issuer: svc, Ready: db.Ping, Files: web.FS, Importer: im, Trust: e.trust, Registry: e.registry, Presentations: presentations, Referrals: e.referrals, ServicePoints: e.desk,
		Holders: e.holders, Fetch: fetch.New(fetch.Options{AllowLoopback: true}),
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = e.srv
	ts.Start()
	e.ts = ts
	t.Cleanup(e.ts.Close)
	t.Cleanup(func() {
		logs := e.logs.String()
		for _, s := range e.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold %q", s)
			}
		}
	})
	return e
}

func (e *env) signIn(org string, role issuer.Role, username, password string) {
	id, p, err := e.svc.SignIn(context.Background(), username, password)
	if err != nil {
		e.t.Fatal(err)
	}
	// A one-time password is changed first, as at a real first sign-in.
	if err := e.svc.ChangePassword(context.Background(), p, id, issuer.PasswordChange{Current: password, New: ownPassword(username)}); err != nil {
		e.t.Fatal(err)
	}
	e.session[org+"/"+string(role)] = id
	e.secrets = append(e.secrets, id, ownPassword(username))
}

// who says how a request authenticates.
type who struct {
	session, token string
	// wallet is a holder's wallet session, sent as the web wallet's
	// cookie (issue 8).
	wallet string
}

func (e *env) asStaff(org string, role issuer.Role) who {
	return who{session: e.session[org+"/"+string(role)]}
}
func (e *env) asToken(org string, role issuer.Role) who {
	return who{token: e.token[org+"/"+string(role)]}
}

// do sends a request without following redirects.
func (e *env) do(method, path, contentType, body string, as who, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if as.session != "" {
		req.AddCookie(&http.Cookie{Name: "tally_session", Value: as.session})
	}
	if as.token != "" {
		req.Header.Set("Authorization", "Bearer "+as.token)
	}
	if as.wallet != "" {
		req.AddCookie(&http.Cookie{Name: "tally_wallet", Value: as.wallet})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// apiErr decodes an API error body.
func apiErr(t *testing.T, res *http.Response) (code string, fields []string) {
	t.Helper()
	var body struct {
		Error struct {
			Status  int
			Code    string
			Message string
			Fields  []issuer.FieldError
		}
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error of type %q, not JSON", ct)
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Status != res.StatusCode || body.Error.Message == "" {
		t.Fatalf("error body %+v for status %d", body.Error, res.StatusCode)
	}
	for _, f := range body.Error.Fields {
		fields = append(fields, f.Field)
	}
	return body.Error.Code, fields
}

func (e *env) staffCount(org string) int {
	list, err := e.svc.ListStaff(context.Background(), org)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// state is a fingerprint of an organisation's staff, programmes and
// registrations (with their index entries): equal before and after, and
// nothing of the organisation changed.
func (e *env) state(org string) string {
	ctx := context.Background()
	h := sha256.New()
	staff, err := e.svc.ListStaff(ctx, org)
	if err != nil {
		e.t.Fatal(err)
	}
	progs, err := e.svc.Programmes(ctx, org)
	if err != nil {
		e.t.Fatal(err)
	}
	json.NewEncoder(h).Encode([]any{staff, progs})
	err = e.db.Bolt().View(func(tx *bbolt.Tx) error {
		for _, bucket := range []string{"registrations", "registration_index", "data_keys", "credentials", "credentials_by_registration", "status_bits"} {
			c := tx.Bucket([]byte(bucket)).Cursor()
			prefix := []byte(org + "\x00")
			if bucket == "data_keys" {
				prefix = []byte(org)
			}
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				h.Write(k)
				h.Write(v)
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fatima is the sample registration (../shared/samples/registration.json).
func fatima() credentials.Registration {
	return credentials.Registration{
		RegistrationID: "KE-DAD-2026-000123", FullName: "Fatima Hassan Abdi", FirstName: "Fatima", LastName: "Abdi",
		DateOfBirth: "1991-03-14", Gender: "female", Nationality: "SO", LegalStatus: "asylum-seeker",
		LocationCode: "KE-DADAAB-HSP1", Language: "som", Programme: "MPCA-2026",
	}
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formType = "application/x-www-form-urlencoded"

var _ = time.Second

// ownPassword is the password a test staff member chooses in place of
// their one-time password.
func ownPassword(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "lantern orbit meadow " + hex.EncodeToString(sum[:4])
}
