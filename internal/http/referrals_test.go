package http_test

// Referrals (issue 7): the full loop between the test env's two
// organisations, forged and replayed feedback, the outbox's retries and
// restarts, and the route-walk cases.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/referral"
	"github.com/tally-id/tally/verifier/trustsync"
)

// newReferrals is the env's referral service on its database: feedback
// may go to loopback http, retries come after a millisecond.
func newReferrals(db *bolt.DB, svc *issuer.Service, trust *trustsync.Service, log *audit.Log) (*referral.Service, error) {
	st, err := bolt.NewReferralStore(db.Bolt())
	if err != nil {
		return nil, err
	}
	o := tallyhttp.ReferralOptions(svc, trust, true)
	o.Store, o.Outbox, o.Sent, o.Audit, o.Now = st, st, st, log, svc.Now
	o.MinRetry, o.MaxRetry = time.Millisecond, 4*time.Millisecond
	return referral.New(o)
}

// refFixtures holds, per env, what the referral tests share.
var refFixtures sync.Map

type refFixture struct {
	// otherReg is a person registered in other, and otherRegJWT their
	// registration credential; received is a referral of theirs from
	// other to demo, recorded by demo.
	otherReg, otherRegJWT, received string
}

// orgDID is an organisation's DID.
func (e *env) orgDID(slug string) string {
	o, err := e.svc.Organisation(context.Background(), slug)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.DID
}

// allowReferrals lets an organisation's MPCA-2026 programme issue referrals.
func (e *env) allowReferrals(org string) {
	ctx := context.Background()
	in := issuer.ProgrammeInput{Code: "MPCA-2026", Name: "Cash " + org, Languages: []string{"en", "so", "ar"}, RetentionMonths: 24,
		CredentialTypes: []string{"registration", "referral"}, Purpose: "Monthly cash in 2026."}
	if _, err := e.svc.UpdateProgramme(ctx, issuer.SystemPrincipal("test"), org, "MPCA-2026", in); err != nil {
		e.t.Fatal(err)
	}
}

// issueReferral issues a VC-JWT referral of registration regID of org to
// the organisation whose DID is to, passing on the full name.
func (e *env) issueReferral(org, regID, to string) (id, jwt string) {
	out, err := e.svc.Issue(context.Background(), issuer.SystemPrincipal("test"), org, regID, issuer.IssueInput{
		Type: credentials.TypeReferral, Format: credentials.FormatJWT,
		Referral: &issuer.ReferralInput{ReferredTo: to, Service: "primary-health-care", Urgency: "high",
			Consent: issuer.ReferralConsent{Given: true, Purpose: "health care", Method: "verbal", Fields: []string{"fullName"}}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.reloadTrust()
	return out.Record.ID, out.Credential
}

// reloadTrust rebuilds the verifier: the route walk rotates keys, and
// nothing reloads it after a rotation yet.
func (e *env) reloadTrust() {
	if err := e.trust.Reload(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// registrationJWT issues a VC-JWT registration credential.
func (e *env) registrationJWT(org, regID string) string {
	out, err := e.svc.Issue(context.Background(), issuer.SystemPrincipal("test"), org, regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatJWT})
	if err != nil {
		e.t.Fatal(err)
	}
	e.reloadTrust()
	return out.Credential
}

// refFix makes the env's shared referral fixture once.
func (e *env) refFix() *refFixture {
	if f, ok := refFixtures.Load(e); ok {
		return f.(*refFixture)
	}
	ctx := context.Background()
	e.allowReferrals("other")
	reg, err := e.svc.Register(ctx, issuer.Principal{Org: "other", Role: issuer.RoleRegistrar, StaffID: e.staffID["other/registrar"]}, "other",
		issuer.NewRegistration{Person: credentials.Registration{FullName: "Ayaan Nuur Farah", DateOfBirth: "1988-09-21", Programme: "MPCA-2026"},
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, "Ayaan", "Nuur", "1988-09-21")
	f := &refFixture{otherReg: reg.ID, otherRegJWT: e.registrationJWT("other", reg.ID)}
	_, ref := e.issueReferral("other", reg.ID, e.orgDID("demo"))
	p, err := referral.Check(ctx, e.trust.Verifier(), "demo", e.orgDID("demo"), []byte(ref), []byte(f.otherRegJWT))
	if err != nil {
		e.t.Fatal(err)
	}
	rec, _, err := e.referrals.Receive(ctx, audit.Staff(e.staffID["demo/verifier"]), p)
	if err != nil {
		e.t.Fatal(err)
	}
	f.received = rec.ID
	refFixtures.Store(e, f)
	return f
}

// receivedReferralID is the referral demo received, for the route walk.
func (e *env) receivedReferralID() string { return e.refFix().received }

// presentJSON is the body of a referral presented to the API.
func presentJSON(ref, reg string) string {
	b, _ := json.Marshal(map[string]string{"referral": ref, "registration": reg})
	return string(b)
}

// referralCases are the route-walk cases of the referral routes; demo's
// verifying staff act on referrals from other.
func referralCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	// The bad inputs' credentials are made by the first good body: the
	// walk rotates keys before it reaches these routes, and a bad input's
	// body is made where a change would count against it.
	var demoToOther, demoReg string
	fresh := func() string {
		f := e.refFix()
		if demoToOther == "" {
			e.allowReferrals("demo")
			_, demoToOther = e.issueReferral("demo", e.regID, e.orgDID("other"))
			demoReg = e.registrationJWT("demo", e.regID)
		}
		_, ref := e.issueReferral("other", f.otherReg, e.orgDID("demo"))
		return ref
	}
	var spare string // a fresh referral for the bad inputs, made with the good ones
	good := func() string {
		ref := fresh()
		spare = fresh()
		return ref
	}
	return map[string]routeCase{
		"GET /verify/referrals":     {status: http.StatusOK},
		"GET /verify/referrals/:id": {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /verify/referrals": {
			// Another organisation's staff are shown a referral to demo.
			contentType: formType, status: http.StatusOK, otherStatus: http.StatusBadRequest,
			good: func(int) string { return form("referral", good(), "registration", e.refFix().otherRegJWT) },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"referral"}, nil},
				{"no registration", formType, "", http.StatusBadRequest, []string{"registration"}, func() string { return form("referral", spare) }},
				{"not a credential", formType, form("referral", "hello", "registration", "world"), http.StatusBadRequest, []string{"referral"}, nil},
				{"a referral to another organisation", formType, "", http.StatusBadRequest, []string{"referral"}, func() string {
					return form("referral", demoToOther, "registration", demoReg)
				}},
				{"someone else's registration", formType, "", http.StatusBadRequest, []string{"registration"}, func() string {
					return form("referral", spare, "registration", demoReg)
				}},
				{"a registration card as the referral", formType, "", http.StatusBadRequest, []string{"referral"}, func() string {
					return form("referral", e.refFix().otherRegJWT, "registration", e.refFix().otherRegJWT)
				}},
			},
		},
		"POST /verify/referrals/:id/state": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(int) string { return form("state", "accepted") },
			bad: []badInput{
				{"no state", formType, "", http.StatusBadRequest, []string{"state"}, nil},
				{"unknown state", formType, form("state", "maybe"), http.StatusBadRequest, []string{"state"}, nil},
				{"decline without a reason", formType, form("state", "declined"), http.StatusBadRequest, []string{"code"}, nil},
				{"free text as the outcome", formType, form("state", "closed", "code", "Ayaan was seen"), http.StatusBadRequest, []string{"code"}, nil},
			},
		},
		"GET /api/v1/orgs/:org/referrals/received": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/referrals/received": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return presentJSON(good(), e.refFix().otherRegJWT) },
			bad: []badInput{
				{"not JSON", formType, form("referral", "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"referral":"x","registration":"y","name":"Ayaan"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"referral"}, nil},
				{"not a credential", jsonType, presentJSON("hello", "world"), http.StatusBadRequest, []string{"referral"}, nil},
				{"a referral to another organisation", jsonType, "", http.StatusBadRequest, []string{"referral"}, func() string {
					return presentJSON(demoToOther, demoReg)
				}},
				{"someone else's registration", jsonType, "", http.StatusBadRequest, []string{"registration"}, func() string {
					return presentJSON(spare, demoReg)
				}},
				{"too large", jsonType, `{"referral":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, nil, nil},
			},
		},
		"POST /api/v1/orgs/:org/referrals/received/:id/state": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return `{"state":"accepted"}` },
			bad: []badInput{
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"state"}, nil},
				{"unknown state", jsonType, `{"state":"maybe"}`, http.StatusBadRequest, []string{"state"}, nil},
				{"unknown reason", jsonType, `{"state":"declined","code":"busy"}`, http.StatusBadRequest, []string{"code"}, nil},
				{"a reason with an acceptance", jsonType, `{"state":"accepted","code":"no-capacity"}`, http.StatusBadRequest, []string{"code"}, nil},
				{"unknown field", jsonType, `{"state":"accepted","note":"Ayaan"}`, http.StatusBadRequest, []string{"body"}, nil},
			},
		},
		// The referrals made name the organisations they went to.
		"GET /issuer/referrals":                {status: http.StatusOK, instanceWide: true},
		"GET /api/v1/orgs/:org/referrals/sent": {status: http.StatusOK},
	}
}

// deliver delivers demo's and other's outbox once, and says how many went.
func (e *env) deliver(t *testing.T) int {
	t.Helper()
	n, _, err := e.referrals.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReferralLoop: demo refers Fatima to other; other's verifier checks
// the referral with her card, sees only what she agreed to pass on,
// accepts it and records the outcome; demo hears each change and shows
// "outcome: served".
func TestReferralLoop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.allowReferrals("demo")
	refID, ref := e.issueReferral("demo", e.regID, e.orgDID("other"))
	card := e.registrationJWT("demo", e.regID)
	verifier := e.asStaff("other", issuer.RoleVerifier)

	// The DID document names the feedback endpoint.
	doc := readBody(t, e.do(http.MethodGet, "/orgs/demo/did.json", "", "", who{}))
	if !strings.Contains(doc, `"type":"TallyReferralFeedback"`) || !strings.Contains(doc, e.ts.URL+"/orgs/demo/referrals/feedback") {
		t.Fatalf("the DID document names no feedback service: %s", doc)
	}

	res := e.do(http.MethodPost, "/verify/referrals", formType, form("referral", ref, "registration", card), verifier)
	page := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Fatima Hassan Abdi") || !strings.Contains(page, "primary-health-care") {
		i := strings.Index(page, "field-error")
		t.Fatalf("%d: the page does not show the shared name and the service: %.600s", res.StatusCode, page[max(i, 0):])
	}
	// Only the consented field: not her date of birth nor her number.
	for _, s := range []string{"1991-03-14", "KE-DAD-2026-000123", "asylum-seeker"} {
		if strings.Contains(page, s) {
			t.Errorf("the page shows %q, which she did not agree to pass on", s)
		}
	}
	// Presented again: recorded once.
	if res := e.do(http.MethodPost, "/verify/referrals", formType, form("referral", ref, "registration", card), verifier); res.StatusCode != http.StatusOK {
		t.Fatalf("presented again: %d", res.StatusCode)
	}
	list, err := e.referrals.ListReceived(ctx, "other", "")
	if err != nil || len(list) != 1 || list[0].ID != refID || list[0].State != referral.StateReceived {
		t.Fatalf("other's referrals: %+v, %v", list, err)
	}
	if strings.Contains(fmt.Sprint(list), "Fatima") {
		t.Fatal("the stored referral holds personal data")
	}

	state := func(st, code string) {
		t.Helper()
		res := e.do(http.MethodPost, "/verify/referrals/"+refID+"/state", formType, form("state", st, "code", code), verifier)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d: %s", st, res.StatusCode, readBody(t, res))
		}
	}
	heard := func() referral.SentState {
		t.Helper()
		m, err := e.referrals.SentStates(ctx, "demo", []string{refID})
		if err != nil {
			t.Fatal(err)
		}
		return m[refID]
	}
	// An outcome before acceptance is refused.
	if res := e.do(http.MethodPost, "/verify/referrals/"+refID+"/state", formType, form("state", "closed", "code", "served"), verifier); res.StatusCode != http.StatusConflict {
		t.Fatalf("an outcome before acceptance: %d", res.StatusCode)
	}
	state("accepted", "")
	if n := e.deliver(t); n != 1 {
		t.Fatalf("%d feedback delivered, want 1", n)
	}
	if st := heard(); st.State != referral.StateAccepted || st.From != e.orgDID("other") {
		t.Fatalf("demo heard %+v", st)
	}
	state("closed", "served")
	if n := e.deliver(t); n != 1 {
		t.Fatalf("%d feedback delivered, want 1", n)
	}
	if st := heard(); st.State != referral.StateClosed || st.Code != "served" {
		t.Fatalf("demo heard %+v", st)
	}
	// Demo's registration page and list show it.
	page = readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+e.regID, "", "", e.asStaff("demo", issuer.RoleRegistrar)))
	if !strings.Contains(page, "outcome: served") {
		t.Fatalf("the registration page does not say outcome: served")
	}
	page = readBody(t, e.do(http.MethodGet, "/issuer/referrals", "", "", e.asStaff("demo", issuer.RoleAuditor)))
	if !strings.Contains(page, "served") || !strings.Contains(page, e.orgDID("other")) {
		t.Fatal("demo's referral list does not show the outcome")
	}
	// Other's record shows both changes told.
	page = readBody(t, e.do(http.MethodGet, "/verify/referrals/"+refID, "", "", verifier))
	if strings.Count(page, "told to the referring organisation") != 2 || strings.Contains(page, "Fatima") {
		t.Fatalf("other's record page: %.800s", page)
	}
	// In Arabic, right to left, with the age of each change.
	res = e.do(http.MethodGet, "/verify/referrals/"+refID, "", "", verifier, "Accept-Language", "ar")
	if page := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "مغلقة") || !strings.Contains(page, "الآن") {
		t.Fatalf("the Arabic record page: %d", res.StatusCode)
	}
	for _, path := range []string{"/verify/referrals?state=closed", "/verify/referrals"} {
		if page := readBody(t, e.do(http.MethodGet, path, "", "", verifier, "Accept-Language", "fr")); !strings.Contains(page, "clôturée") {
			t.Fatalf("%s in French does not list the closed referral", path)
		}
	}
	if res := e.do(http.MethodGet, "/verify/referrals?state=bogus", "", "", verifier); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown state filter: %d", res.StatusCode)
	}
	// Every change is audited, with nothing personal.
	entries, err := e.svc.AuditEntries(ctx, "other", issuer.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[audit.Action]int{}
	for _, en := range entries.Entries {
		actions[en.Action]++
	}
	if actions[audit.ActionReferralReceive] != 1 || actions[audit.ActionReferralAccept] != 1 || actions[audit.ActionReferralOutcome] != 1 {
		t.Fatalf("other's audit: %v", actions)
	}
	if n, _, _ := e.referrals.DeliverDue(ctx); n != 0 {
		t.Fatalf("%d feedback delivered again", n)
	}
}

// feedbackFor signs a feedback JWT with key.
func feedbackFor(t *testing.T, fb referral.Feedback, key *credentials.Key) string {
	t.Helper()
	tok, err := referral.SignFeedback(&fb, key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestReferralFeedbackRefused: forged feedback changes nothing; a replay
// and an older state are answered 200 without a change.
func TestReferralFeedbackRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.allowReferrals("demo")
	refID, _ := e.issueReferral("demo", e.regID, e.orgDID("other"))
	// A referral of demo's to some third organisation.
	thirdID, _ := e.issueReferral("demo", e.regID, "did:web:health.example.org")
	otherKey, err := e.svc.SigningKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	demoKey, err := e.svc.SigningKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	good := referral.Feedback{Issuer: e.orgDID("other"), Audience: e.orgDID("demo"), ID: "fb-1", IssuedAt: time.Now().Unix(),
		Referral: refID, State: referral.StateAccepted}
	post := func(body string) (int, string) {
		res := e.do(http.MethodPost, "/orgs/demo/referrals/feedback", referral.FeedbackMediaType, body, who{})
		return res.StatusCode, readBody(t, res)
	}
	// An impostor's key under other's DID and kid.
	mallory := mustKey(t, otherKey)
	with := func(f func(*referral.Feedback)) referral.Feedback { fb := good; f(&fb); return fb }
	cases := []struct {
		name, body, reason string
		status             int
	}{
		{"wrong key", feedbackFor(t, good, mallory), "signature", http.StatusBadRequest},
		{"wrong audience", feedbackFor(t, with(func(f *referral.Feedback) { f.Audience = e.orgDID("other") }), otherKey), "audience", http.StatusBadRequest},
		{"unknown referral", feedbackFor(t, with(func(f *referral.Feedback) { f.Referral = "urn:uuid:00000000-0000-4000-8000-000000000000" }), otherKey), "unknown_referral", http.StatusBadRequest},
		{"a registration credential, not a referral", feedbackFor(t, with(func(f *referral.Feedback) { f.Referral = e.credID }), otherKey), "unknown_referral", http.StatusBadRequest},
		{"referral to another organisation", feedbackFor(t, with(func(f *referral.Feedback) { f.Referral = thirdID }), otherKey), "not_referred_to_sender", http.StatusBadRequest},
		{"sent by the referrer itself", feedbackFor(t, with(func(f *referral.Feedback) { f.Issuer = e.orgDID("demo") }), demoKey), "not_referred_to_sender", http.StatusBadRequest},
		{"unknown sender", feedbackFor(t, with(func(f *referral.Feedback) { f.Issuer = "did:web:health.example.org" }), stranger(t)), "unknown_sender", http.StatusBadRequest},
		{"not a JWT", "hello", "malformed", http.StatusBadRequest},
		{"empty", "", "malformed", http.StatusBadRequest},
		{"too large", strings.Repeat("a", referral.MaxFeedbackJWT+1), "", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.state("demo")
			status, body := post(tc.body)
			if status != tc.status {
				t.Fatalf("%d, want %d: %s", status, tc.status, body)
			}
			if tc.reason != "" && !strings.Contains(body, `"code":"`+tc.reason+`"`) {
				t.Fatalf("the answer does not name %s: %s", tc.reason, body)
			}
			if st, _ := e.referrals.SentStates(ctx, "demo", []string{refID, thirdID, e.credID}); len(st) != 0 || e.state("demo") != before {
				t.Fatalf("forged feedback changed something: %+v", st)
			}
		})
	}
	if status, _ := post(feedbackFor(t, good, otherKey)); status != http.StatusOK {
		t.Fatalf("good feedback: %d", status)
	}
	if status := e.do(http.MethodPost, "/orgs/nope/referrals/feedback", referral.FeedbackMediaType, feedbackFor(t, good, otherKey), who{}).StatusCode; status != http.StatusNotFound {
		t.Fatalf("feedback to no organisation: %d", status)
	}
	closed := with(func(f *referral.Feedback) { f.ID, f.State, f.Outcome = "fb-2", referral.StateClosed, "served" })
	for i, tc := range []struct {
		name    string
		fb      referral.Feedback
		changed bool
		want    referral.State
	}{
		{"replay", good, false, referral.StateAccepted},
		{"closed", closed, true, referral.StateClosed},
		{"replay of closed", closed, false, referral.StateClosed},
		{"an older state, new id", with(func(f *referral.Feedback) { f.ID = "fb-3" }), false, referral.StateClosed},
		{"the same state, new id", with(func(f *referral.Feedback) { f.ID, f.State, f.Outcome = "fb-4", referral.StateClosed, "not-served" }), false, referral.StateClosed},
	} {
		status, body := post(feedbackFor(t, tc.fb, otherKey))
		if status != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"changed":%v`, tc.changed)) || !strings.Contains(body, `"state":"`+string(tc.want)+`"`) {
			t.Fatalf("%d %s: %d %s", i, tc.name, status, body)
		}
	}
	if st, _ := e.referrals.SentStates(ctx, "demo", []string{refID}); st[refID].Code != "served" {
		t.Fatalf("the outcome became %q", st[refID].Code)
	}
	entries, err := e.svc.AuditEntries(ctx, "demo", issuer.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries.Entries {
		if en.Action == audit.ActionReferralFeedback {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d feedback entries audited, want 2", n)
	}
}

// mustKey is a new key under the DID and kid of k: an impostor's.
func mustKey(t *testing.T, k *credentials.Key) *credentials.Key {
	t.Helper()
	signer, err := credentials.GenerateKey(k.Alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m, err := credentials.NewKey(signer, k.DID)
	if err != nil {
		t.Fatal(err)
	}
	m.ID = k.ID
	return m
}

// stranger is a key of an organisation no one trusts.
func stranger(t *testing.T) *credentials.Key {
	t.Helper()
	signer, err := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := credentials.NewKey(signer, "did:web:health.example.org")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestReferralConcurrent: the same referral presented at once is recorded
// once, and the same feedback posted at once changes the state once.
func TestReferralConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.allowReferrals("demo")
	refID, ref := e.issueReferral("demo", e.regID, e.orgDID("other"))
	card := e.registrationJWT("demo", e.regID)
	otherKey, err := e.svc.SigningKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	fb := feedbackFor(t, referral.Feedback{Issuer: e.orgDID("other"), Audience: e.orgDID("demo"), ID: "fb-once",
		IssuedAt: time.Now().Unix(), Referral: refID, State: referral.StateAccepted}, otherKey)
	const n = 8
	var wg sync.WaitGroup
	created := make(chan int, n)
	changed := make(chan string, n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v1/orgs/other/referrals/received", strings.NewReader(presentJSON(ref, card)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.token["other/verifier"])
			if res, err := http.DefaultClient.Do(req); err == nil {
				created <- res.StatusCode
				res.Body.Close()
			}
		}()
		go func() {
			defer wg.Done()
			if res, err := http.Post(e.ts.URL+"/orgs/demo/referrals/feedback", referral.FeedbackMediaType, strings.NewReader(fb)); err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				changed <- fmt.Sprint(res.StatusCode, strings.Contains(string(body), `"changed":true`))
			}
		}()
	}
	wg.Wait()
	close(created)
	close(changed)
	count := map[any]int{}
	for s := range created {
		count[s]++
	}
	for s := range changed {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusOK] != n-1 || count["200 true"] != 1 || count["200 false"] != n-1 {
		t.Fatalf("answers: %v", count)
	}
}

// TestReferralPhoto: a photo of the person's card (a PNG of its QR code)
// stands for its text, and a photo with no code is refused on its field.
func TestReferralPhoto(t *testing.T) {
	e := newEnv(t)
	e.allowReferrals("demo")
	_, ref := e.issueReferral("demo", e.regID, e.orgDID("other"))
	out, err := e.svc.Issue(context.Background(), issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	e.reloadTrust()
	png, err := credentials.CardPNG(out.Credential, 600)
	if err != nil {
		t.Fatal(err)
	}
	post := func(photo []byte) (int, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("referral", ref)
		fw, _ := w.CreateFormFile("registration_photo", "card.png")
		fw.Write(photo)
		w.Close()
		res := e.do(http.MethodPost, "/verify/referrals", w.FormDataContentType(), buf.String(), e.asStaff("other", issuer.RoleSupervisor))
		return res.StatusCode, readBody(t, res)
	}
	if status, page := post(png); status != http.StatusOK || !strings.Contains(page, "Fatima Hassan Abdi") {
		t.Fatalf("with a photo of the card: %d", status)
	}
	if status, page := post([]byte("not an image")); status != http.StatusBadRequest || !strings.Contains(page, `id="registration-error"`) {
		t.Fatalf("with a photo of nothing: %d", status)
	}
}

// TestReferralForeignCredential: a trusted credential of another type (a
// VC API credential, which has no tally subject) is refused as the
// referral, on its field.
func TestReferralForeignCredential(t *testing.T) {
	e := newEnv(t)
	doc := fmt.Sprintf(`{"@context":[%q,"https://www.w3.org/ns/credentials/examples/v2"],"type":["VerifiableCredential","ExampleAlumniCredential"],"issuer":%q,"credentialSubject":{"id":"did:example:1","alumniOf":{"name":"Example University"}}}`,
		credentials.BaseContext, e.orgDID("demo"))
	out, err := e.svc.IssueVC(context.Background(), issuer.SystemPrincipal("test"), "demo", json.RawMessage(doc), issuer.VCIssueOptions{Format: issuer.VCFormatJWT})
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ ID string }
	if err := json.Unmarshal(out.Credential, &env); err != nil {
		t.Fatal(err)
	}
	jwt, ok := strings.CutPrefix(env.ID, "data:application/vc+jwt,")
	if !ok {
		t.Fatalf("not an enveloped VC-JWT: %s", out.Credential)
	}
	e.reloadTrust()
	if _, err := e.trust.Verifier().Verify(context.Background(), []byte(jwt)); err != nil {
		t.Fatalf("the foreign credential does not verify: %v", err)
	}
	res := e.do(http.MethodPost, "/api/v1/orgs/other/referrals/received", "application/json", presentJSON(jwt, e.registrationJWT("demo", e.regID)), e.asToken("other", issuer.RoleVerifier))
	if code, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || code != "invalid" || len(fields) != 1 || fields[0] != "referral" {
		t.Fatalf("%d %s %v", res.StatusCode, code, fields)
	}
}
