package audit

import (
	"slices"
	"strings"
)

// Action is what was done: one word of a fixed vocabulary, so that an
// entry cannot carry free text.
type Action string

// The actions. Add new ones at the end of this list and to Valid;
// never rename or remove one, since entries already written name it.
const (
	ActionSignIn         Action = "sign-in"
	ActionSignOut        Action = "sign-out"
	ActionPasswordChange Action = "password-change"
	// ActionRegister creates a registration (with its consent record).
	ActionRegister Action = "register"
	// ActionLink attaches a new visit to an existing registration instead
	// of creating a duplicate.
	ActionLink    Action = "link"
	ActionCorrect Action = "correct"
	ActionIssue   Action = "issue"
	// ActionOfferCreate makes an OpenID4VCI credential offer.
	ActionOfferCreate Action = "offer-create"
	ActionRevoke      Action = "revoke"
	ActionSuspend     Action = "suspend"
	ActionReinstate   Action = "reinstate"
	// ActionErase erases a registration's personal data (retention or a
	// person's request); its status records and dedup tokens stay.
	ActionErase  Action = "erase"
	ActionImport Action = "import"
	// ActionKeyRotate makes a new signing key the current one.
	ActionKeyRotate Action = "key-rotate"
	// ActionKeyCompromise revokes everything a compromised key signed.
	ActionKeyCompromise      Action = "key-compromise"
	ActionTokenCreate        Action = "token-create"
	ActionTokenRevoke        Action = "token-revoke"
	ActionStaffCreate        Action = "staff-create"
	ActionStaffChange        Action = "staff-change"
	ActionOrganisationCreate Action = "organisation-create"
	ActionProgrammeChange    Action = "programme-change"
	ActionSettingsChange     Action = "settings-change"
	// ActionExport exports data: audit entries, registrations, tokens.
	ActionExport Action = "export"
	// --- referrals (issue 7): a referral received by the organisation it
	// names, its acceptance, decline and outcome there, and the feedback
	// the referring organisation received. ---
	ActionReferralReceive  Action = "referral-receive"
	ActionReferralAccept   Action = "referral-accept"
	ActionReferralDecline  Action = "referral-decline"
	ActionReferralOutcome  Action = "referral-outcome"
	ActionReferralFeedback Action = "referral-feedback"
	// --- the verifier service (issue 7): dedup domains made or joined,
	// a fresh domain key downloaded (once), and the trust anchors and
	// lists changed. Token lists exported and imported are ActionExport
	// and ActionImport on the domain. ---
	ActionDomainCreate      Action = "domain-create"
	ActionDomainKeyDownload Action = "domain-key-download"
	ActionTrustChange       Action = "trust-change"
	// --- the wallet (issue 8): registration staff gave a holder a
	// one-time reset code for their wallet. ---
	ActionWalletReset Action = "wallet-reset"
)

// referralActions are the actions the verifier service added (issue 7):
// referrals, dedup domains and trust.
var referralActions = []Action{ActionReferralReceive, ActionReferralAccept, ActionReferralDecline, ActionReferralOutcome, ActionReferralFeedback,
	ActionDomainCreate, ActionDomainKeyDownload, ActionTrustChange}

// Valid reports whether a is one of the actions above.
func (a Action) Valid() bool {
	switch a {
	case ActionSignIn, ActionSignOut, ActionPasswordChange, ActionRegister, ActionLink,
		ActionCorrect, ActionIssue, ActionOfferCreate, ActionRevoke, ActionSuspend, ActionReinstate,
		ActionErase, ActionImport, ActionKeyRotate, ActionKeyCompromise, ActionTokenCreate,
		ActionTokenRevoke, ActionStaffCreate, ActionStaffChange, ActionOrganisationCreate,
		ActionProgrammeChange, ActionSettingsChange, ActionExport:
		return true
	}
	return slices.Contains(referralActions, a) || a == ActionWalletReset
}

// Actions lists every action, in the order above (for filters).
func Actions() []Action {
	return []Action{ActionSignIn, ActionSignOut, ActionPasswordChange, ActionRegister, ActionLink,
		ActionCorrect, ActionIssue, ActionOfferCreate, ActionRevoke, ActionSuspend, ActionReinstate,
		ActionErase, ActionImport, ActionKeyRotate, ActionKeyCompromise, ActionTokenCreate,
		ActionTokenRevoke, ActionStaffCreate, ActionStaffChange, ActionOrganisationCreate,
		ActionProgrammeChange, ActionSettingsChange, ActionExport, ActionReferralReceive, ActionReferralAccept,
		ActionReferralDecline, ActionReferralOutcome, ActionReferralFeedback, ActionDomainCreate, ActionDomainKeyDownload, ActionTrustChange,
		ActionWalletReset}
}

// Outcome is how the action ended.
type Outcome string

// The outcomes.
const (
	// OutcomeSuccess: the action was done.
	OutcomeSuccess Outcome = "success"
	// OutcomeDenied: the actor was not allowed to do it (a wrong password,
	// a missing role, another organisation's data).
	OutcomeDenied Outcome = "denied"
	// OutcomeFailed: it was allowed but did not happen (bad input, an
	// error); nothing changed.
	OutcomeFailed Outcome = "failed"
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeSuccess, OutcomeDenied, OutcomeFailed:
		return true
	}
	return false
}

// ActorKind says what kind of identifier an Actor's ID is.
type ActorKind string

// The kinds of actor. An actor is named by an identifier the system gave
// it, never by a person's name or user name.
const (
	// ActorStaff is a staff member, by their internal id.
	ActorStaff ActorKind = "staff"
	// ActorToken is an API token, by its id (never the token itself).
	ActorToken ActorKind = "token"
	// ActorSystem is tally itself, by the job's name: "retention",
	// "first-start".
	ActorSystem ActorKind = "system"
	// ActorAnonymous is someone not signed in: a failed sign-in with an
	// unknown user name (which is not recorded), a wallet redeeming an
	// offer. Its ID is empty.
	ActorAnonymous ActorKind = "anonymous"
)

// Valid reports whether k is one of the kinds above.
func (k ActorKind) Valid() bool {
	switch k {
	case ActorStaff, ActorToken, ActorSystem, ActorAnonymous:
		return true
	}
	return false
}

// ObjectKind says what an Object's ID identifies.
type ObjectKind string

// The kinds of object an entry can name, each by an opaque id.
const (
	// ObjectRegistration is a registration, by its internal id (not the
	// registration number printed on a card, which identifies a person).
	ObjectRegistration ObjectKind = "registration"
	ObjectConsent      ObjectKind = "consent"
	ObjectCredential   ObjectKind = "credential"
	ObjectStatusList   ObjectKind = "status-list"
	ObjectKey          ObjectKind = "key"
	ObjectStaff        ObjectKind = "staff"
	ObjectToken        ObjectKind = "token"
	ObjectOrganisation ObjectKind = "organisation"
	ObjectProgramme    ObjectKind = "programme"
	// ObjectBatch is a bulk import.
	ObjectBatch    ObjectKind = "batch"
	ObjectOffer    ObjectKind = "offer"
	ObjectReferral ObjectKind = "referral"
	ObjectSession  ObjectKind = "session"
	// ObjectDomain is a dedup domain, by its id (or its keyed hash, when
	// the id could be mistaken for personal data); ObjectTrustAnchor and
	// ObjectTrustList a verifier's trust anchor and trust list.
	ObjectDomain      ObjectKind = "domain"
	ObjectTrustAnchor ObjectKind = "trust-anchor"
	ObjectTrustList   ObjectKind = "trust-list"
	// ObjectWallet is a holder's wallet (issue 8), by a keyed hash of its
	// wallet number.
	ObjectWallet ObjectKind = "wallet"
)

// Valid reports whether k is one of the kinds above.
func (k ObjectKind) Valid() bool {
	switch k {
	case ObjectRegistration, ObjectConsent, ObjectCredential, ObjectStatusList,
		ObjectKey, ObjectStaff, ObjectToken, ObjectOrganisation, ObjectProgramme, ObjectBatch,
		ObjectOffer, ObjectReferral, ObjectSession, ObjectDomain, ObjectTrustAnchor, ObjectTrustList,
		ObjectWallet:
		return true
	}
	return false
}

// Purpose is why the action was done: a word of the fixed vocabulary
// below, or a programme's code (ProgrammePurpose), never free text.
type Purpose string

// The purposes of the fixed vocabulary. Work done for a programme
// (registering, issuing, revoking for it) names the programme instead.
const (
	// PurposeAdministration: running the instance (staff, tokens,
	// organisations, settings).
	PurposeAdministration Purpose = "administration"
	// PurposeSecurity: signing in and out, key rotation and compromise.
	PurposeSecurity Purpose = "security"
	// PurposeRectification: correcting a person's data.
	PurposeRectification Purpose = "rectification"
	// PurposeRetention: erasure because a retention period ended.
	PurposeRetention Purpose = "retention"
	// PurposeErasureRequest: erasure because the person asked.
	PurposeErasureRequest Purpose = "erasure-request"
	// PurposeOversight: reviewing or exporting the audit log.
	PurposeOversight Purpose = "oversight"
	// PurposeVCAPI: issuing credentials for an integrated system through
	// the W3C VC API, and changing their status, outside any programme.
	PurposeVCAPI Purpose = "vc-api"
	// PurposeReferral: receiving a referral, deciding on it, recording its
	// outcome, and the feedback on it (issue 7).
	PurposeReferral Purpose = "referral"
)

// programmePrefix begins a purpose that names a programme.
const programmePrefix = "programme:"

// ProgrammePurpose is the purpose of work done for the programme whose
// code is code (as in a credential's "programme" claim: "MPCA-2026").
func ProgrammePurpose(code string) Purpose { return Purpose(programmePrefix + code) }

// Programme returns the programme code of a programme's purpose, and
// whether p is one.
func (p Purpose) Programme() (string, bool) {
	return strings.CutPrefix(string(p), programmePrefix)
}

// Valid reports whether p is a purpose of the fixed vocabulary, or a
// programme's purpose with a well-formed code. Whether that programme
// exists is for a Programmes catalogue to say (Options.Programmes).
func (p Purpose) Valid() bool {
	if code, ok := p.Programme(); ok {
		return validCode(code)
	}
	switch p {
	case PurposeAdministration, PurposeSecurity, PurposeRectification,
		PurposeRetention, PurposeErasureRequest, PurposeOversight, PurposeVCAPI, PurposeReferral:
		return true
	}
	return false
}
