package http

import (
	"testing"
	"testing/fstest"
)

// TestMessagesFallback: a key a catalogue lacks comes from English, and a
// key missing everywhere shows as itself; a catalogue with a key English
// lacks is refused.
func TestMessagesFallback(t *testing.T) {
	files := fstest.MapFS{
		"messages/en.json": {Data: []byte(`{"lang_name":"English","dir":"ltr","hello":"Hello %s","bye":"Bye"}`)},
		"messages/fr.json": {Data: []byte(`{"lang_name":"Français","dir":"ltr","hello":"Bonjour %s"}`)},
	}
	c, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	fr := c.byLang["fr"]
	if got := fr.Get("hello", "Fatima"); got != "Bonjour Fatima" {
		t.Errorf("hello: %q", got)
	}
	for key, want := range map[string]string{"bye": "Bye", "nope": "nope"} {
		if got := fr.Get(key); got != want {
			t.Errorf("Get(%q) = %q, want %q", key, got, want)
		}
	}
	files["messages/ar.json"] = &fstest.MapFile{Data: []byte(`{"extra":"x"}`)}
	if _, err := loadCatalogues(files); err == nil {
		t.Fatal("a key English lacks is accepted")
	}
}
