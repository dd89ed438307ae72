package dataintegrity

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// checkJSONShape checks, before anything else reads raw, what JSON-LD
// processing would otherwise let through or choke on: raw must be one JSON
// object, with no duplicate member names at any level (two parsers could
// take different ones), nesting at most maxJSONDepth deep, at most
// maxJSONObjects objects and maxJSONValues values, and at most maxContexts
// @context members. It costs one pass over the bytes.
func checkJSONShape(raw []byte) error {
	if !json.Valid(raw) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("not JSON: %v", err)
		}
		return errors.New("not JSON")
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errors.New("not a JSON object")
	}
	// raw is valid JSON: only structure and strings need reading.
	type frame struct {
		object    bool
		expectKey bool
		keys      []string
	}
	var stack []frame
	objects, values, contexts := 0, 0, 0
	for ; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return fmt.Errorf("JSON nests deeper than %d levels", maxJSONDepth)
			}
			if c == '{' {
				if objects++; objects > maxJSONObjects {
					return fmt.Errorf("more than %d JSON objects", maxJSONObjects)
				}
			}
			if values++; values > maxJSONValues {
				return fmt.Errorf("more than %d JSON values", maxJSONValues)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				if skipSpace(raw, i+1) != len(raw) {
					return errors.New("trailing data after the JSON object")
				}
				return nil
			}
		case ':':
			stack[len(stack)-1].expectKey = false
		case ',':
			top := &stack[len(stack)-1]
			top.expectKey = top.object
		case '"':
			end := stringEnd(raw, i)
			top := &stack[len(stack)-1]
			if top.object && top.expectKey {
				key, err := memberName(raw[i : end+1])
				if err != nil {
					return err
				}
				if slices.Contains(top.keys, key) {
					return fmt.Errorf("member %q appears twice in one object", key)
				}
				top.keys = append(top.keys, key)
				if key == "@context" {
					if contexts++; contexts > maxContexts {
						return fmt.Errorf("more than %d @context members", maxContexts)
					}
				}
			} else if values++; values > maxJSONValues {
				return fmt.Errorf("more than %d JSON values", maxJSONValues)
			}
			i = end
		case ' ', '\t', '\n', '\r':
		default: // a number, true, false or null
			for i+1 < len(raw) && !isDelimiter(raw[i+1]) {
				i++
			}
			if values++; values > maxJSONValues {
				return fmt.Errorf("more than %d JSON values", maxJSONValues)
			}
		}
	}
	return errors.New("not JSON: unexpected end")
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// stringEnd returns the index of the quote that closes the string opened
// at raw[start]; raw is valid JSON.
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(raw) - 1
}

// memberName decodes a quoted member name; names without escapes are
// their bytes.
func memberName(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	if !slices.Contains(inner, '\\') {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", fmt.Errorf("not JSON: %v", err)
	}
	return s, nil
}
