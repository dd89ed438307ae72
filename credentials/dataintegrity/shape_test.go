package dataintegrity

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// referenceShape is checkJSONShape written plainly on encoding/json's
// tokenizer, to hold the fast scanner to.
func referenceShape(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not an object")
	}
	objects, values, contexts := 1, 1, 0
	var value func(depth int) error
	object := func(depth int) error {
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name := tok.(string)
			if seen[name] {
				return errors.New("duplicate")
			}
			seen[name] = true
			if name == "@context" {
				if contexts++; contexts > maxContexts {
					return errors.New("contexts")
				}
			}
			if err := value(depth); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	value = func(depth int) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if values++; values > maxJSONValues {
			return errors.New("values")
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		if depth+1 > maxJSONDepth {
			return errors.New("depth")
		}
		if d == '{' {
			if objects++; objects > maxJSONObjects {
				return errors.New("objects")
			}
			return object(depth + 1)
		}
		for dec.More() {
			if err := value(depth + 1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	if err := object(1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing")
	}
	return nil
}

func TestCheckJSONShape(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{}`, true},
		{strings.Repeat(`{"a":`, 31) + "{}" + strings.Repeat("}", 31), true},
		{` {"a":[1,{"b":"c\"}"}],"d":null} `, true},
		{`{"a":1,"a":2}`, false},
		{`{"a":1,"\u0061":2}`, false},
		{`{"a":{"x":1},"b":{"x":1}}`, true},
		{`[]`, false},
		{`{"a":1}{}`, false},
		{`{"a":`, false},
		{`"a"`, false},
		{strings.Repeat(`{"a":`, 32) + "1" + strings.Repeat("}", 32), true}, // 32 objects deep
		{strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), false},
	} {
		if err := checkJSONShape([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("%.60s: err = %v", tc.in, err)
		}
		if err := referenceShape([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("reference %.60s: err = %v", tc.in, err)
		}
	}
}

// FuzzCheckJSONShape: the one-pass scanner agrees with the tokenizer, and
// whatever it accepts decodes as a JSON object. It is the first check on
// every input, so it is fuzzed alone, at full speed.
func FuzzCheckJSONShape(f *testing.F) {
	for _, raw := range corpusDocs(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"a":1,"\u0061":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := checkJSONShape(raw)
		if ref := referenceShape(raw); (err == nil) != (ref == nil) {
			t.Fatalf("scanner: %v, tokenizer: %v", err, ref)
		}
		if err == nil {
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil {
				t.Fatal("accepted what does not decode as an object")
			}
		}
	})
}
