package dataintegrity

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// toRDF turns expanded JSON-LD into an RDF dataset, as the JSON-LD 1.1 API's
// Deserialize JSON-LD to RDF algorithm does, and as json-gold's ToRDF does
// (whose node map it uses), with one difference: where json-gold drops a
// statement whose IRI is relative or not well-formed, or whose language tag
// is not — which would leave a member of the JSON unsigned — this refuses
// the document. It also spares
// json-gold's regular-expression URL check, which cost more than half of a
// verification. A document with JSON literals (@json) goes through
// json-gold's own conversion, whose JSON canonicalization is not exported.
func toRDF(api *ld.JsonLdApi, expanded []any, opts *ld.JsonLdOptions) (*ld.RDFDataset, error) {
	if hasJSONLiteral(expanded) {
		return api.ToRDF(expanded, opts)
	}
	issuer := ld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{"@default": map[string]any{}}
	if _, err := api.GenerateNodeMap(expanded, nodeMap, "@default", issuer, "", "", nil); err != nil {
		return nil, err
	}
	ds := ld.NewRDFDataset()
	for _, name := range ld.GetKeys(nodeMap) {
		if name != "@default" {
			if _, err := resource(name); err != nil {
				return nil, fmt.Errorf("graph name: %w", err)
			}
		}
		graph, _ := nodeMap[name].(map[string]any)
		quads, err := graphToRDF(name, graph, issuer)
		if err != nil {
			return nil, err
		}
		ds.Graphs[name] = quads
	}
	return ds, nil
}

// graphToRDF makes the statements of one graph of a node map.
func graphToRDF(graphName string, graph map[string]any, issuer *ld.IdentifierIssuer) ([]*ld.Quad, error) {
	var quads []*ld.Quad
	for _, id := range ld.GetKeys(graph) {
		node, _ := graph[id].(map[string]any)
		subject, err := resource(id)
		if err != nil {
			return nil, err
		}
		for _, property := range ld.GetOrderedKeys(node) {
			var values []any
			switch {
			case property == "@type":
				values, _ = node["@type"].([]any)
			case ld.IsKeyword(property), strings.HasPrefix(property, "_:"):
				continue
			default:
				values, _ = node[property].([]any)
			}
			pred := property
			if property == "@type" {
				pred = rdfType
			}
			if err := checkIRI(pred); err != nil {
				return nil, fmt.Errorf("property %q %v", pred, err)
			}
			predicate := ld.NewIRI(pred)
			for _, item := range values {
				var object ld.Node
				object, quads, err = objectToRDF(item, issuer, graphName, quads)
				if err != nil {
					return nil, err
				}
				if object != nil {
					quads = append(quads, ld.NewQuad(subject, predicate, object, graphName))
				}
			}
		}
	}
	return quads, nil
}

// resource is the node an @id names: a blank node or an IRI, which must be
// well-formed.
func resource(id string) (ld.Node, error) {
	if strings.HasPrefix(id, "_:") {
		return ld.NewBlankNode(id), nil
	}
	if err := checkIRI(id); err != nil {
		return nil, fmt.Errorf("an id %v", err) // not quoted: it may identify a person
	}
	return ld.NewIRI(id), nil
}

// objectToRDF converts a value object to a literal, a list to its blank
// nodes, and a node object or IRI to a resource, with json-gold's rules for
// numbers (an integral float64 is an xsd:integer, any other an xsd:double in
// canonical form).
func objectToRDF(item any, issuer *ld.IdentifierIssuer, graphName string, quads []*ld.Quad) (ld.Node, []*ld.Quad, error) {
	m, isMap := item.(map[string]any)
	switch {
	case ld.IsValue(item):
		lit, err := literal(m)
		return lit, quads, err
	case ld.IsList(item):
		list, _ := m["@list"].([]any)
		return listToRDF(list, issuer, graphName, quads)
	case isMap:
		id, _ := m["@id"].(string)
		n, err := resource(id)
		return n, quads, err
	}
	id, _ := item.(string)
	n, err := resource(id)
	return n, quads, err
}

// literal converts a value object.
func literal(m map[string]any) (ld.Node, error) {
	value := m["@value"]
	datatype, _ := m["@type"].(string)
	if datatype != "" {
		if err := checkIRI(datatype); err != nil {
			return nil, fmt.Errorf("datatype %q %v", datatype, err)
		}
	}
	or := func(def string) string {
		if datatype == "" {
			return def
		}
		return datatype
	}
	switch v := value.(type) {
	case bool:
		return ld.NewLiteral(strconv.FormatBool(v), or(xsdBoolean), ""), nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return nil, errors.New("a number is out of range")
		}
		value = f
	}
	if f, ok := value.(float64); ok {
		if f != float64(int64(f)) || datatype == xsdDouble {
			return ld.NewLiteral(ld.GetCanonicalDouble(f), or(xsdDouble), ""), nil
		}
		return ld.NewLiteral(strconv.FormatInt(int64(f), 10), or(xsdInteger), ""), nil
	}
	s, ok := value.(string)
	if !ok {
		return nil, fmt.Errorf("a value of type %T cannot be a literal", value)
	}
	if lang, has := m["@language"]; has {
		tag, _ := lang.(string)
		if !validLanguageTag(tag) {
			return nil, fmt.Errorf("language tag %q is not well-formed", tag)
		}
		return ld.NewLiteral(s, or(ld.RDFLangString), tag), nil
	}
	return ld.NewLiteral(s, or(xsdString), ""), nil
}

// validLanguageTag is json-gold's test: letters, then dash-separated
// alphanumeric subtags.
func validLanguageTag(tag string) bool {
	for i, sub := range strings.Split(tag, "-") {
		if sub == "" {
			return false
		}
		for _, c := range sub {
			alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !alpha && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// listToRDF makes the rdf:first/rdf:rest chain of a list.
func listToRDF(list []any, issuer *ld.IdentifierIssuer, graphName string, quads []*ld.Quad) (ld.Node, []*ld.Quad, error) {
	if len(list) == 0 {
		return ld.NewIRI(rdfNil), quads, nil
	}
	first, rest := ld.NewIRI(rdfFirst), ld.NewIRI(rdfRest)
	head := ld.NewBlankNode(issuer.GetId(""))
	subj := ld.Node(head)
	for i, item := range list {
		obj, q, err := objectToRDF(item, issuer, graphName, quads)
		if err != nil {
			return nil, nil, err
		}
		quads = q
		next := ld.Node(ld.NewIRI(rdfNil))
		if i < len(list)-1 {
			next = ld.NewBlankNode(issuer.GetId(""))
		}
		if obj != nil {
			quads = append(quads, ld.NewQuad(subj, first, obj, graphName))
		}
		quads = append(quads, ld.NewQuad(subj, rest, next, graphName))
		subj = next
	}
	return head, quads, nil
}

// hasJSONLiteral reports whether expanded JSON-LD holds a JSON literal.
func hasJSONLiteral(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if hasJSONLiteral(item) {
				return true
			}
		}
	case map[string]any:
		if x["@type"] == "@json" {
			return true
		}
		for k, item := range x {
			if k != "@value" && hasJSONLiteral(item) {
				return true
			}
		}
	}
	return false
}
