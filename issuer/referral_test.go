package issuer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// referral is the sample referral (../shared/samples/referral.json) as
// staff enter it.
func referral() *issuer.ReferralInput {
	return &issuer.ReferralInput{
		ReferredTo: "did:web:health.example.org", Service: "primary-health-care", Urgency: "high",
		Consent: issuer.ReferralConsent{Given: true, Purpose: "referral for health care", Method: "verbal",
			Fields: []string{"fullName", "dateOfBirth", "language"}},
	}
}

func TestIssueReferral(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	in := mpca()
	in.CredentialTypes = append(in.CredentialTypes, "referral")
	if _, err := d.svc.UpdateProgramme(ctx, issuer.SystemPrincipal("test"), "demo", "MPCA-2026", in); err != nil {
		t.Fatal(err)
	}
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.svc.SigningKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}

	// A card: the shared fields and the consent, never the reason.
	withReason := referral()
	withReason.Reason = "Follow-up of chronic condition"
	card, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeReferral, Referral: referral()})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := credentials.ParseCard([]byte(card.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.VerifySignature(key.Public); err != nil {
		t.Fatal(err)
	}
	sub, ok := parsed.Credential().Subject.(*credentials.Referral)
	if !ok || sub.ReferredTo != "did:web:health.example.org" || sub.Service != "primary-health-care" || sub.Consent == nil ||
		!slices.Equal(sub.Consent.Fields, []string{"fullName", "dateOfBirth", "language"}) || sub.Consent.Date != "2026-11-01" ||
		sub.SharedFields["fullName"] != "Fatima Hassan Abdi" || sub.SharedFields["dateOfBirth"] != "1991-03-14" || sub.RegistrationID != "KE-DAD-2026-000123" ||
		string(sub.DedupSeed) != string(reg.Seed) {
		t.Fatalf("the referral card's subject: %+v", sub)
	}
	if _, ok := sub.SharedFields["nationality"]; ok {
		t.Fatal("a field without consent was shared")
	}
	if again, err := d.svc.Reprint(ctx, "demo", card.Record.ID); err != nil || again.Credential != card.Credential {
		t.Fatalf("a reprint is not the card issued: %v", err)
	}
	if card.Record.Referral == nil || card.Record.Referral.ReferredTo != "did:web:health.example.org" {
		t.Fatalf("record %+v", card.Record)
	}

	// A JWT with a reason: signed once, not kept, not shown again.
	jwt, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeReferral, Format: credentials.FormatJWT, Referral: withReason})
	if err != nil {
		t.Fatal(err)
	}
	pj, err := credentials.ParseJWT([]byte(jwt.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if s := pj.Credential().Subject.(*credentials.Referral); s.Reason != "Follow-up of chronic condition" || s.Urgency != "high" {
		t.Fatalf("the JWT's subject: %+v", s)
	}
	if _, err := d.svc.Reprint(ctx, "demo", jwt.Record.ID); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("a referral with a reason was signed again: %v", err)
	}
	stored, _ := d.svc.CredentialRecord(ctx, "demo", jwt.Record.ID)
	if !stored.Referral.HadReason {
		t.Fatal("the record does not say it had a reason")
	}
	for _, e := range d.entries(t) {
		if line := fmt.Sprint(e); strings.Contains(line, "chronic") || strings.Contains(line, "Fatima") || strings.Contains(line, "health.example") {
			t.Fatalf("the audit log holds %s", line)
		}
	}

	orgDID := func() string { o, _ := d.svc.Organisation(ctx, "demo"); return o.DID }()
	for _, tc := range []struct {
		name   string
		in     issuer.IssueInput
		fields []string
	}{
		{"no referral", issuer.IssueInput{Type: credentials.TypeReferral}, []string{"referral"}},
		{"a referral on a registration card", issuer.IssueInput{Type: credentials.TypeRegistration, Referral: referral()}, []string{"referral"}},
		{"everything missing", issuer.IssueInput{Type: credentials.TypeReferral, Referral: &issuer.ReferralInput{}},
			[]string{"referral.referredTo", "referral.service", "referral.consent.given", "referral.consent.purpose", "referral.consent.method"}},
		{"not a DID", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput { r := referral(); r.ReferredTo = "health.example.org"; return r }()}, []string{"referral.referredTo"}},
		{"to itself", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput { r := referral(); r.ReferredTo = orgDID; return r }()}, []string{"referral.referredTo"}},
		{"no consent", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput { r := referral(); r.Consent.Given = false; return r }()}, []string{"referral.consent.given"}},
		{"a field that is not one", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput {
			r := referral()
			r.Consent.Fields = []string{"fullName", "photo"}
			return r
		}()}, []string{"referral.consent.fields"}},
		{"a field the registration has not", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput {
			r := referral()
			r.Consent.Fields = []string{"firstName", "householdSize", "lastName"}
			return r
		}()}, nil},
		{"an urgency that is not one", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput { r := referral(); r.Urgency = "now"; return r }()}, []string{"referral.urgency"}},
		{"a consent date in the future", issuer.IssueInput{Type: credentials.TypeReferral, Referral: func() *issuer.ReferralInput { r := referral(); r.Consent.Date = "2027-01-01"; return r }()}, []string{"referral.consent.date"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := d.svc.Credentials(ctx, "demo", reg.ID)
			_, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, tc.in)
			if tc.fields == nil {
				// Fatima has a first name, a household size and a last name:
				// this one is fine.
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
			}
			if after, _ := d.svc.Credentials(ctx, "demo", reg.ID); len(after) != len(before) {
				t.Fatal("a refused referral was recorded")
			}
		})
	}
}
