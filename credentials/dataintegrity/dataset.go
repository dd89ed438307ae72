package dataintegrity

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/piprate/json-gold/ld"

	"github.com/tally-id/tally/credentials"
)

// IRIs the verifier reads from a credential's dataset.
const (
	rdfType      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfFirst     = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
	rdfRest      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
	rdfNil       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
	rdfJSON      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
	xsdString    = "http://www.w3.org/2001/XMLSchema#string"
	xsdInteger   = "http://www.w3.org/2001/XMLSchema#integer"
	xsdBoolean   = "http://www.w3.org/2001/XMLSchema#boolean"
	xsdDouble    = "http://www.w3.org/2001/XMLSchema#double"
	xsdDateTime  = "http://www.w3.org/2001/XMLSchema#dateTime"
	credNS       = "https://www.w3.org/2018/credentials#"
	credVC       = credNS + "VerifiableCredential"
	credIssuer   = credNS + "issuer"
	credSubject  = credNS + "credentialSubject"
	credStatus   = credNS + "credentialStatus"
	credFrom     = credNS + "validFrom"
	credUntil    = credNS + "validUntil"
	credIssued   = credNS + "issuanceDate"   // VCDM 1.1
	credExpires  = credNS + "expirationDate" // VCDM 1.1
	statusNS     = "https://www.w3.org/ns/credentials/status#"
	statusEntry  = statusNS + "BitstringStatusListEntry"
	statusPurp   = statusNS + "statusPurpose"
	statusIndex  = statusNS + "statusListIndex"
	statusList   = statusNS + "statusListCredential"
	secNS        = "https://w3id.org/security#"
	secProof     = secNS + "DataIntegrityProof"
	secSuite     = secNS + "cryptosuite"
	secVM        = secNS + "verificationMethod"
	secPurpose   = secNS + "proofPurpose"
	secAssertion = secNS + "assertionMethod"
	secAuthn     = secNS + "authenticationMethod"
	secChallenge = secNS + "challenge"
	secDomain    = secNS + "domain"
	credVP       = credNS + "VerifiablePresentation"
	credHolder   = credNS + "holder"
	dcCreated    = "http://purl.org/dc/terms/created"
	secExpires   = secNS + "expiration"
	tallyNS      = credentials.ContextIRI
)

// maxClaimDepth bounds how deep the claims view nests.
const maxClaimDepth = 8

// graph indexes the default graph of a dataset by subject.
type graph struct {
	bySubject map[string][]*ld.Quad
}

func newGraph(ds *ld.RDFDataset) *graph {
	g := &graph{bySubject: map[string][]*ld.Quad{}}
	for _, q := range ds.Graphs["@default"] {
		s := q.Subject.GetValue()
		g.bySubject[s] = append(g.bySubject[s], q)
	}
	return g
}

// objects returns the objects of the statements (s, p, ?).
func (g *graph) objects(s, p string) []ld.Node {
	var out []ld.Node
	for _, q := range g.bySubject[s] {
		if q.Predicate.GetValue() == p {
			out = append(out, q.Object)
		}
	}
	return out
}

// subjectsOfType returns the subjects of the statements (?, rdf:type, t).
func (g *graph) subjectsOfType(t string) []string {
	var out []string
	for s, quads := range g.bySubject {
		for _, q := range quads {
			if q.Predicate.GetValue() == rdfType && q.Object.GetValue() == t {
				out = append(out, s)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// one returns the single object of (s, p, ?), nil when there is none, and
// an error when there are several.
func (g *graph) one(s, p, name string) (ld.Node, error) {
	objs := g.objects(s, p)
	switch len(objs) {
	case 0:
		return nil, nil
	case 1:
		return objs[0], nil
	}
	return nil, fmt.Errorf("data integrity: the credential has %d values of %s: %w", len(objs), name, credentials.ErrMalformed)
}

// signedTime reads an xsd:dateTime value; nil gives zero.
func signedTime(n ld.Node, name string) (time.Time, error) {
	if n == nil {
		return time.Time{}, nil
	}
	l, ok := n.(*ld.Literal)
	if !ok {
		return time.Time{}, fmt.Errorf("data integrity: %s is not a date-time: %w", name, credentials.ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339, l.Value)
	if err != nil {
		return time.Time{}, fmt.Errorf("data integrity: %s is not an RFC 3339 date-time with a time zone: %w", name, credentials.ErrMalformed)
	}
	return t.UTC(), nil
}

// readView reads the generic view of the one verifiable credential in the
// default graph of the signed dataset, and tally's typed credential when it
// is one of tally's types. IRIs are named by names (see namingContext),
// never by the credential's own @context, which the signature does not
// cover.
func (p *Processor) readView(sd *signedDataset, names *activeContext) (*credentials.View, *credentials.Credential, error) {
	g := newGraph(sd.dataset)
	vcs := g.subjectsOfType(credVC)
	switch len(vcs) {
	case 0:
		return nil, nil, fmt.Errorf("data integrity: the signed statements hold no VerifiableCredential: %w", credentials.ErrMalformed)
	case 1:
	default:
		return nil, nil, fmt.Errorf("data integrity: the signed statements hold %d credentials; tally reads one: %w", len(vcs), credentials.ErrMalformed)
	}
	vc := vcs[0]
	view := &credentials.View{}
	if !strings.HasPrefix(vc, "_:") {
		view.ID = vc
	}
	var typeIRIs []string
	for _, t := range g.objects(vc, rdfType) {
		typeIRIs = append(typeIRIs, t.GetValue())
	}
	sort.Strings(typeIRIs)
	for _, t := range typeIRIs {
		view.Types = append(view.Types, compactIRI(names, t))
	}
	iss, err := g.one(vc, credIssuer, "issuer")
	if err != nil {
		return nil, nil, err
	}
	if iss == nil || !ld.IsIRI(iss) {
		return nil, nil, fmt.Errorf("data integrity: the credential's issuer is missing or not a URL: %w", credentials.ErrMalformed)
	}
	view.Issuer = iss.GetValue()
	for _, f := range []struct {
		dst         *time.Time
		v2, v1      string
		name, name1 string
	}{
		{&view.ValidFrom, credFrom, credIssued, "validFrom", "issuanceDate"},
		{&view.ValidUntil, credUntil, credExpires, "validUntil", "expirationDate"},
	} {
		n, err := g.one(vc, f.v2, f.name)
		if err != nil {
			return nil, nil, err
		}
		if n == nil {
			if n, err = g.one(vc, f.v1, f.name1); err != nil {
				return nil, nil, err
			}
		}
		if *f.dst, err = signedTime(n, f.name); err != nil {
			return nil, nil, err
		}
	}
	var unchecked []any
	for _, sn := range sortNodes(g.objects(vc, credStatus)) {
		entry, known, err := readStatus(g, sn)
		if err != nil {
			return nil, nil, err
		}
		if known {
			view.Status = append(view.Status, entry)
			continue
		}
		unchecked = append(unchecked, p.nodeJSON(g, names, sn, map[string]bool{vc: true}, 0))
		view.Skipped = append(view.Skipped, "credentialStatus of type "+statusTypes(g, names, sn))
	}
	if len(unchecked) > 0 {
		if view.UncheckedStatus, err = json.Marshal(unchecked); err != nil {
			return nil, nil, fmt.Errorf("data integrity: credentialStatus: %v: %w", err, credentials.ErrMalformed)
		}
	}
	sort.Slice(view.Status, func(i, j int) bool { return view.Status[i].Purpose < view.Status[j].Purpose })
	subjects := g.objects(vc, credSubject)
	if len(subjects) == 0 {
		return nil, nil, fmt.Errorf("data integrity: the credential has no credentialSubject: %w", credentials.ErrMalformed)
	}
	if tallyType(typeIRIs) {
		c, err := p.tallyCredential(g, vc, view, subjects)
		if err != nil {
			return nil, nil, err
		}
		return c.View(), c, nil
	}
	claims := make([]any, 0, len(subjects))
	for _, s := range sortNodes(subjects) {
		claims = append(claims, p.nodeJSON(g, names, s, map[string]bool{vc: true}, 0))
	}
	var v any = claims
	if len(claims) == 1 {
		v = claims[0]
	}
	if view.Claims, err = json.Marshal(v); err != nil {
		return nil, nil, fmt.Errorf("data integrity: claims: %v: %w", err, credentials.ErrMalformed)
	}
	return view, nil, nil
}

// readStatus reads a BitstringStatusListEntry; known is false for another
// kind of status entry.
func readStatus(g *graph, n ld.Node) (credentials.StatusEntry, bool, error) {
	var e credentials.StatusEntry
	s := n.GetValue()
	isEntry := false
	for _, t := range g.objects(s, rdfType) {
		isEntry = isEntry || t.GetValue() == statusEntry
	}
	if !isEntry {
		return e, false, nil
	}
	bad := func(what string) error {
		return fmt.Errorf("data integrity: a credentialStatus entry's %s is missing or invalid: %w", what, credentials.ErrMalformed)
	}
	if !strings.HasPrefix(s, "_:") {
		e.ID = s
	}
	purpose, err := g.one(s, statusPurp, "statusPurpose")
	if err != nil || purpose == nil || !ld.IsLiteral(purpose) {
		return e, false, bad("statusPurpose")
	}
	e.Purpose = purpose.GetValue()
	idx, err := g.one(s, statusIndex, "statusListIndex")
	if err != nil || idx == nil || !ld.IsLiteral(idx) {
		return e, false, bad("statusListIndex")
	}
	i, err := strconv.Atoi(idx.GetValue())
	if err != nil || i < 0 || !isDigits(idx.GetValue()) {
		return e, false, bad("statusListIndex")
	}
	e.Index = i
	list, err := g.one(s, statusList, "statusListCredential")
	if err != nil || list == nil || !ld.IsIRI(list) {
		return e, false, bad("statusListCredential")
	}
	e.ListCredential = list.GetValue()
	return e, true, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// statusTypes names the types of a status entry tally does not read.
func statusTypes(g *graph, actx *activeContext, n ld.Node) string {
	var names []string
	for _, t := range g.objects(n.GetValue(), rdfType) {
		names = append(names, compactIRI(actx, t.GetValue()))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "untyped"
	}
	return strings.Join(names, ",")
}

// tallyType reports whether the types name one of tally's credential types.
func tallyType(typeIRIs []string) bool {
	for _, t := range typeIRIs {
		if strings.HasPrefix(t, tallyNS) {
			return true
		}
	}
	return false
}

// tallyCredential builds tally's typed credential from the dataset: its
// JSON is written from the signed statements with tally's own context, and
// decoded as strictly as any tally credential, so that a statement tally
// does not know is an error.
func (p *Processor) tallyCredential(g *graph, vc string, view *credentials.View, subjects []ld.Node) (*credentials.Credential, error) {
	tctx, err := p.tallyContext()
	if err != nil {
		return nil, err
	}
	if len(subjects) != 1 {
		return nil, fmt.Errorf("data integrity: a tally credential has one credentialSubject, not %d: %w", len(subjects), credentials.ErrMalformed)
	}
	for _, q := range g.bySubject[vc] {
		switch q.Predicate.GetValue() {
		case rdfType, credIssuer, credFrom, credUntil, credSubject, credStatus:
		default:
			return nil, fmt.Errorf("data integrity: a tally credential states %s, which tally credentials do not have: %w", compactIRI(tctx, q.Predicate.GetValue()), credentials.ErrMalformed)
		}
	}
	types := make([]string, 0, 2)
	for _, t := range g.objects(vc, rdfType) {
		types = append(types, compactIRI(tctx, t.GetValue()))
	}
	doc := map[string]any{
		"@context":          credentials.DefaultContext(),
		"type":              types,
		"issuer":            view.Issuer,
		"credentialSubject": p.nodeJSON(g, tctx, subjects[0], map[string]bool{vc: true}, 0),
	}
	if view.ID != "" {
		doc["id"] = view.ID
	}
	if !view.ValidFrom.IsZero() {
		doc["validFrom"] = view.ValidFrom.Format(time.RFC3339)
	}
	if !view.ValidUntil.IsZero() {
		doc["validUntil"] = view.ValidUntil.Format(time.RFC3339)
	}
	if len(view.UncheckedStatus) > 0 {
		return nil, fmt.Errorf("data integrity: a tally credential's status must be a BitstringStatusListEntry: %w", credentials.ErrMalformed)
	}
	if len(view.Status) > 0 {
		doc["credentialStatus"] = view.Status
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("data integrity: %v: %w", err, credentials.ErrMalformed)
	}
	var c credentials.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("data integrity: the signed statements are not a valid tally credential: %w: %w", err, credentials.ErrMalformed)
	}
	return &c, nil
}

// tallyContext is tally's default @context, processed once.
func (p *Processor) tallyContext() (*activeContext, error) {
	p.tallyOnce.Do(func() {
		key, err := contextKey(credentials.DefaultContext())
		if err != nil {
			p.tallyErr = err
			return
		}
		var value any
		if err := json.Unmarshal(key, &value); err != nil {
			p.tallyErr = err
			return
		}
		p.tallyCtx, p.tallyErr = p.cache.get(key, value, p.jsonLDOptions())
	})
	return p.tallyCtx, p.tallyErr
}

// compactIRI writes an IRI as the term the context gives it, or whole.
func compactIRI(actx *activeContext, iri string) string { return actx.name(iri) }

// nodeJSON writes the statements about node n in the default graph as a
// JSON object, its properties named by the context: literals as JSON
// strings, numbers and booleans, blank nodes (and IRIs with statements of
// their own) as nested objects, other IRIs as strings, RDF lists as
// arrays. Values of one property are sorted, since RDF does not order them.
//
// A node's properties are named by the context its types' scoped contexts
// make (a status entry's by its type's); nested nodes go back to actx, as
// in JSON-LD, where a type's scoped context does not propagate.
func (p *Processor) nodeJSON(g *graph, actx *activeContext, n ld.Node, seen map[string]bool, depth int) any {
	id := n.GetValue()
	if !ld.IsBlankNode(n) && (len(g.bySubject[id]) == 0 || seen[id] || depth >= maxClaimDepth) {
		return id
	}
	if seen[id] || depth >= maxClaimDepth {
		return map[string]any{}
	}
	seen[id] = true
	defer delete(seen, id)
	if items, ok := listItems(g, n); ok {
		out := make([]any, 0, len(items))
		for _, it := range items {
			out = append(out, p.valueJSON(g, actx, it, seen, depth+1))
		}
		return out
	}
	obj := map[string]any{}
	if !ld.IsBlankNode(n) {
		obj["id"] = id
	}
	nodeCtx := p.typeScoped(g, actx, id)
	byPred := map[string][]ld.Node{}
	for _, q := range g.bySubject[id] {
		byPred[q.Predicate.GetValue()] = append(byPred[q.Predicate.GetValue()], q.Object)
	}
	for pred, objs := range byPred {
		name := "type"
		if pred != rdfType {
			name = compactIRI(nodeCtx, pred)
		}
		values := make([]any, 0, len(objs))
		for _, o := range sortNodes(objs) {
			if pred == rdfType {
				values = append(values, compactIRI(actx, o.GetValue()))
				continue
			}
			values = append(values, p.valueJSON(g, actx, o, seen, depth+1))
		}
		if len(values) == 1 && !isSetTerm(nodeCtx, name) {
			obj[name] = values[0]
		} else {
			obj[name] = values
		}
	}
	return obj
}

// valueJSON writes one object of a statement.
func (p *Processor) valueJSON(g *graph, actx *activeContext, o ld.Node, seen map[string]bool, depth int) any {
	l, ok := o.(*ld.Literal)
	if !ok {
		return p.nodeJSON(g, actx, o, seen, depth)
	}
	if l.Language != "" {
		return map[string]any{"@value": l.Value, "@language": l.Language}
	}
	switch l.Datatype {
	case xsdInteger:
		if _, err := strconv.ParseInt(l.Value, 10, 64); err == nil {
			return json.Number(l.Value)
		}
	case xsdBoolean:
		if b, err := strconv.ParseBool(l.Value); err == nil {
			return b
		}
	case xsdDouble:
		if f, err := strconv.ParseFloat(l.Value, 64); err == nil {
			return f
		}
	case rdfJSON:
		if json.Valid([]byte(l.Value)) {
			return json.RawMessage(l.Value)
		}
	}
	return l.Value
}

// typeScoped is actx with the scoped contexts of node id's types applied,
// in the order of their terms, as JSON-LD expansion applies them.
func (p *Processor) typeScoped(g *graph, actx *activeContext, id string) *activeContext {
	var terms []string
	for _, t := range g.objects(id, rdfType) {
		if term, ok := actx.terms[t.GetValue()]; ok {
			terms = append(terms, term)
		}
	}
	sort.Strings(terms)
	ctx := actx
	for _, term := range terms {
		if d := actx.plainDefs()[term]; d.scoped != nil {
			if scoped := p.scoped.scoped(ctx, actx, term, d.scoped, p.jsonLDOptions()); scoped != nil {
				ctx = scoped
			}
		}
	}
	return ctx
}

// listItems reads an RDF list that starts at n.
func listItems(g *graph, n ld.Node) ([]ld.Node, bool) {
	if len(g.objects(n.GetValue(), rdfFirst)) == 0 {
		return nil, false
	}
	var items []ld.Node
	for cur := n; cur.GetValue() != rdfNil; {
		first := g.objects(cur.GetValue(), rdfFirst)
		rest := g.objects(cur.GetValue(), rdfRest)
		if len(first) != 1 || len(rest) != 1 || len(items) > maxJSONValues {
			return nil, false
		}
		items = append(items, first[0])
		cur = rest[0]
	}
	return items, true
}

// isSetTerm reports whether the context declares term a set or a list,
// whose JSON value is always an array.
func isSetTerm(actx *activeContext, term string) bool { return actx.sets[term] }

// sortNodes orders nodes by kind and value, so that the view does not
// depend on the order of the JSON, which the signature does not cover.
func sortNodes(nodes []ld.Node) []ld.Node {
	out := append([]ld.Node(nil), nodes...)
	key := func(n ld.Node) string {
		if l, ok := n.(*ld.Literal); ok {
			return "L" + l.Value + "\x00" + l.Datatype + "\x00" + l.Language
		}
		return "N" + n.GetValue()
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}
