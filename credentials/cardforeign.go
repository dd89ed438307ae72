package credentials

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Claim 169 cards of other issuers: national ID cards and the like, signed
// as tally's cards are (COSE_Sign1 around CWT claims with the Claim 169
// identity map) but without tally's private claim -65537. ParseCard reads
// them into the generic view only: Credential is nil, View holds the
// identity decoded by the table of Claim 169 v1.2.2 (MOSIP, id-claim-169,
// section 3.1). docs/qr-card.md gives the mapping.

// Claim169Type is the type a foreign Claim 169 card declares in its View,
// after "VerifiableCredential". A trust list names it for the issuers whose
// identity cards a verifier accepts.
const Claim169Type = "Claim169Identity"

// maxIssuerSize bounds a foreign card's iss.
const maxIssuerSize = 512

// claim169Kind is how a Claim 169 value is decoded.
type claim169Kind uint8

const (
	c169Unassigned claim169Kind = iota // not in the table: kept under "unknown"
	c169Text                           // tstr, as it is
	c169Int                            // int, as it is (the spec's codes, unchecked)
	c169Date                           // tstr YYYYMMDD or YYYY-MM-DD, shown as YYYY-MM-DD
	c169Ints                           // [int]
	c169Skipped                        // photo and biometrics: named in View.Skipped
)

// String names the CBOR type of a kind, for errors.
func (k claim169Kind) String() string {
	switch k {
	case c169Text, c169Date:
		return "text"
	case c169Int:
		return "an integer"
	case c169Ints:
		return "an array of integers"
	}
	return "any value"
}

// claim169Field is one row of the Claim 169 v1.2.2 table.
type claim169Field struct {
	name string
	kind claim169Kind
}

// claim169Fields is the Claim 169 v1.2.2 identity table, by key. The names
// are the spec's attribute names in lower camel case.
var claim169Fields = [...]claim169Field{
	1:  {"id", c169Text},
	2:  {"version", c169Text},
	3:  {"language", c169Text},
	4:  {"fullName", c169Text},
	5:  {"firstName", c169Text},
	6:  {"middleName", c169Text},
	7:  {"lastName", c169Text},
	8:  {"dateOfBirth", c169Date},
	9:  {"gender", c169Int},
	10: {"address", c169Text},
	11: {"email", c169Text},
	12: {"phone", c169Text},
	13: {"nationality", c169Text},
	14: {"maritalStatus", c169Int},
	15: {"guardian", c169Text},
	16: {"photo", c169Skipped},   // deprecated in v1.2.2 for key 62
	17: {"photoFormat", c169Int}, // deprecated in v1.2.2 for key 62
	18: {"bestQualityFingers", c169Ints},
	19: {"secondaryFullName", c169Text},
	20: {"secondaryLanguage", c169Text},
	21: {"locationCode", c169Text},
	22: {"legalStatus", c169Text},
	23: {"countryOfIssuance", c169Text},
	50: {"rightThumb", c169Skipped},
	51: {"rightPointerFinger", c169Skipped},
	52: {"rightMiddleFinger", c169Skipped},
	53: {"rightRingFinger", c169Skipped},
	54: {"rightLittleFinger", c169Skipped},
	55: {"leftThumb", c169Skipped},
	56: {"leftPointerFinger", c169Skipped},
	57: {"leftMiddleFinger", c169Skipped},
	58: {"leftRingFinger", c169Skipped},
	59: {"leftLittleFinger", c169Skipped},
	60: {"rightIris", c169Skipped},
	61: {"leftIris", c169Skipped},
	62: {"face", c169Skipped},
	63: {"rightPalmPrint", c169Skipped},
	64: {"leftPalmPrint", c169Skipped},
	65: {"voice", c169Skipped},
}

// claim169UnknownName is the claim under which a foreign card's Claim 169
// keys outside the table are kept, as {"key": value}.
const claim169UnknownName = "unknown"

// cwtClaimNames names the registered CWT claims (RFC 8392, RFC 8747) a
// foreign card may carry beside the ones tally reads, for View.Skipped.
var cwtClaimNames = map[int64]string{2: "sub", 3: "aud", 7: "cti", 8: "cnf"}

// cwtClaimStatus is the CWT claim of the IETF Token Status List (status).
// tally does not read it on a foreign card; a card that carries it has a
// status that was not checked (View.UncheckedStatus), never none.
const cwtClaimStatus = 65535

// foreignCard is what a Claim 169 card of another issuer says.
type foreignCard struct {
	issuer     string
	keyID      string
	validFrom  time.Time
	validUntil time.Time
	claims     json.RawMessage
	skipped    []string
	unchecked  json.RawMessage // the status claim, when there is one
}

// parseForeignCard reads the claims of a card without tally's claim: the
// CWT claims iss, exp, nbf and iat (already decoded into p) and the Claim
// 169 map. Everything it keeps is bounded by the card's decoding limits.
func parseForeignCard(m *coseMessage, p *cardCWT) (*foreignCard, error) {
	f := &foreignCard{issuer: p.Issuer, keyID: foreignKeyID(m.kid)}
	if len(f.issuer) > maxIssuerSize || !printableID(f.issuer) {
		return nil, fmt.Errorf("card: the issuer (CWT iss) is not an identifier of at most %d printable characters without spaces: %w", maxIssuerSize, ErrMalformed)
	}
	for _, t := range []struct {
		name string
		v    *int64
		set  *time.Time
	}{{"exp", p.Expires, &f.validUntil}, {"nbf", p.NotBefore, &f.validFrom}, {"iat", p.IssuedAt, nil}} {
		if t.v == nil {
			continue
		}
		if *t.v < 0 || *t.v > maxNumericDate {
			return nil, fmt.Errorf("card: the CWT %s is not a time between 1970 and 9999: %w", t.name, ErrMalformed)
		}
		if t.set != nil {
			*t.set = time.Unix(*t.v, 0).UTC()
		}
	}
	var top map[any]cbor.RawMessage
	var err error
	if err = cardDecMode.Unmarshal(m.payload, &top); err != nil {
		return nil, fmt.Errorf("card: bad CWT claims: %v: %w", err, ErrMalformed)
	}
	var identity cbor.RawMessage
	for _, k := range sortedKeys(top) {
		n, isInt := intKey(k)
		switch {
		case isInt && n == CWTClaim169:
			identity = top[k]
		case isInt && (n == 1 || n == 4 || n == 5 || n == 6):
		case isInt && n == cwtClaimStatus:
			var x, j any = nil, "not representable as JSON"
			if cardDecMode.Unmarshal(top[k], &x) == nil {
				if v, ok := jsonValue(x); ok {
					j = v
				}
			}
			if f.unchecked, err = json.Marshal([]any{j}); err != nil {
				return nil, fmt.Errorf("card: the CWT status claim: %w", ErrMalformed)
			}
			f.skipped = append(f.skipped, "CWT claim 65535 (status): status not checked")
		case isInt && cwtClaimNames[n] != "":
			f.skipped = append(f.skipped, "CWT claim "+strconv.FormatInt(n, 10)+" ("+cwtClaimNames[n]+")")
		default:
			f.skipped = append(f.skipped, "CWT claim "+keyString(k))
		}
	}
	if identity == nil {
		return nil, fmt.Errorf("card: no Claim 169 identity (CWT claim %d) and no tally claim (%d): %w", CWTClaim169, CWTClaimTally, ErrMalformed)
	}
	claims, skipped, err := decodeClaim169(identity)
	if err != nil {
		return nil, err
	}
	f.skipped = append(skipped, f.skipped...)
	if f.claims, err = json.Marshal(claims); err != nil {
		return nil, fmt.Errorf("card: the Claim 169 identity has no JSON form: %v: %w", err, ErrMalformed)
	}
	return f, nil
}

// decodeClaim169 decodes a Claim 169 identity map by the v1.2.2 table into
// named claims, the keys outside the table under "unknown", and the names
// of what it skips (photo, biometrics, values JSON cannot hold). A value of
// the wrong type is an error; errors name the key, never the value.
func decodeClaim169(raw cbor.RawMessage) (claims map[string]any, skipped []string, err error) {
	var id map[any]cbor.RawMessage
	if err := cardDecMode.Unmarshal(raw, &id); err != nil {
		return nil, nil, fmt.Errorf("card: bad Claim 169 identity: %v: %w", err, ErrMalformed)
	}
	claims = make(map[string]any, len(id))
	unknown := map[string]any{}
	for _, k := range sortedKeys(id) {
		v := id[k]
		n, isInt := intKey(k)
		var field claim169Field
		if isInt && n > 0 && n < int64(len(claim169Fields)) {
			field = claim169Fields[n]
		}
		if field.kind == c169Unassigned {
			switch k.(type) {
			case int64, uint64, string:
			default:
				return nil, nil, fmt.Errorf("card: a Claim 169 key is neither a number nor text: %w", ErrMalformed)
			}
			name := keyString(k)
			if _, dup := unknown[name]; dup {
				return nil, nil, fmt.Errorf("card: Claim 169 key %s appears twice, as a number and as text: %w", name, ErrMalformed)
			}
			var x any
			if err := cardDecMode.Unmarshal(v, &x); err != nil {
				return nil, nil, fmt.Errorf("card: bad Claim 169 key %s: %w", name, ErrMalformed)
			}
			if j, ok := jsonValue(x); ok {
				unknown[name] = j
			} else {
				skipped = append(skipped, claim169UnknownName+"."+name)
			}
			continue
		}
		var val any
		switch field.kind {
		case c169Text:
			var s string
			err = cardDecMode.Unmarshal(v, &s)
			val = s
		case c169Int:
			var i int64
			err = cardDecMode.Unmarshal(v, &i)
			val = i
		case c169Ints:
			var is []int64
			err = cardDecMode.Unmarshal(v, &is)
			if is == nil {
				is = []int64{}
			}
			val = is
		case c169Date:
			var s string
			if err = cardDecMode.Unmarshal(v, &s); err == nil {
				if val, err = claim169Date(s); err != nil {
					return nil, nil, err
				}
			}
		case c169Skipped:
			skipped = append(skipped, field.name)
			continue
		}
		if err != nil {
			// The decoder's message may quote a number; say what was wanted.
			return nil, nil, fmt.Errorf("card: Claim 169 key %d (%s) is not %s, as the spec says: %w", n, field.name, field.kind, ErrMalformed)
		}
		claims[field.name] = val
	}
	if len(unknown) > 0 {
		claims[claim169UnknownName] = unknown
	}
	return claims, skipped, nil
}

// claim169Date reads a Claim 169 date of birth, YYYYMMDD as the spec says
// or YYYY-MM-DD as some issuers write it, as YYYY-MM-DD.
func claim169Date(s string) (string, error) {
	if len(s) == 8 {
		s = s[:4] + "-" + s[4:6] + "-" + s[6:]
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !isDigits(s[:4]) || !isDigits(s[5:7]) || !isDigits(s[8:]) {
		return "", fmt.Errorf("card: the Claim 169 date of birth (key 8) is neither YYYYMMDD nor YYYY-MM-DD: %w", ErrMalformed)
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("card: the Claim 169 date of birth (key 8) is not a calendar date: %w", ErrMalformed)
	}
	return s, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// jsonValue turns a decoded CBOR value into one encoding/json writes the
// same way every time: byte strings as standard base64, map keys as text.
// ok is false for what JSON cannot hold (NaN, infinities, simple values,
// map keys that are neither numbers nor text, or that collide as text).
func jsonValue(v any) (_ any, ok bool) {
	switch v := v.(type) {
	case nil, bool, string, uint64, int64:
		return v, true
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case big.Int:
		return &v, true
	case *big.Int:
		return v, true
	case []byte:
		return base64.StdEncoding.EncodeToString(v), true
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			if out[i], ok = jsonValue(x); !ok {
				return nil, false
			}
		}
		return out, true
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			switch k.(type) {
			case uint64, int64, string:
			default:
				return nil, false
			}
			name := keyString(k)
			if _, dup := out[name]; dup {
				return nil, false
			}
			if out[name], ok = jsonValue(x); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// intKey returns a decoded map key as an int64, if it is an integer that
// fits.
func intKey(k any) (int64, bool) {
	switch k := k.(type) {
	case int64:
		return k, true
	case uint64:
		if k <= math.MaxInt64 {
			return int64(k), true
		}
	}
	return 0, false
}

// keyString names a decoded map key: a number in decimal, text as it is,
// anything else by its CBOR type.
func keyString(k any) string {
	switch k := k.(type) {
	case int64:
		return strconv.FormatInt(k, 10)
	case uint64:
		return strconv.FormatUint(k, 10)
	case string:
		return k
	}
	return fmt.Sprintf("of type %T", k)
}

// sortedKeys returns a decoded map's keys in a stable order: integers
// ascending, then the rest by their names.
func sortedKeys[V any](m map[any]V) []any {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b any) int {
		x, xInt := intKey(a)
		y, yInt := intKey(b)
		switch {
		case xInt && yInt:
			return cmp.Compare(x, y)
		case xInt:
			return -1
		case yInt:
			return 1
		}
		return cmp.Compare(keyString(a), keyString(b))
	})
	return keys
}

// foreignKeyID is the KeyID of a foreign card: "" without a kid, the kid
// itself when it is printable ASCII (as "k-1101" in the Claim 169 spec's
// example), else its hex form.
func foreignKeyID(kid []byte) string {
	if len(kid) == 0 {
		return ""
	}
	for _, b := range kid {
		if b < 0x21 || b > 0x7e {
			return hex.EncodeToString(kid)
		}
	}
	return string(kid)
}

// printableID reports whether s is valid UTF-8 with only printable
// characters and no spaces.
func printableID(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// view is the generic view of a foreign card.
func (f *foreignCard) view() *View {
	return &View{
		Types:      []string{"VerifiableCredential", Claim169Type},
		Issuer:     f.issuer,
		ValidFrom:  f.validFrom,
		ValidUntil: f.validUntil,
		Claims:     slices.Clone(f.claims),
		Skipped:    slices.Clone(f.skipped),

		UncheckedStatus: slices.Clone(f.unchecked),
	}
}
