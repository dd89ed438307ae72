package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Disclosing an SD-JWT's claims: RFC 9901 section 7.1, step 3. Every
// embedded digest of the issuer-signed payload (the _sd list of an object,
// an array element {"...": digest}) is looked up among the disclosures; a
// disclosure found replaces it, and is processed in turn, so that claims
// nested at any level, in objects and in arrays, are disclosed. Digests
// found nowhere are decoys or claims the holder withheld.

// Bounds on what a verifier does with an SD-JWT before it checks the
// signature, beside the size of the token and checkJSONBounds.
const (
	// maxDisclosures bounds the disclosures of an SD-JWT. A tally
	// credential has at most 20; a national identity credential, nested
	// claims included, about 60.
	maxDisclosures = 512
	// maxDigests bounds the embedded digests, decoys included.
	maxDigests = 4096
	// maxDisclosedDepth bounds how deeply disclosed claims nest, counting
	// from the payload through the disclosures.
	maxDisclosedDepth = 16
)

// sdDisclosure is one disclosure of an SD-JWT, decoded.
type sdDisclosure struct {
	n     int    // its place among the disclosures, from 1
	name  string // the claim name; "" for an array element
	array bool   // [salt, value]: an array element
	value rawJSON
	used  bool
}

// discloser replaces the embedded digests of a payload with what the
// disclosures reveal.
type discloser struct {
	list     []sdDisclosure
	byDigest map[string]*sdDisclosure // into list
	seen     map[string]bool          // every embedded digest met so far
	// never are the claim names of the payload's top level that must not
	// be disclosed.
	never []string
}

// newDiscloser decodes the disclosures, in the order given.
func newDiscloser(disclosures []string, never []string) (*discloser, error) {
	if len(disclosures) > maxDisclosures {
		return nil, fmt.Errorf("SD-JWT has more than %d disclosures: %w", maxDisclosures, ErrMalformed)
	}
	d := &discloser{
		list:     make([]sdDisclosure, len(disclosures)),
		byDigest: make(map[string]*sdDisclosure, len(disclosures)),
		seen:     make(map[string]bool),
		never:    never,
	}
	for i, text := range disclosures {
		if text == "" {
			return nil, fmt.Errorf("SD-JWT disclosure %d is empty (two ~ in a row): %w", i+1, ErrMalformed)
		}
		digest := digestOf(text)
		if _, dup := d.byDigest[digest]; dup {
			return nil, fmt.Errorf("SD-JWT disclosure %d is given twice: %w", i+1, ErrMalformed)
		}
		dis, err := decodeDisclosure(text)
		if err != nil {
			return nil, fmt.Errorf("SD-JWT disclosure %d %w", i+1, err)
		}
		d.list[i] = sdDisclosure{n: i + 1, name: dis.name, array: dis.array, value: dis.value}
		d.byDigest[digest] = &d.list[i]
	}
	return d, nil
}

// see records an embedded digest: each may occur once in the payload and
// the disclosures together (RFC 9901 section 7.1, step 3.4).
func (d *discloser) see(digest string) error {
	if d.seen[digest] {
		return fmt.Errorf("SD-JWT lists the digest %s twice: %w", digest, ErrMalformed)
	}
	if len(d.seen) >= maxDigests {
		return fmt.Errorf("SD-JWT has more than %d digests: %w", maxDigests, ErrMalformed)
	}
	d.seen[digest] = true
	return nil
}

// disclose processes the payload, decoded one level: it returns its
// members with every disclosed claim in place and no _sd left, or an
// error if a disclosure is misplaced, or not one the issuer signed.
func (d *discloser) disclose(payload map[string]rawJSON) (map[string]rawJSON, error) {
	if _, err := d.object(payload, 0); err != nil {
		return nil, err
	}
	for _, dis := range d.list {
		if !dis.used {
			return nil, fmt.Errorf("SD-JWT disclosure %d is not one the issuer signed (no digest of it is in the payload or another disclosure): %w", dis.n, ErrMalformed)
		}
	}
	return payload, nil
}

// object discloses the claims of one object, decoded one level, in place,
// then processes its members' values. It reports whether it changed
// anything.
func (d *discloser) object(members map[string]rawJSON, depth int) (bool, error) {
	changed := false
	if raw, ok := members["_sd"]; ok {
		var digests []string
		if unmarshalJSON(raw, &digests) != nil {
			return false, fmt.Errorf("SD-JWT _sd must be a list of digests: %w", ErrMalformed)
		}
		delete(members, "_sd")
		changed = true
		for _, digest := range digests {
			if err := d.see(digest); err != nil {
				return false, err
			}
			dis, ok := d.byDigest[digest]
			if !ok {
				continue // a decoy, or a claim the holder withheld
			}
			switch {
			case dis.array:
				return false, fmt.Errorf("SD-JWT disclosure %d is an array element, but its digest is in an object's _sd: %w", dis.n, ErrMalformed)
			case dis.name == "_sd" || dis.name == "...":
				return false, fmt.Errorf("SD-JWT disclosure %d discloses a claim named %q, which RFC 9901 forbids: %w", dis.n, dis.name, ErrMalformed)
			case depth == 0 && slices.Contains(d.never, dis.name):
				return false, fmt.Errorf("SD-JWT disclosure %d discloses %q, a claim that is never selectively disclosed: %w", dis.n, dis.name, ErrMalformed)
			}
			if _, dup := members[dis.name]; dup {
				return false, fmt.Errorf("SD-JWT disclosure %d discloses %q, which the credential already has: %w", dis.n, dis.name, ErrMalformed)
			}
			dis.used = true
			members[dis.name] = dis.value
		}
	}
	for name, v := range members {
		out, vchanged, err := d.value(v, depth+1)
		if err != nil {
			return false, err
		}
		if vchanged {
			members[name] = out
			changed = true
		}
	}
	return changed, nil
}

// value processes one claim value: an object or array may hold embedded
// digests. It returns the value, encoded again if anything changed.
func (d *discloser) value(v rawJSON, depth int) (rawJSON, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || (v[0] != '{' && v[0] != '[') {
		return v, false, nil
	}
	if depth > maxDisclosedDepth {
		return nil, false, fmt.Errorf("SD-JWT claims nest more than %d deep: %w", maxDisclosedDepth, ErrMalformed)
	}
	if v[0] == '{' {
		var members map[string]rawJSON
		if unmarshalJSON(v, &members) != nil {
			return nil, false, fmt.Errorf("SD-JWT claims are not JSON: %w", ErrMalformed)
		}
		changed, err := d.object(members, depth)
		return encodeIfChanged(v, members, changed, err)
	}
	var elems []rawJSON
	if unmarshalJSON(v, &elems) != nil {
		return nil, false, fmt.Errorf("SD-JWT claims are not JSON: %w", ErrMalformed)
	}
	changed := false
	kept := elems[:0]
	for _, e := range elems {
		e = bytes.TrimSpace(e)
		if len(e) > 0 && e[0] == '{' {
			var members map[string]rawJSON
			if unmarshalJSON(e, &members) != nil {
				return nil, false, fmt.Errorf("SD-JWT claims are not JSON: %w", ErrMalformed)
			}
			if raw, ok := members["..."]; ok {
				// {"...": digest}: an element the holder may disclose.
				dis, err := d.element(raw, len(members))
				if err != nil {
					return nil, false, err
				}
				changed = true
				if dis == nil {
					continue // withheld, or a decoy
				}
				out, _, err := d.value(dis.value, depth+1)
				if err != nil {
					return nil, false, err
				}
				kept = append(kept, out)
				continue
			}
			if depth+1 > maxDisclosedDepth {
				return nil, false, fmt.Errorf("SD-JWT claims nest more than %d deep: %w", maxDisclosedDepth, ErrMalformed)
			}
			echanged, err := d.object(members, depth+1)
			out, echanged, err := encodeIfChanged(e, members, echanged, err)
			if err != nil {
				return nil, false, err
			}
			changed = changed || echanged
			kept = append(kept, out)
			continue
		}
		out, echanged, err := d.value(e, depth+1)
		if err != nil {
			return nil, false, err
		}
		changed = changed || echanged
		kept = append(kept, out)
	}
	return encodeIfChanged(v, kept, changed, nil)
}

// encodeIfChanged returns the value as it came when nothing changed, else
// the changed value encoded.
func encodeIfChanged(orig rawJSON, v any, changed bool, err error) (rawJSON, bool, error) {
	if err != nil || !changed {
		return orig, false, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("SD-JWT claims: %v: %w", err, ErrMalformed)
	}
	return b, true, nil
}

// element looks up the digest of an array element {"...": digest}, whose
// object has n members: the disclosure of the element, or nil when the
// holder withheld it (or it is a decoy).
func (d *discloser) element(raw rawJSON, n int) (*sdDisclosure, error) {
	var digest string
	if n != 1 || unmarshalJSON(raw, &digest) != nil {
		return nil, fmt.Errorf(`SD-JWT array element {"...": digest} must have a digest and no other member: %w`, ErrMalformed)
	}
	if err := d.see(digest); err != nil {
		return nil, err
	}
	dis, ok := d.byDigest[digest]
	if !ok {
		return nil, nil
	}
	if !dis.array {
		return nil, fmt.Errorf("SD-JWT disclosure %d discloses the claim %q, but its digest stands for an array element: %w", dis.n, dis.name, ErrMalformed)
	}
	dis.used = true
	return dis, nil
}
