package credentials

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The CWT claims of a QR card (RFC 8392, and docs/qr-card.md). The structs
// serve both ways: issuing encodes them, parsing decodes into them, with
// integer keys (keyasint) rather than generic maps.

// CWT claim keys of the card beyond the registered iss (1), exp (4), nbf (5)
// and iat (6).
const (
	// CWTClaim169 is the key of the MOSIP identity-data claim.
	CWTClaim169 = 169
	// CWTClaimTally is the key of tally's private-use claim, a map with the
	// small integer keys of docs/qr-card.md.
	CWTClaimTally = -65537
)

// cardCWT is the card's CWT claims set.
type cardCWT struct {
	Issuer    string `cbor:"1,keyasint,omitempty"`
	Expires   *int64 `cbor:"4,keyasint,omitempty"`
	NotBefore *int64 `cbor:"5,keyasint,omitempty"`
	IssuedAt  *int64 `cbor:"6,keyasint,omitempty"`
	// CTI (RFC 8392 claim 7) is a referral card's credential id, a
	// urn:uuid as its 16 bytes: the receiving organisation records the
	// referral, and tells the referring one what became of it, by its id.
	CTI      bstr         `cbor:"7,keyasint,omitempty"`
	Identity *claim169    `cbor:"169,keyasint,omitempty"`
	Tally    *tallyClaims `cbor:"-65537,keyasint,omitempty"`
}

// claim169 is the part of the MOSIP Claim 169 identity map (spec v1.2) that
// tally reads and writes. Keys it does not know are skipped when decoding:
// other Claim 169 issuers may set more.
type claim169 struct {
	ID           string `cbor:"1,keyasint,omitempty"`
	Language     string `cbor:"3,keyasint,omitempty"`
	FullName     string `cbor:"4,keyasint,omitempty"`
	FirstName    string `cbor:"5,keyasint,omitempty"`
	LastName     string `cbor:"7,keyasint,omitempty"`
	DateOfBirth  string `cbor:"8,keyasint,omitempty"` // YYYYMMDD, full dates only
	Gender       int    `cbor:"9,keyasint,omitempty"` // 1 male, 2 female, 3 other
	LocationCode string `cbor:"21,keyasint,omitempty"`
}

// tallyClaims is the map of CWT claim -65537. Its keys are a wire format:
// docs/qr-card.md lists them; never renumber one.
type tallyClaims struct {
	Type          int              `cbor:"1,keyasint"`
	Seed          bstr             `cbor:"2,keyasint,omitempty"`
	StatusList    *uint32          `cbor:"3,keyasint,omitempty"`
	StatusIndex   *uint32          `cbor:"4,keyasint,omitempty"`
	Programme     string           `cbor:"5,keyasint,omitempty"`
	Entitlement   *cardEntitlement `cbor:"6,keyasint,omitempty"`
	HouseholdSize int              `cbor:"7,keyasint,omitempty"`
	ReferredTo    string           `cbor:"8,keyasint,omitempty"`
	Service       string           `cbor:"9,keyasint,omitempty"`
	Urgency       int              `cbor:"10,keyasint,omitempty"`
	Consent       *cardConsent     `cbor:"11,keyasint,omitempty"`
	// BirthDate is a partly known date of birth, YYYYMM or YYYY: Claim 169
	// key 8 carries full dates only.
	BirthDate string `cbor:"12,keyasint,omitempty"`
}

// cardEntitlement is an Entitlement as a compact array:
// [amount, currency, frequency code, instalments].
type cardEntitlement struct {
	_           struct{} `cbor:",toarray"`
	Amount      int64
	Currency    string
	Frequency   int
	Instalments int
}

// cardConsent is a Consent as a compact array:
// [purpose, method code, date as the integer YYYYMMDD, [field names]].
type cardConsent struct {
	_       struct{} `cbor:",toarray"`
	Purpose string
	Method  int
	Date    int
	Fields  []string
}

// cardClaims builds the CWT claims of a card for c, issued at now. The
// schema decides which claims go on the card; c must be valid.
func cardClaims(c *Credential, now time.Time) (*cardCWT, error) {
	typeCode := cardTypeCode(c.Type)
	if typeCode == 0 {
		return nil, fmt.Errorf("card: unknown credential type %q", c.Type)
	}
	iat := now.Unix()
	out := &cardCWT{
		Issuer:   c.Issuer,
		IssuedAt: &iat,
		Identity: &claim169{},
		Tally:    &tallyClaims{Type: typeCode},
	}
	if !c.ValidUntil.IsZero() {
		exp := c.ValidUntil.Unix()
		out.Expires = &exp
	}
	// nbf only when the card becomes valid after it is issued: a card cannot
	// be shown before it exists, so an earlier validFrom adds nothing a
	// verifier could check, and costs six bytes.
	if !c.ValidFrom.IsZero() && c.ValidFrom.Unix() > iat {
		nbf := c.ValidFrom.Unix()
		out.NotBefore = &nbf
	}
	if c.Type == TypeReferral {
		if u, ok := uuidBytes(c.ID); ok {
			out.CTI = u
		}
	}
	if len(c.Status) > 0 {
		list, index, ok := TallyStatus(c.Status)
		if !ok {
			return nil, fmt.Errorf("card: the credential's status entries do not follow tally's layout ({base}/revocation/N and {base}/suspension/N, same index), so a card cannot carry them")
		}
		if list > math.MaxUint32 || index > math.MaxUint32 {
			return nil, fmt.Errorf("card: status list %d index %d is too large for a card", list, index)
		}
		l, i := uint32(list), uint32(index)
		out.Tally.StatusList, out.Tally.StatusIndex = &l, &i
	}
	for _, cl := range schema {
		if !cl.OnCard(c.Type) {
			continue
		}
		if cl.Claim169 == 0 && cl.CardKey == 0 && cl.Name != "sharedFields" {
			return nil, fmt.Errorf("card: claim %s is on %s cards but has neither a Claim 169 key nor a card key", cl.Name, c.Type)
		}
		if err := putClaim(out, c.Subject, cl.Name); err != nil {
			return nil, fmt.Errorf("card: %w", err)
		}
	}
	if *out.Identity == (claim169{}) {
		out.Identity = nil
	}
	return out, nil
}

// putClaim writes the claim named name of subject s into the card claims.
func putClaim(out *cardCWT, s Subject, name string) (err error) {
	t := out.Tally
	switch s := s.(type) {
	case *Registration:
		switch name {
		case "fullName", "dateOfBirth", "gender", "locationCode", "language", "firstName", "lastName":
			return putIdentity(out, name, registrationValue(s, name))
		case "programme":
			t.Programme = s.Programme
			return nil
		case "householdSize":
			t.HouseholdSize = s.HouseholdSize
			return nil
		}
	case *Eligibility:
		switch name {
		case "programme":
			t.Programme = s.Programme
			return nil
		case "householdSize":
			t.HouseholdSize = s.HouseholdSize
			return nil
		case "entitlement":
			if e := s.Entitlement; e != nil {
				f, err := code("entitlement.frequency", cardFrequencies, e.Frequency)
				if err != nil {
					return err
				}
				t.Entitlement = &cardEntitlement{Amount: e.Amount, Currency: e.Currency, Frequency: f, Instalments: e.Instalments}
			}
			return nil
		}
	case *Referral:
		switch name {
		case "referredTo":
			t.ReferredTo = s.ReferredTo
			return nil
		case "service":
			t.Service = s.Service
			return nil
		case "urgency":
			t.Urgency, err = enumCode("urgency", s.Urgency)
			return err
		case "consent":
			if cs := s.Consent; cs != nil {
				m, err := code("consent.method", cardMethods, cs.Method)
				if err != nil {
					return err
				}
				d, err := dayNumber(cs.Date)
				if err != nil {
					return fmt.Errorf("consent.%w", err)
				}
				t.Consent = &cardConsent{Purpose: cs.Purpose, Method: m, Date: d, Fields: cs.Fields}
			}
			return nil
		case "sharedFields":
			return putShared(out, s.SharedFields)
		}
	default:
		return fmt.Errorf("unknown subject type %T", s)
	}
	switch name {
	case "registrationId":
		out.Identity.ID = SubjectRegistrationID(s)
		return nil
	case "dedupSeed":
		if seed := SubjectSeed(s); seed != nil {
			t.Seed = bstr(seed)
		}
		return nil
	}
	return fmt.Errorf("claim %s is on %s cards but the card profile has no place for it", name, s.CredentialType())
}

// putShared writes the registration claims a referral passes on: under their
// Claim 169 key, or else their card key; high-sensitivity ones stay off.
func putShared(out *cardCWT, shared map[string]string) error {
	for name, v := range shared {
		cl, ok := LookupClaim(name)
		if !ok || !cl.Defines(TypeRegistration) || cl.Sensitivity >= High {
			continue
		}
		switch {
		case cl.Claim169 != 0:
			if err := putIdentity(out, name, v); err != nil {
				return fmt.Errorf("sharedFields.%w", err)
			}
		case name == "programme":
			out.Tally.Programme = v
		case name == "householdSize":
			n, err := strconv.Atoi(v)
			if err != nil || strconv.Itoa(n) != v || n <= 0 {
				return fmt.Errorf("sharedFields.householdSize is not a whole number a card can carry")
			}
			out.Tally.HouseholdSize = n
		default:
			return fmt.Errorf("sharedFields.%s has no place on a card", name)
		}
	}
	return nil
}

func registrationValue(r *Registration, name string) string {
	switch name {
	case "fullName":
		return r.FullName
	case "firstName":
		return r.FirstName
	case "lastName":
		return r.LastName
	case "dateOfBirth":
		return r.DateOfBirth
	case "gender":
		return r.Gender
	case "locationCode":
		return r.LocationCode
	case "language":
		return r.Language
	}
	return ""
}

// putIdentity writes one identity claim into the Claim 169 map with the
// value encoding of Claim 169 v1.2; a partly known date of birth goes into
// tally's private claim instead.
func putIdentity(out *cardCWT, name, v string) (err error) {
	id := out.Identity
	switch name {
	case "fullName":
		id.FullName = v
	case "firstName":
		id.FirstName = v
	case "lastName":
		id.LastName = v
	case "dateOfBirth":
		id.DateOfBirth, out.Tally.BirthDate, err = cardDate(v)
	case "gender":
		id.Gender, err = enumCode("gender", v)
	case "locationCode":
		id.LocationCode = v
	case "language":
		id.Language = v
	default:
		return fmt.Errorf("%s has no Claim 169 encoding in tally", name)
	}
	return err
}

// identityValue reads one identity claim back from the Claim 169 map (and
// a partly known date of birth from tally's private claim).
func identityValue(id *claim169, t *tallyClaims, name string) (string, error) {
	switch name {
	case "fullName":
		return id.FullName, nil
	case "firstName":
		return id.FirstName, nil
	case "lastName":
		return id.LastName, nil
	case "dateOfBirth":
		return uncardDate(id.DateOfBirth, t.BirthDate)
	case "gender":
		return enumValue("gender", id.Gender)
	case "locationCode":
		return id.LocationCode, nil
	case "language":
		return id.Language, nil
	}
	return "", nil
}

// credentialFromClaims maps decoded card claims back into a credential.
// Claims that the card's type does not carry are ignored.
func credentialFromClaims(p *cardCWT) (*Credential, error) {
	if p.Tally == nil {
		return nil, fmt.Errorf("card: no tally claim (CWT claim %d): not a tally card: %w", CWTClaimTally, ErrMalformed)
	}
	t := p.Tally
	if t.Type <= 0 || t.Type >= len(cardTypeCodes) {
		return nil, fmt.Errorf("card: credential type code %d is not 1, 2 or 3: %w", t.Type, ErrMalformed)
	}
	typ := cardTypeCodes[t.Type]
	if p.Issuer == "" {
		return nil, fmt.Errorf("card: no issuer (CWT claim 1): %w", ErrMalformed)
	}
	c := &Credential{Type: typ, Issuer: p.Issuer}
	// A cti of another length is another issuer's token id, not a
	// credential id of tally's: it is ignored, as unknown claims are.
	if len(p.CTI) == 16 {
		h := hex.EncodeToString(p.CTI)
		c.ID = "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	switch {
	case p.NotBefore != nil:
		c.ValidFrom = time.Unix(*p.NotBefore, 0).UTC()
	case p.IssuedAt != nil:
		c.ValidFrom = time.Unix(*p.IssuedAt, 0).UTC()
	}
	if p.Expires != nil {
		c.ValidUntil = time.Unix(*p.Expires, 0).UTC()
	}
	switch {
	case t.StatusList != nil && t.StatusIndex != nil:
		c.Status = StatusEntries("", int(*t.StatusList), int(*t.StatusIndex))
	case t.StatusList != nil || t.StatusIndex != nil:
		return nil, fmt.Errorf("card: a status list number needs a status index, and the other way round: %w", ErrMalformed)
	}
	if t.HouseholdSize < 0 {
		return nil, fmt.Errorf("card: the household size is negative: %w", ErrMalformed)
	}
	var seed Seed
	if t.Seed != nil {
		if len(t.Seed) != SeedSize {
			return nil, fmt.Errorf("card: the dedup seed is %d bytes, not %d: %w", len(t.Seed), SeedSize, ErrMalformed)
		}
		seed = Seed(t.Seed)
	}
	id := p.Identity
	if id == nil {
		id = &claim169{}
	}
	var err error
	switch typ {
	case TypeRegistration:
		r := &Registration{RegistrationID: id.ID, DedupSeed: seed}
		for _, cl := range schema {
			if !cl.OnCard(typ) {
				continue
			}
			switch cl.Name {
			case "programme":
				r.Programme = t.Programme
			case "householdSize":
				r.HouseholdSize = t.HouseholdSize
			default:
				if cl.Claim169 == 0 {
					continue
				}
				v, err := identityValue(id, t, cl.Name)
				if err != nil {
					return nil, err
				}
				setRegistrationValue(r, cl.Name, v)
			}
		}
		c.Subject = r
	case TypeEligibility:
		e := &Eligibility{RegistrationID: id.ID, Programme: t.Programme, HouseholdSize: t.HouseholdSize, DedupSeed: seed}
		if ce := t.Entitlement; ce != nil {
			en := &Entitlement{Amount: ce.Amount, Currency: ce.Currency, Instalments: ce.Instalments}
			if en.Frequency, err = uncode("entitlement frequency", cardFrequencies, ce.Frequency); err != nil {
				return nil, err
			}
			e.Entitlement = en
		}
		c.Subject = e
	case TypeReferral:
		r := &Referral{RegistrationID: id.ID, ReferredTo: t.ReferredTo, Service: t.Service, DedupSeed: seed}
		if r.Urgency, err = enumValue("urgency", t.Urgency); err != nil {
			return nil, err
		}
		if cc := t.Consent; cc != nil {
			cs := &Consent{Purpose: cc.Purpose, Fields: cc.Fields}
			if cs.Method, err = uncode("consent method", cardMethods, cc.Method); err != nil {
				return nil, err
			}
			if cs.Date, err = unDayNumber(cc.Date); err != nil {
				return nil, err
			}
			r.Consent = cs
		}
		if r.SharedFields, err = sharedFromClaims(id, t); err != nil {
			return nil, err
		}
		c.Subject = r
	}
	return c, nil
}

// sharedFromClaims reads a referral's shared fields back: every registration
// claim below the high class found under its Claim 169 or card key.
func sharedFromClaims(id *claim169, t *tallyClaims) (map[string]string, error) {
	var shared map[string]string
	add := func(name, v string) {
		if v == "" {
			return
		}
		if shared == nil {
			shared = make(map[string]string, 4)
		}
		shared[name] = v
	}
	for _, cl := range schema {
		if !cl.Defines(TypeRegistration) || cl.Sensitivity >= High {
			continue
		}
		switch {
		case cl.Claim169 != 0 && cl.Name != "registrationId":
			v, err := identityValue(id, t, cl.Name)
			if err != nil {
				return nil, err
			}
			add(cl.Name, v)
		case cl.Name == "programme":
			add(cl.Name, t.Programme)
		case cl.Name == "householdSize" && t.HouseholdSize != 0:
			add(cl.Name, strconv.Itoa(t.HouseholdSize))
		}
	}
	return shared, nil
}

func setRegistrationValue(r *Registration, name, v string) {
	switch name {
	case "fullName":
		r.FullName = v
	case "firstName":
		r.FirstName = v
	case "lastName":
		r.LastName = v
	case "dateOfBirth":
		r.DateOfBirth = v
	case "gender":
		r.Gender = v
	case "locationCode":
		r.LocationCode = v
	case "language":
		r.Language = v
	}
}

// uuidBytes reads a credential id of the form urn:uuid:8-4-4-4-12 (lower-
// case hex) as its 16 bytes.
func uuidBytes(id string) ([]byte, bool) {
	h, ok := strings.CutPrefix(id, "urn:uuid:")
	if !ok || len(h) != 36 || h[8] != '-' || h[13] != '-' || h[18] != '-' || h[23] != '-' {
		return nil, false
	}
	h = h[:8] + h[9:13] + h[14:18] + h[19:23] + h[24:]
	if strings.ToLower(h) != h {
		return nil, false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, false
	}
	return b, true
}
