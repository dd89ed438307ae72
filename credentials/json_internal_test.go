package credentials

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The token formats decode JSON with goccy/go-json for speed. This fuzz
// target checks it against encoding/json. goccy is lenient with some
// malformed JSON (it skips unknown members without checking them, and
// takes numbers like 00), so a token whose issuer signed malformed JSON
// may parse; and it matches member names that differ from a field's only
// in case differently from encoding/json (JSON-LD, for one, is case
// sensitive). It would keep invalid UTF-8 where encoding/json puts
// U+FFFD, so the parsers refuse payloads that are not UTF-8 before
// decoding them. What must never happen is that the two decoders read
// well-formed JSON with well-spelt member names differently.

// decodeBoth decodes data into a new T with both decoders and fails if
// they disagree.
func decodeBoth[T any](t *testing.T, data []byte) {
	var fast, std T
	ferr := unmarshalJSON(data, &fast)
	serr := json.Unmarshal(data, &std)
	if ferr == nil && serr == nil && !reflect.DeepEqual(fast, std) {
		t.Fatalf("decoders disagree on %q:\n goccy %#v\nstdlib %#v", data, fast, std)
	}
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("on %q goccy says %v, encoding/json says %v", data, ferr, serr)
	}
}

// fieldNames collects the JSON names of the fields of the types decoded.
func fieldNames(types ...reflect.Type) map[string]bool {
	names := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
				names[name] = true
			}
			walk(f.Type)
		}
	}
	for _, t := range types {
		walk(t)
	}
	return names
}

// misspelt reports whether v has a member name that differs from a field
// name only in case.
func misspelt(v any, names map[string]bool) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !names[k] {
				for n := range names {
					if strings.EqualFold(k, n) {
						return true
					}
				}
			}
			if misspelt(x, names) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if misspelt(x, names) {
				return true
			}
		}
	}
	return false
}

func FuzzJSONDecodersAgree(f *testing.F) {
	f.Add([]byte(`{"registrationId":"A1","fullName":"F","householdSize":5,"dedupSeed":"AAAAAAAAAAAAAAAAAAAAAA"}`))
	names := fieldNames(reflect.TypeFor[jwtPayload](), reflect.TypeFor[jwtPayloadAnyShape](), reflect.TypeFor[Registration](),
		reflect.TypeFor[Eligibility](), reflect.TypeFor[Referral](), reflect.TypeFor[joseHeader](),
		reflect.TypeFor[statusHead](), reflect.TypeFor[jsonStatusEntry]())
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if !utf8.Valid(data) || json.Unmarshal(data, &v) != nil || misspelt(v, names) {
			return
		}
		decodeBoth[jwtPayload](t, data)
		decodeBoth[jwtPayloadAnyShape](t, data)
		decodeBoth[Registration](t, data)
		decodeBoth[Referral](t, data)
		decodeBoth[Eligibility](t, data)
		decodeBoth[joseHeader](t, data)
		decodeBoth[map[string]rawJSON](t, data)
		decodeBoth[[]rawJSON](t, data)
		decodeBoth[statusHead](t, data)
		decodeBoth[jsonStatusEntry](t, data)
	})
}
