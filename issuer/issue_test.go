package issuer_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

func TestIssue(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.svc.SigningKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	card, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	rec := card.Record
	if rec.Format != credentials.FormatQR || rec.State != issuer.StateActive || rec.Registration != reg.ID || rec.Programme != "MPCA-2026" {
		t.Errorf("record = %+v", rec)
	}
	if want := d.now.AddDate(0, 12, 0); !rec.ValidUntil.Equal(want) {
		t.Errorf("validUntil = %s, want a year on, %s", rec.ValidUntil, want)
	}
	parsed, err := credentials.ParseCard([]byte(card.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.VerifySignature(key.Public); err != nil {
		t.Fatalf("the card's signature: %v", err)
	}
	c := parsed.Credential()
	if got := credentials.SubjectSeed(c.Subject); string(got) != string(reg.Seed) {
		t.Error("the card does not carry the registration's dedup seed")
	}
	if list, index, ok := credentials.TallyStatus(c.Status); !ok || list != rec.List || index != rec.Index {
		t.Errorf("the card's status = %d, %d, %v; the record's %d, %d", list, index, ok, rec.List, rec.Index)
	}

	jwt, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeEligibility, Format: credentials.FormatJWT})
	if err != nil {
		t.Fatal(err)
	}
	pj, err := credentials.ParseJWT([]byte(jwt.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if st := pj.Credential().Status; len(st) != 2 || !strings.HasPrefix(st[0].ListCredential, "https://tally.example:8443/status/demo/revocation/") {
		t.Errorf("the JWT's status = %+v", st)
	}
	if jwt.Record.Index == rec.Index {
		t.Error("two credentials share a status index")
	}
	again, err := d.svc.Reprint(ctx, "demo", rec.ID)
	if err != nil || again.Credential != card.Credential {
		t.Errorf("a reprint is not the card issued: %v", err)
	}
	recs, err := d.svc.Credentials(ctx, "demo", reg.ID)
	if err != nil || len(recs) != 2 || recs[0].ID != rec.ID || recs[1].ID != jwt.Record.ID {
		t.Fatalf("Credentials = %+v, %v", recs, err)
	}
	var issued int
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionIssue {
			issued++
			if e.Objects[1].ID != rec.ID && e.Objects[1].ID != jwt.Record.ID {
				t.Errorf("audit entry %+v names another credential", e)
			}
		}
	}
	if issued != 2 {
		t.Errorf("%d issue entries in the audit log, want 2", issued)
	}
}

func TestIssueRefuses(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	other := issuer.ProgrammeInput{Code: "WASH-2026", Name: "Water", Languages: []string{"en"}, RetentionMonths: 6,
		CredentialTypes: []string{"EligibilityCredential"}, Purpose: "Water and hygiene kits."}
	if _, err := d.svc.CreateProgramme(ctx, issuer.SystemPrincipal("test"), "demo", other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		org  string
		reg  string
		in   issuer.IssueInput
		want error
	}{
		{"no consent to the programme", "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeEligibility, Programme: "WASH-2026"}, issuer.ErrNoConsent},
		{"unknown type", "demo", reg.ID, issuer.IssueInput{Type: "Passport"}, issuer.ErrInvalid},
		{"referral", "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeReferral}, issuer.ErrInvalid},
		{"unknown format", "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: "pdf"}, issuer.ErrInvalid},
		{"unknown programme", "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeEligibility, Programme: "NOPE"}, issuer.ErrInvalid},
		{"unknown registration", "demo", "nope", issuer.IssueInput{Type: credentials.TypeRegistration}, issuer.ErrNotFound},
		{"another organisation's registration", "other", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration}, issuer.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := d.svc.Issue(ctx, d.registrar, tc.org, tc.reg, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if recs, err := d.svc.Credentials(ctx, "demo", reg.ID); err != nil || len(recs) != 0 {
		t.Errorf("Credentials = %+v, %v; want none", recs, err)
	}
}

func TestRevokeSuspend(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	card, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	id, rec := card.Record.ID, card.Record
	bit := func(kind issuer.StatusListKind) bool {
		t.Helper()
		l, err := d.svc.StatusList(ctx, "demo", kind, rec.List)
		if err != nil {
			t.Fatal(err)
		}
		sl, err := credentials.ParseStatusList(l.Body)
		if err != nil {
			t.Fatal(err)
		}
		on, err := sl.List.Get(rec.Index)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	steps := []struct {
		name string
		do   func(context.Context, issuer.Principal, string, string) (issuer.CredentialRecord, error)
		want issuer.CredentialState
		err  error
		rev  bool
		susp bool
	}{
		{"reinstate an active one", d.svc.Reinstate, issuer.StateActive, nil, false, false},
		{"suspend", d.svc.Suspend, issuer.StateSuspended, nil, false, true},
		{"suspend again", d.svc.Suspend, issuer.StateSuspended, nil, false, true},
		{"reinstate", d.svc.Reinstate, issuer.StateActive, nil, false, false},
		{"revoke", d.svc.Revoke, issuer.StateRevoked, nil, true, false},
		{"reinstate a revoked one", d.svc.Reinstate, issuer.StateRevoked, issuer.ErrStateChange, true, false},
		{"revoke again", d.svc.Revoke, issuer.StateRevoked, nil, true, false},
		{"suspend a revoked one", d.svc.Suspend, issuer.StateRevoked, issuer.ErrStateChange, true, false},
	}
	for _, s := range steps {
		_, err := s.do(ctx, d.registrar, "demo", id)
		if !errors.Is(err, s.err) || (err == nil) != (s.err == nil) {
			t.Errorf("%s: err = %v, want %v", s.name, err, s.err)
		}
		got, err := d.db.Credential(ctx, "demo", id)
		if err != nil || got.State != s.want {
			t.Errorf("%s: state = %s, %v; want %s", s.name, got.State, err, s.want)
		}
		if r, su := bit(issuer.ListRevocation), bit(issuer.ListSuspension); r != s.rev || su != s.susp {
			t.Errorf("%s: bits revoked %v, suspended %v; want %v, %v", s.name, r, su, s.rev, s.susp)
		}
	}
	if _, err := d.svc.Revoke(ctx, d.registrar, "other", id); !errors.Is(err, issuer.ErrNotFound) {
		t.Errorf("revoke from another organisation: err = %v", err)
	}
	var changes []audit.Action
	for _, e := range d.entries(t) {
		switch e.Action {
		case audit.ActionRevoke, audit.ActionSuspend, audit.ActionReinstate:
			changes = append(changes, e.Action)
		}
	}
	if want := []audit.Action{audit.ActionSuspend, audit.ActionReinstate, audit.ActionRevoke}; !slices.Equal(changes, want) {
		t.Errorf("audited %v, want %v: what changes nothing is not recorded", changes, want)
	}
	if _, err := d.svc.Reprint(ctx, "demo", id); !errors.Is(err, issuer.ErrStateChange) {
		t.Errorf("reprint a revoked card: %v", err)
	}
	tok, err := d.svc.StatusList(ctx, "demo", issuer.ListToken, rec.List)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := credentials.ParseTokenStatusList(tok.Body)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := tl.List.Get(rec.Index); s != credentials.TokenInvalid {
		t.Errorf("token status = %s, want INVALID", s)
	}
	if _, err := d.svc.StatusList(ctx, "demo", issuer.ListRevocation, 7); !errors.Is(err, issuer.ErrNotFound) {
		t.Errorf("list 7: err = %v", err)
	}
	// A list whose bits did not change is served as signed before: a public
	// GET does not cost a signature each time.
	a, err := d.svc.StatusList(ctx, "demo", issuer.ListRevocation, rec.List)
	if err != nil {
		t.Fatal(err)
	}
	d.now = d.now.Add(time.Minute)
	b, err := d.svc.StatusList(ctx, "demo", issuer.ListRevocation, rec.List)
	if err != nil || !bytes.Equal(a.Body, b.Body) {
		t.Errorf("the unchanged list was signed again a minute later (%v)", err)
	}
	// Past half its cache lifetime, it is signed anew, so that verifiers
	// always get a list younger than its ttl.
	d.now = d.now.Add(issuer.StatusListTTL)
	c, err := d.svc.StatusList(ctx, "demo", issuer.ListRevocation, rec.List)
	if err != nil || bytes.Equal(a.Body, c.Body) {
		t.Errorf("the list was not signed anew after its lifetime (%v)", err)
	}
}

func TestCorrectionRevokes(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	old, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	name := "Fatuma Hassan Abdi"
	if _, err := d.svc.Correct(ctx, d.registrar, "demo", reg.ID, issuer.PersonCorrection{FullName: &name}); err != nil {
		t.Fatal(err)
	}
	got, err := d.db.Credential(ctx, "demo", old.Record.ID)
	if err != nil || got.State != issuer.StateRevoked {
		t.Fatalf("after the correction the old card is %s, %v", got.State, err)
	}
	again, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	c, err := credentials.ParseCard([]byte(again.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if string(credentials.SubjectSeed(c.Credential().Subject)) != string(reg.Seed) {
		t.Error("the re-issued card has another dedup seed")
	}
}
