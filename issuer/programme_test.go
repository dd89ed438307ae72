package issuer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

func mpca() issuer.ProgrammeInput {
	return issuer.ProgrammeInput{
		Code: "MPCA-2026", Name: "Multi-purpose cash 2026", Languages: []string{"en", "so", "ar"},
		RetentionMonths: 24, CredentialTypes: []string{"registration", "EligibilityCredential"},
		Purpose: "Monthly cash assistance for households in 2026.",
	}
}

func TestProgrammes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.org(t, "demo", "admin")
	f.org(t, "other", "admin2")
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "st1"}

	p, err := f.svc.CreateProgramme(ctx, admin, "demo", mpca())
	if err != nil {
		t.Fatal(err)
	}
	want := []credentials.Type{credentials.TypeRegistration, credentials.TypeEligibility}
	if p.Code != "MPCA-2026" || !slices.Equal(p.Languages, []string{"en", "so", "ar"}) || !slices.Equal(p.CredentialTypes, want) ||
		p.RetentionMonths != 24 || !p.Issues(credentials.TypeEligibility) || p.Issues(credentials.TypeReferral) {
		t.Fatalf("created %+v", p)
	}
	// The same code in another organisation is another programme.
	if _, err := f.svc.CreateProgramme(ctx, admin, "other", mpca()); err != nil {
		t.Fatal(err)
	}

	bad := func(mod func(*issuer.ProgrammeInput)) issuer.ProgrammeInput {
		in := mpca()
		in.Code = "NEW-1"
		mod(&in)
		return in
	}
	tests := []struct {
		name       string
		in         issuer.ProgrammeInput
		wantFields []string
	}{
		{"everything missing", issuer.ProgrammeInput{}, []string{"code", "name", "languages", "retentionMonths", "credentialTypes", "purpose"}},
		{"code taken", mpca(), []string{"code"}},
		{"code with spaces", bad(func(in *issuer.ProgrammeInput) { in.Code = "MPCA 2026" }), []string{"code"}},
		{"code with a date", bad(func(in *issuer.ProgrammeInput) { in.Code = "CASH-2026-03-14" }), []string{"code"}},
		{"code too long", bad(func(in *issuer.ProgrammeInput) { in.Code = strings.Repeat("A", 41) }), []string{"code"}},
		{"not a language", bad(func(in *issuer.ProgrammeInput) { in.Languages = []string{"en", "not a tag"} }), []string{"languages"}},
		{"a language twice", bad(func(in *issuer.ProgrammeInput) { in.Languages = []string{"so", "som"} }), []string{"languages"}},
		{"no retention", bad(func(in *issuer.ProgrammeInput) { in.RetentionMonths = 0 }), []string{"retentionMonths"}},
		{"a century of retention", bad(func(in *issuer.ProgrammeInput) { in.RetentionMonths = 1201 }), []string{"retentionMonths"}},
		{"unknown credential type", bad(func(in *issuer.ProgrammeInput) { in.CredentialTypes = []string{"passport"} }), []string{"credentialTypes"}},
		{"purpose too long", bad(func(in *issuer.ProgrammeInput) { in.Purpose = strings.Repeat("p", 1001) }), []string{"purpose"}},
		{"purpose with control characters", bad(func(in *issuer.ProgrammeInput) { in.Purpose = "cash\x00" }), []string{"purpose"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateProgramme(ctx, admin, "demo", tc.in)
			if !errors.Is(err, issuer.ErrInvalid) || !slices.Equal(fields(err), tc.wantFields) {
				t.Fatalf("error %v (fields %v), want %v", err, fields(err), tc.wantFields)
			}
			if list, _ := f.svc.Programmes(ctx, "demo"); len(list) != 1 {
				t.Fatalf("%d programmes after a refused one", len(list))
			}
		})
	}

	// Update: everything but the code changes; languages are made canonical.
	in := mpca()
	in.Code, in.Name, in.Languages, in.RetentionMonths, in.CredentialTypes = "", "Cash 2026", []string{"som", "ar"}, 36, []string{"referral"}
	f.now = f.now.Add(time.Hour)
	p2, err := f.svc.UpdateProgramme(ctx, admin, "demo", "MPCA-2026", in)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Name != "Cash 2026" || !slices.Equal(p2.Languages, []string{"so", "ar"}) || p2.RetentionMonths != 36 ||
		!p2.Updated.After(p2.Created) || !p2.Created.Equal(p.Created) {
		t.Fatalf("updated %+v", p2)
	}
	in.Code = "OTHER"
	if _, err := f.svc.UpdateProgramme(ctx, admin, "demo", "MPCA-2026", in); !slices.Equal(fields(err), []string{"code"}) {
		t.Fatalf("changing the code: %v", err)
	}
	in.Code = ""
	if _, err := f.svc.UpdateProgramme(ctx, admin, "demo", "NOPE", in); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("updating no programme: %v", err)
	}
	got, err := f.svc.Programme(ctx, "other", "MPCA-2026")
	if err != nil || got.Name != "Multi-purpose cash 2026" {
		t.Fatalf("the other organisation's programme changed: %+v %v", got, err)
	}
}
