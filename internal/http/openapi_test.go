package http_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPI: docs/openapi.yaml parses, every reference in it points to
// something it defines, and it documents every JSON route of the route
// table (/api/, the DID documents, the status lists, health) with its
// method, :param written {param}.
func TestOpenAPI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml does not parse: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi: %q", v)
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("no paths")
	}

	// Every $ref resolves.
	var walk func(node any, where string)
	walk = func(node any, where string) {
		switch n := node.(type) {
		case map[string]any:
			for k, v := range n {
				if k == "$ref" {
					ref, _ := v.(string)
					if !resolves(doc, ref) {
						t.Errorf("%s: $ref %q points to nothing", where, ref)
					}
					continue
				}
				walk(v, where+"/"+k)
			}
		case []any:
			for _, v := range n {
				walk(v, where)
			}
		}
	}
	walk(doc, "")

	// Schemas and responses hold only their own keywords: a flow mapping
	// such as {description: one, two} parses, as a stray key "two".
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for name, sc := range schemas {
		checkSchema(t, "#/components/schemas/"+name, sc)
	}
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			where := p + " " + method
			responses, _ := o["responses"].(map[string]any)
			for code, res := range responses {
				r, _ := res.(map[string]any)
				checkKeys(t, where+" "+code, r, "description", "content", "headers", "links", "$ref")
				content, _ := r["content"].(map[string]any)
				for mt, c := range content {
					if m, ok := c.(map[string]any); ok {
						checkSchema(t, where+" "+code+" "+mt, m["schema"])
					}
				}
			}
			if body, ok := o["requestBody"].(map[string]any); ok {
				content, _ := body["content"].(map[string]any)
				for mt, c := range content {
					if m, ok := c.(map[string]any); ok {
						checkSchema(t, where+" request "+mt, m["schema"])
					}
				}
			}
		}
	}

	param := regexp.MustCompile(`:([a-zA-Z]+)`)
	e := newEnv(t)
	documented := 0
	for _, r := range e.srv.Routes() {
		if !isJSONRoute(r.Path) {
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		item, ok := paths[p].(map[string]any)
		if !ok {
			t.Errorf("%s %s is not in docs/openapi.yaml (as %s)", r.Method, r.Path, p)
			continue
		}
		op, ok := item[strings.ToLower(r.Method)].(map[string]any)
		if !ok {
			t.Errorf("docs/openapi.yaml has %s but not its %s", p, r.Method)
			continue
		}
		if _, ok := op["responses"].(map[string]any); !ok {
			t.Errorf("%s %s: no responses", r.Method, p)
		}
		for _, name := range param.FindAllStringSubmatch(r.Path, -1) {
			if !hasPathParam(doc, item, op, name[1]) {
				t.Errorf("%s %s: the path parameter %s is not described", r.Method, p, name[1])
			}
		}
		documented++
	}
	if documented < 20 {
		t.Fatalf("only %d routes checked", documented)
	}
}

// schemaKeywords are the JSON Schema keywords docs/openapi.yaml uses.
var schemaKeywords = []string{"$ref", "type", "properties", "required", "items", "enum", "const", "description", "examples",
	"format", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "additionalProperties",
	"allOf", "oneOf", "anyOf", "default", "title"}

func checkSchema(t *testing.T, where string, node any) {
	t.Helper()
	sc, ok := node.(map[string]any)
	if !ok {
		t.Errorf("%s: a schema is not an object", where)
		return
	}
	checkKeys(t, where, sc, schemaKeywords...)
	props, _ := sc["properties"].(map[string]any)
	for name, p := range props {
		checkSchema(t, where+"."+name, p)
	}
	if items, ok := sc["items"]; ok {
		checkSchema(t, where+"[]", items)
	}
	for _, k := range []string{"allOf", "oneOf", "anyOf"} {
		list, _ := sc[k].([]any)
		for _, s := range list {
			checkSchema(t, where+" "+k, s)
		}
	}
}

func checkKeys(t *testing.T, where string, m map[string]any, allowed ...string) {
	t.Helper()
	for k := range m {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s: %q is not a keyword here", where, k)
		}
	}
}

func isJSONRoute(path string) bool {
	for _, prefix := range []string{"/api/", "/orgs/", "/status/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return path == "/healthz" || path == "/readyz"
}

// resolves tells whether a local reference (#/a/b/c) names a node of doc.
func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var node any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		if node, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]; !ok {
			return false
		}
	}
	return true
}

// hasPathParam tells whether an operation, or its path item, describes
// the path parameter name, directly or by reference.
func hasPathParam(doc, item, op map[string]any, name string) bool {
	for _, holder := range []map[string]any{item, op} {
		list, _ := holder["parameters"].([]any)
		for _, p := range list {
			m, _ := p.(map[string]any)
			if ref, ok := m["$ref"].(string); ok {
				m = lookup(doc, ref)
			}
			if m["in"] == "path" && m["name"] == name {
				return true
			}
		}
	}
	return false
}

func lookup(doc map[string]any, ref string) map[string]any {
	var node any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := node.(map[string]any)
		node = m[part]
	}
	m, _ := node.(map[string]any)
	return m
}
