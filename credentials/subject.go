package credentials

// Registration is the subject of a RegistrationCredential: who the person is,
// as recorded once, with consent, at registration.
type Registration struct {
	// ID is the holder's DID, when the credential is bound to a wallet.
	ID             string `json:"id,omitempty"`
	RegistrationID string `json:"registrationId"`
	FullName       string `json:"fullName"`
	FirstName      string `json:"firstName,omitempty"`
	LastName       string `json:"lastName,omitempty"`
	// DateOfBirth is YYYY-MM-DD; a partly known date may give only YYYY or YYYY-MM.
	DateOfBirth string `json:"dateOfBirth,omitempty"`
	// Gender is female, male or other.
	Gender string `json:"gender,omitempty"`
	// Nationality is an ISO 3166-1 alpha-2 code. High sensitivity.
	Nationality string `json:"nationality,omitempty"`
	// LegalStatus is, for example, refugee or asylum-seeker. High sensitivity.
	LegalStatus   string `json:"legalStatus,omitempty"`
	LocationCode  string `json:"locationCode,omitempty"`
	Language      string `json:"language,omitempty"`
	Programme     string `json:"programme,omitempty"`
	HouseholdSize int    `json:"householdSize,omitempty"`
	// DedupSeed is the person's 16-byte pairwise dedup seed. Verifiers
	// derive dedup tokens from it and never show it.
	DedupSeed Seed `json:"dedupSeed,omitempty"`
}

// Eligibility is the subject of an EligibilityCredential: the programme a
// registered person may receive assistance from, and how much.
type Eligibility struct {
	ID             string       `json:"id,omitempty"`
	RegistrationID string       `json:"registrationId"`
	Programme      string       `json:"programme"`
	Purpose        string       `json:"purpose,omitempty"`
	HouseholdSize  int          `json:"householdSize,omitempty"`
	Entitlement    *Entitlement `json:"entitlement,omitempty"`
	DedupSeed      Seed         `json:"dedupSeed,omitempty"`
}

// Entitlement is what an eligible household receives.
type Entitlement struct {
	// Amount is in the currency's minor-free unit (6500 KES).
	Amount int64 `json:"amount"`
	// Currency is an ISO 4217 code.
	Currency string `json:"currency"`
	// Frequency is once, weekly or monthly.
	Frequency   string `json:"frequency,omitempty"`
	Instalments int    `json:"instalments,omitempty"`
}

// Referral is the subject of a ReferralCredential: a referral to another
// organisation's service, with the consent for the fields it passes on.
type Referral struct {
	ID             string `json:"id,omitempty"`
	RegistrationID string `json:"registrationId"`
	// ReferredTo is the DID of the organisation the person is referred to.
	ReferredTo string `json:"referredTo"`
	Service    string `json:"service"`
	// Urgency is low, medium or high.
	Urgency string `json:"urgency,omitempty"`
	// Reason is free text, often health information. High sensitivity.
	Reason  string   `json:"reason,omitempty"`
	Consent *Consent `json:"consent"`
	// SharedFields are registration claims passed on with consent; each
	// must be named in Consent.Fields.
	SharedFields map[string]string `json:"sharedFields,omitempty"`
	DedupSeed    Seed              `json:"dedupSeed,omitempty"`
}

// Consent records informed consent: for what, how it was given, when, and
// which fields it covers.
type Consent struct {
	Purpose string `json:"purpose"`
	// Method is verbal, written or digital.
	Method string `json:"method"`
	// Date is YYYY-MM-DD.
	Date   string   `json:"date"`
	Fields []string `json:"fields,omitempty"`
}

// CredentialType implements Subject.
func (*Registration) CredentialType() Type { return TypeRegistration }

// CredentialType implements Subject.
func (*Eligibility) CredentialType() Type { return TypeEligibility }

// CredentialType implements Subject.
func (*Referral) CredentialType() Type { return TypeReferral }

// SubjectSeed returns the dedup seed a subject carries, or nil.
func SubjectSeed(s Subject) Seed {
	switch s := s.(type) {
	case *Registration:
		return s.DedupSeed
	case *Eligibility:
		return s.DedupSeed
	case *Referral:
		return s.DedupSeed
	}
	return nil
}

// SetSubjectSeed sets the dedup seed of a subject (nil clears it).
func SetSubjectSeed(s Subject, seed Seed) {
	switch s := s.(type) {
	case *Registration:
		s.DedupSeed = seed
	case *Eligibility:
		s.DedupSeed = seed
	case *Referral:
		s.DedupSeed = seed
	}
}

// SubjectRegistrationID returns the registration ID a subject carries.
func SubjectRegistrationID(s Subject) string {
	switch s := s.(type) {
	case *Registration:
		return s.RegistrationID
	case *Eligibility:
		return s.RegistrationID
	case *Referral:
		return s.RegistrationID
	}
	return ""
}
