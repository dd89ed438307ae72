package http

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tally-id/tally/issuer"
)

// The shape checks of the verify routes: what the W3C suites send as
// malformed credentials and presentations is refused with the member it
// is about, before any proof is checked. They only refuse: what a
// verified credential says is read from what its proof signs.

// The base contexts of the VC Data Model 2.0 and 1.1.
const (
	baseContextV2 = "https://www.w3.org/ns/credentials/v2"
	baseContextV1 = "https://www.w3.org/2018/credentials/v1"
)

// envelopedTypes are the types of an enveloped credential or presentation.
var envelopedTypes = []string{"EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation"}

// shapeProblems collects the problems of a document's shape.
type shapeProblems []issuer.FieldError

func (p *shapeProblems) add(field, code, format string, args ...any) {
	*p = append(*p, issuer.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// credentialShape checks a credential object: an enveloped credential
// (its type and data: URL), or a credential with an embedded proof
// (@context, type, issuer, credentialSubject, proof). field is where the
// credential is in the request.
func credentialShape(doc map[string]any, field string) []issuer.FieldError {
	var p shapeProblems
	if t, ok := doc["type"].(string); ok && slices.Contains(envelopedTypes, t) {
		envelopeShape(&p, doc, field, "EnvelopedVerifiableCredential")
		return p
	}
	contextShape(&p, doc, field)
	typeShape(&p, doc, field, "VerifiableCredential")
	switch iss := doc["issuer"].(type) {
	case string:
		if iss == "" {
			p.add(field+".issuer", "format", "the issuer must be a URL")
		}
	case map[string]any:
		if id, ok := iss["id"].(string); !ok || id == "" {
			p.add(field+".issuer", "format", "an issuer object must have an id, a URL")
		}
	case nil:
		p.add(field+".issuer", "required", "a credential names its issuer")
	default:
		p.add(field+".issuer", "format", "the issuer must be a URL, or an object with an id")
	}
	switch cs := doc["credentialSubject"].(type) {
	case map[string]any:
	case []any:
		if len(cs) == 0 {
			p.add(field+".credentialSubject", "format", "credentialSubject must be an object or a list of objects")
		}
		for _, s := range cs {
			if _, ok := s.(map[string]any); !ok {
				p.add(field+".credentialSubject", "format", "credentialSubject must be an object or a list of objects")
				break
			}
		}
	case nil:
		p.add(field+".credentialSubject", "required", "a credential has a credentialSubject")
	default:
		p.add(field+".credentialSubject", "format", "credentialSubject must be an object or a list of objects")
	}
	proofShape(&p, doc, field, true)
	return p
}

// presentationShape checks a presentation object: an enveloped one, or a
// presentation with @context, type, optional holder, credentials and proof.
func presentationShape(doc map[string]any, field string) []issuer.FieldError {
	var p shapeProblems
	if t, ok := doc["type"].(string); ok && slices.Contains(envelopedTypes, t) {
		envelopeShape(&p, doc, field, "EnvelopedVerifiablePresentation")
		return p
	}
	contextShape(&p, doc, field)
	typeShape(&p, doc, field, "VerifiablePresentation")
	switch h := doc["holder"].(type) {
	case nil, string:
	case map[string]any:
		if id, ok := h["id"].(string); !ok || id == "" {
			p.add(field+".holder", "format", "a holder object must have an id, a URL")
		}
	default:
		p.add(field+".holder", "format", "the holder must be a URL, or an object with an id")
	}
	switch vc := doc["verifiableCredential"].(type) {
	case nil, map[string]any:
	case []any:
		for _, c := range vc {
			if _, ok := c.(map[string]any); !ok {
				if _, ok := c.(string); !ok {
					p.add(field+".verifiableCredential", "format", "verifiableCredential must be credential objects")
					break
				}
			}
		}
	default:
		p.add(field+".verifiableCredential", "format", "verifiableCredential must be a credential object or a list of them")
	}
	if _, ok := doc["proof"]; ok {
		proofShape(&p, doc, field, true)
	}
	return p
}

func envelopeShape(p *shapeProblems, doc map[string]any, field, typ string) {
	id, _ := doc["id"].(string)
	if !strings.HasPrefix(id, "data:") {
		p.add(field+".id", "format", "an %s carries its token in its id, a data: URL", typ)
	}
	if doc["type"] != typ {
		p.add(field+".type", "format", "this is a %s, not a %s", doc["type"], typ)
	}
}

func contextShape(p *shapeProblems, doc map[string]any, field string) {
	ctx, ok := doc["@context"].([]any)
	switch {
	case doc["@context"] == nil:
		p.add(field+".@context", "required", "@context is missing: it starts with %s", baseContextV2)
		return
	case !ok || len(ctx) == 0:
		p.add(field+".@context", "format", "@context must be a list starting with %s", baseContextV2)
		return
	}
	if first, _ := ctx[0].(string); first != baseContextV2 && first != baseContextV1 {
		p.add(field+".@context", "format", "@context must start with %s", baseContextV2)
		return
	}
	for _, c := range ctx[1:] {
		switch c.(type) {
		case string, map[string]any:
		default:
			p.add(field+".@context", "format", "@context items must be URLs or context objects")
			return
		}
	}
}

func typeShape(p *shapeProblems, doc map[string]any, field, want string) {
	var types []string
	switch t := doc["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			s, ok := v.(string)
			if !ok {
				p.add(field+".type", "format", "type must be a list of strings")
				return
			}
			types = append(types, s)
		}
	case nil:
		p.add(field+".type", "required", "type is missing: it names %s", want)
		return
	default:
		p.add(field+".type", "format", "type must be a list of strings")
		return
	}
	if !slices.Contains(types, want) {
		p.add(field+".type", "format", "type must name %s", want)
	}
}

// proofShape checks an embedded proof: an object, or a list of them, each
// with the members every Data Integrity proof has.
func proofShape(p *shapeProblems, doc map[string]any, field string, required bool) {
	var proofs []any
	switch pv := doc["proof"].(type) {
	case map[string]any:
		proofs = []any{pv}
	case []any:
		proofs = pv
	case nil:
		if required {
			p.add(field+".proof", "required", "the credential has no proof: nothing shows who made it")
		}
		return
	}
	if len(proofs) == 0 {
		p.add(field+".proof", "format", "proof must be an object")
		return
	}
	for _, pv := range proofs {
		m, ok := pv.(map[string]any)
		if !ok {
			p.add(field+".proof", "format", "proof must be an object")
			return
		}
		for _, name := range []string{"type", "verificationMethod", "proofPurpose", "proofValue"} {
			if s, ok := m[name].(string); !ok || s == "" {
				p.add(field+".proof."+name, "required", "the proof's %s is missing or not a string", name)
			}
		}
		if m["type"] == "DataIntegrityProof" {
			if s, ok := m["cryptosuite"].(string); !ok || s == "" {
				p.add(field+".proof.cryptosuite", "required", "a DataIntegrityProof names its cryptosuite")
			}
		}
	}
}
