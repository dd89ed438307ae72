package http_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tally-id/tally/issuer"
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
		node = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	m, _ := node.(map[string]any)
	return m
}

// TestOpenAPIAnswers: real answers of the server match what
// docs/openapi.yaml says of them: every field they carry is documented,
// with its type, and every field the document requires is there.
func TestOpenAPIAnswers(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	const jsonType = "application/json"
	admin, registrar := e.asToken("demo", issuer.RoleAdmin), e.asToken("demo", issuer.RoleRegistrar)
	supervisor := e.asStaff("demo", issuer.RoleSupervisor)
	reg := "/api/v1/orgs/demo/registrations/" + e.regID
	fatimaAgain := fmt.Sprintf(`{"registrationId":"","fullName":"Fatima Hassan Abdi","dateOfBirth":"1991-03-14","programme":"MPCA-2026",
		"consent":{"given":true,"method":"verbal","language":"so","staffId":%q}}`, e.staffID["demo/registrar"])
	tests := []struct {
		method, path, doc, body string
		as                      who
		status                  int
	}{
		{"GET", "/api/v1/whoami", "/api/v1/whoami", "", registrar, 200},
		{"GET", "/api/v1/whoami", "/api/v1/whoami", "", supervisor, 200},
		{"GET", "/api/v1/whoami", "/api/v1/whoami", "", who{}, 401},
		{"GET", "/api/v1/orgs/demo/staff", "/api/v1/orgs/{org}/staff", "", admin, 200},
		{"POST", "/api/v1/orgs/demo/staff", "/api/v1/orgs/{org}/staff", staffJSON("Sahra Staff", "sahra", "registrar"), admin, 201},
		{"POST", "/api/v1/orgs/demo/staff", "/api/v1/orgs/{org}/staff", staffJSON("", "x", "root"), admin, 400},
		{"GET", "/api/v1/orgs/demo/staff", "/api/v1/orgs/{org}/staff", "", registrar, 403},
		{"GET", "/api/v1/orgs/demo/programmes", "/api/v1/orgs/{org}/programmes", "", registrar, 200},
		{"POST", "/api/v1/orgs/demo/programmes", "/api/v1/orgs/{org}/programmes", programmeJSON("FOOD-2027", "Food 2027"), admin, 201},
		{"GET", "/api/v1/orgs/demo/programmes/MPCA-2026", "/api/v1/orgs/{org}/programmes/{code}", "", registrar, 200},
		{"PUT", "/api/v1/orgs/demo/programmes/FOOD-2027", "/api/v1/orgs/{org}/programmes/{code}", programmeJSON("FOOD-2027", "Food, 2027"), admin, 200},
		{"GET", "/api/v1/orgs/demo/programmes/NOPE", "/api/v1/orgs/{org}/programmes/{code}", "", registrar, 404},
		{"POST", "/api/v1/orgs/demo/registrations", "/api/v1/orgs/{org}/registrations", fatimaAgain, registrar, 409},
		{"POST", "/api/v1/orgs/demo/registrations/search", "/api/v1/orgs/{org}/registrations/search", `{"name":"Faadumo Abdi"}`, registrar, 200},
		{"GET", reg, "/api/v1/orgs/{org}/registrations/{id}", "", registrar, 200},
		{"PATCH", reg, "/api/v1/orgs/{org}/registrations/{id}", `{"householdSize":4}`, registrar, 200},
		{"POST", reg + "/links", "/api/v1/orgs/{org}/registrations/{id}/links", fmt.Sprintf(`{"programme":"MPCA-2026","consent":{"given":true,"method":"written","language":"ar","staffId":%q}}`, e.staffID["demo/registrar"]), registrar, 201},
		{"POST", reg + "/credentials", "/api/v1/orgs/{org}/registrations/{id}/credentials", `{"type":"RegistrationCredential"}`, registrar, 201},
		{"GET", reg + "/credentials", "/api/v1/orgs/{org}/registrations/{id}/credentials", "", registrar, 200},
		{"POST", "/api/v1/orgs/demo/credentials/" + e.credID + "/suspend", "/api/v1/orgs/{org}/credentials/{cred}/suspend", "", registrar, 200},
		{"POST", "/api/v1/orgs/demo/credentials/" + e.credID + "/reinstate", "/api/v1/orgs/{org}/credentials/{cred}/reinstate", "", registrar, 200},
		{"POST", "/api/v1/orgs/demo/credentials/" + e.revokeID + "/revoke", "/api/v1/orgs/{org}/credentials/{cred}/revoke", "", supervisor, 200},
		{"POST", "/api/v1/orgs/demo/credentials/" + e.revokeID + "/suspend", "/api/v1/orgs/{org}/credentials/{cred}/suspend", "", registrar, 409},
		{"GET", "/orgs/demo/did.json", "/orgs/{org}/did.json", "", who{}, 200},
		{"GET", "/orgs/nope/did.json", "/orgs/{org}/did.json", "", who{}, 404},
		{"GET", "/status/nope/revocation/0", "/status/{org}/{kind}/{n}", "", who{}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+fmt.Sprint(tc.status), func(t *testing.T) {
			ct := ""
			if tc.body != "" {
				ct = jsonType
			}
			res := e.do(tc.method, tc.path, ct, tc.body, tc.as)
			body := readBody(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %.300s", res.StatusCode, tc.status, body)
			}
			op := lookup(doc, "#/paths/"+strings.ReplaceAll(tc.doc, "/", "~1")+"/"+strings.ToLower(tc.method))
			if op == nil {
				t.Fatalf("docs/openapi.yaml has no %s %s", tc.method, tc.doc)
			}
			responses, _ := op["responses"].(map[string]any)
			r, ok := responses[fmt.Sprint(tc.status)].(map[string]any)
			if !ok {
				t.Fatalf("docs/openapi.yaml does not say %s %s may answer %d", tc.method, tc.doc, tc.status)
			}
			if ref, ok := r["$ref"].(string); ok {
				r = lookup(doc, ref)
			}
			mt, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
			content, _ := r["content"].(map[string]any)
			c, ok := content[mt].(map[string]any)
			if !ok {
				t.Fatalf("the answer is %s, docs/openapi.yaml says %v", mt, content)
			}
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			for _, problem := range conforms(doc, c["schema"], v, "body") {
				t.Error(problem)
			}
		})
	}
}

// conforms lists how v departs from schema: fields it has that the
// schema does not name, fields the schema requires that it lacks, values
// of the wrong type or out of their enum.
func conforms(doc map[string]any, schema any, v any, where string) []string {
	sc, _ := schema.(map[string]any)
	if ref, ok := sc["$ref"].(string); ok {
		sc = lookup(doc, ref)
	}
	if sc == nil {
		return []string{where + ": no schema"}
	}
	var out []string
	// allOf: each part holds, and an object's fields may come from any.
	parts := []map[string]any{sc}
	all, _ := sc["allOf"].([]any)
	for _, p := range all {
		m, _ := p.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			m = lookup(doc, ref)
		}
		parts = append(parts, m)
	}
	if types := typesOf(sc); len(types) > 0 && !slices.Contains(types, jsonType(v)) &&
		!(jsonType(v) == "integer" && slices.Contains(types, "number")) {
		return append(out, fmt.Sprintf("%s: %s, documented as %v", where, jsonType(v), types))
	}
	if enum, ok := sc["enum"].([]any); ok && !slices.ContainsFunc(enum, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
		out = append(out, fmt.Sprintf("%s: %v is not one of %v", where, v, enum))
	}
	switch val := v.(type) {
	case map[string]any:
		props := map[string]any{}
		for _, p := range parts {
			pp, _ := p["properties"].(map[string]any)
			for k, s := range pp {
				props[k] = s
			}
			req, _ := p["required"].([]any)
			for _, r := range req {
				if _, ok := val[fmt.Sprint(r)]; !ok {
					out = append(out, fmt.Sprintf("%s: no %v, which is required", where, r))
				}
			}
		}
		for k, x := range val {
			s, ok := props[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s is not documented", where, k))
				continue
			}
			out = append(out, conforms(doc, s, x, where+"."+k)...)
		}
	case []any:
		if items, ok := sc["items"]; ok {
			for i, x := range val {
				out = append(out, conforms(doc, items, x, fmt.Sprintf("%s[%d]", where, i))...)
			}
		}
	}
	return out
}

func typesOf(sc map[string]any) []string {
	switch t := sc["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}
