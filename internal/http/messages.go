package http

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/tally-id/tally/issuer"
)

// defaultLang is the language of the catalogue every other one falls back
// on, key by key.
const defaultLang = "en"

// langCookie keeps a language chosen with ?lang=.
const langCookie = "tally_lang"

// Messages is one language's catalogue, with the default language's
// behind it for keys not yet translated. Its strings are read at first
// use (a verifier service at rest holds none; every catalogue was read
// and checked once at start).
type Messages struct {
	lang     string
	fallback *Messages
	files    fs.FS
	name     string
	once     sync.Once
	strings  map[string]string
}

// table returns the catalogue's strings, read at first use. The file was
// read and checked at start; failing now is an embedded file gone bad,
// and shows as the keys themselves.
func (m *Messages) table() map[string]string {
	m.once.Do(func() { m.strings, _ = readCatalogue(m.files, m.name) })
	return m.strings
}

func readCatalogue(files fs.FS, name string) (map[string]string, error) {
	data, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, err
	}
	var out map[string]string
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Get returns the message of key, formatted with args (fmt verbs; %[1]s
// lets a translation reorder them). A key missing everywhere comes back as
// itself, so that a gap shows instead of hiding.
func (m *Messages) Get(key string, args ...any) string {
	for c := m; c != nil; c = c.fallback {
		if s, ok := c.table()[key]; ok {
			if len(args) == 0 {
				return s
			}
			return fmt.Sprintf(s, args...)
		}
	}
	return key
}

// Lang is the catalogue's language tag.
func (m *Messages) Lang() string { return m.lang }

// LanguageName is the name of a language tag in the catalogue's language
// (language_so, also for som), or the tag itself when the catalogue does
// not name it.
func (m *Messages) LanguageName(tag string) string {
	for _, t := range []string{tag, canonicalLanguage(tag)} {
		key := "language_" + t
		if name := m.Get(key); name != key {
			return name
		}
	}
	return tag
}

func canonicalLanguage(tag string) string {
	c, err := issuer.CanonicalLanguage(tag)
	if err != nil {
		return tag
	}
	return c
}

// Dir is ltr or rtl.
func (m *Messages) Dir() string { return m.Get("dir") }

// Language names a catalogue, for the language links.
type Language struct{ Code, Name string }

// catalogues are the message catalogues by language tag.
type catalogues struct {
	byLang map[string]*Messages
	list   []Language
}

// loadCatalogues reads every messages/*.json of files.
func loadCatalogues(files fs.FS) (*catalogues, error) {
	names, err := fs.Glob(files, "messages/*.json")
	if err != nil {
		return nil, err
	}
	c := &catalogues{byLang: map[string]*Messages{}}
	read := map[string]map[string]string{}
	for _, name := range names {
		table, err := readCatalogue(files, name)
		if err != nil {
			return nil, err
		}
		m := &Messages{lang: strings.TrimSuffix(path.Base(name), ".json"), files: files, name: name}
		c.byLang[m.lang], read[m.lang] = m, table
	}
	def, ok := c.byLang[defaultLang]
	if !ok {
		return nil, fmt.Errorf("no %s message catalogue", defaultLang)
	}
	for lang, m := range c.byLang {
		if lang != defaultLang {
			m.fallback = def
		}
		for key := range read[lang] {
			if _, ok := read[defaultLang][key]; !ok {
				return nil, fmt.Errorf("messages/%s.json: key %q is not in %s.json", lang, key, defaultLang)
			}
		}
		name := read[lang]["lang_name"]
		if name == "" {
			name = read[defaultLang]["lang_name"]
		}
		c.list = append(c.list, Language{Code: lang, Name: name})
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].Code < c.list[j].Code })
	return c, nil
}

// pick chooses the catalogue for a request: ?lang=, then the language
// cookie, then Accept-Language, then English.
func (c *catalogues) pick(r *http.Request) *Messages {
	if m, ok := c.byLang[r.URL.Query().Get("lang")]; ok {
		return m
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if m, ok := c.byLang[ck.Value]; ok {
			return m
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if m, ok := c.byLang[primary]; ok {
			return m
		}
	}
	return c.byLang[defaultLang]
}

// First returns the message of the first of keys the catalogue has, or
// fallback when it has none of them.
func (m *Messages) First(fallback string, keys ...string) string {
	for _, key := range keys {
		if s := m.Get(key); s != key {
			return s
		}
	}
	return fallback
}
