package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
)

// ReferralInput is what a ReferralCredential needs besides the
// registration: the organisation the person is referred to (its DID), the
// service, and the person's consent to the referral, naming the fields of
// their registration it passes on.
type ReferralInput struct {
	// ReferredTo is the DID of the receiving organisation.
	ReferredTo string `json:"referredTo"`
	// Service is what the person is referred for ("primary-health-care").
	Service string `json:"service"`
	// Urgency is low, medium or high; none if empty.
	Urgency string `json:"urgency,omitempty"`
	// Reason is free text, often health information: it is signed into a
	// VC-JWT only (never onto a card), returned once and not kept, so a
	// referral with a reason is not shown again.
	Reason  string          `json:"reason,omitempty"`
	Consent ReferralConsent `json:"consent"`
}

// ReferralConsent is the person's consent to a referral.
type ReferralConsent struct {
	// Given must be true: no consent, no referral.
	Given bool `json:"given"`
	// Purpose is what the person was told the referral is for.
	Purpose string `json:"purpose"`
	// Method is verbal, written or digital.
	Method string `json:"method"`
	// Date is the day consent was given, YYYY-MM-DD; today if empty.
	Date string `json:"date,omitempty"`
	// Fields are the registration claims passed on (fullName,
	// dateOfBirth, language, ...); none passes without being named here.
	Fields []string `json:"fields"`
}

// ReferralTerms is what a credential record keeps of a referral, so that
// it can be signed again as issued: nothing personal (the shared values
// are the registration's, the reason is not kept).
type ReferralTerms struct {
	ReferredTo string              `json:"referredTo"`
	Service    string              `json:"service"`
	Urgency    string              `json:"urgency,omitempty"`
	Consent    credentials.Consent `json:"consent"`
	// HadReason says a reason was signed into it: it is not kept, so the
	// credential is not shown again.
	HadReason bool `json:"hadReason,omitempty"`
}

// referralMethods are the consent methods a referral credential names.
var referralMethods = []string{"verbal", "written", "digital"}

// Limits of a referral's fields.
const (
	maxReferralText   = 200
	maxReferralReason = 1000
)

// ReferralFields lists the registration claims a referral may pass on,
// in the order forms show them.
func ReferralFields() []string {
	var out []string
	for _, c := range credentials.Schema() {
		if c.Defines(credentials.TypeRegistration) && c.Kind != credentials.KindBytes && c.Name != "registrationId" && c.Name != "programme" {
			out = append(out, c.Name)
		}
	}
	return out
}

// checkReferral validates a referral for reg, issued by the organisation
// whose DID is orgDID, and returns what the record keeps of it.
func (s *Service) checkReferral(p *problems, in *ReferralInput, reg Registration, orgDID string) ReferralTerms {
	in.ReferredTo, in.Service, in.Urgency = strings.TrimSpace(in.ReferredTo), strings.TrimSpace(in.Service), strings.TrimSpace(in.Urgency)
	in.Reason = strings.TrimSpace(in.Reason)
	c := &in.Consent
	c.Purpose, c.Method, c.Date = strings.TrimSpace(c.Purpose), strings.TrimSpace(c.Method), strings.TrimSpace(c.Date)
	switch {
	case in.ReferredTo == "":
		p.add("referral.referredTo", "required", "give the DID of the organisation the person is referred to")
	case !credentials.IsDID(in.ReferredTo) || len(in.ReferredTo) > 512:
		p.add("referral.referredTo", "format", "give the organisation's DID, such as did:web:health.example.org")
	case in.ReferredTo == orgDID:
		p.add("referral.referredTo", "format", "refer the person to another organisation, not to this one")
	}
	text := func(field, v string, required bool, limit int) {
		switch {
		case v == "" && required:
			p.add(field, "required", "this is required")
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit:
			p.add(field, "too_long", fmt.Sprintf("use at most %d characters", limit))
		case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' }):
			p.add(field, "format", "use letters, digits, spaces and punctuation only")
		}
	}
	text("referral.service", in.Service, true, maxReferralText)
	if in.Urgency != "" && !slices.Contains([]string{"low", "medium", "high"}, in.Urgency) {
		p.add("referral.urgency", "unknown", "choose low, medium or high")
	}
	text("referral.reason", in.Reason, false, maxReferralReason)
	if !c.Given {
		p.add("referral.consent.given", "required", "no consent, no referral: explain the referral and what it passes on, and tick when the person agrees")
	}
	text("referral.consent.purpose", c.Purpose, true, maxReferralText)
	switch {
	case c.Method == "":
		p.add("referral.consent.method", "required", "say how consent was given: verbal, written or digital")
	case !slices.Contains(referralMethods, c.Method):
		p.add("referral.consent.method", "unknown", "choose verbal, written or digital")
	}
	today := s.now().UTC().Format(time.DateOnly)
	if c.Date == "" {
		c.Date = today
	} else if d, err := time.Parse(time.DateOnly, c.Date); err != nil {
		p.add("referral.consent.date", "format", "write the date like 2026-11-03")
	} else if c.Date > today || d.Before(s.now().UTC().AddDate(-1, 0, -1)) {
		p.add("referral.consent.date", "format", "give the day consent was given: not later than today, nor more than a year ago")
	}
	allowed := ReferralFields()
	var fields []string
	for _, f := range c.Fields {
		f = strings.TrimSpace(f)
		switch {
		case !slices.Contains(allowed, f):
			p.add("referral.consent.fields", "unknown", "name registration fields only: "+strings.Join(allowed, ", "))
			return ReferralTerms{}
		case personField(reg.Person, f) == "":
			p.add("referral.consent.fields", "format", "the registration has no "+f+" to pass on")
			return ReferralTerms{}
		case !slices.Contains(fields, f):
			fields = append(fields, f)
		}
	}
	return ReferralTerms{ReferredTo: in.ReferredTo, Service: in.Service, Urgency: in.Urgency, HadReason: in.Reason != "",
		Consent: credentials.Consent{Purpose: c.Purpose, Method: c.Method, Date: c.Date, Fields: fields}}
}

// personField is the value of one registration claim of p, as text; ""
// when p has none.
func personField(p credentials.Registration, name string) string {
	data, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return ""
	}
	switch v := m[name].(type) {
	case string:
		return v
	case float64:
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// referralSubject is the subject of a ReferralCredential issued from reg
// on the terms t: the shared fields' values are the registration's.
func referralSubject(reg Registration, t ReferralTerms, reason string) *credentials.Referral {
	consent := t.Consent
	consent.Fields = slices.Clone(t.Consent.Fields)
	sub := &credentials.Referral{RegistrationID: reg.Person.RegistrationID, ReferredTo: t.ReferredTo, Service: t.Service,
		Urgency: t.Urgency, Reason: reason, Consent: &consent, DedupSeed: append(credentials.Seed(nil), reg.Seed...)}
	if len(consent.Fields) > 0 {
		sub.SharedFields = map[string]string{}
		for _, f := range consent.Fields {
			sub.SharedFields[f] = personField(reg.Person, f)
		}
	}
	return sub
}

// OrgSigningKey returns the organisation's current signing key, opened
// once and kept (a new one after a rotation): for what the organisation
// signs besides credentials, such as referral feedback (issue 7).
func (s *Service) OrgSigningKey(ctx context.Context, org string) (*credentials.Key, error) {
	return s.signingKey(ctx, org)
}
