// Package names turns personal names into keys for finding likely
// duplicate registrations: two spellings of one name get the same key.
//
// A name is normalised (Unicode NFKD, combining marks removed, lower
// case, punctuation dropped, spaces collapsed, Arabic letter forms
// unified), cut into parts, and each part is given a key:
//
//  1. a part written in one of the spellings of the variants table
//     (Mohamed, Maxamed, محمد, ...) gets the table's canonical name,
//     written "=mohamed";
//  2. otherwise its consonant skeleton (Somali x read as h, c and ع as a
//     glottal onset, vowels and doubled letters dropped; Arabic script
//     read letter by letter) is looked up among the skeletons of the
//     table's spellings, and a skeleton only one canonical name has gives
//     that name ("Fadumo" gives "=fatima");
//  3. otherwise the skeleton itself is the key, written "~frh" (or the
//     normalised part, when its skeleton is too short to say anything).
//
// The package holds no secret and does no I/O: the issuer turns keys into
// keyed blind indexes before they are stored. It is a heuristic for
// showing staff likely duplicates, never a decision: staff look at the
// people and decide.
package names

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalise returns name in the form keys are made from: NFKD with the
// combining marks (accents, Arabic short vowels, shadda) removed, lower
// case, modifier letters (ʿ, tatweel) and punctuation dropped, dashes and spaces as one space,
// and Arabic letter variants unified (أ إ آ ٱ as ا, ى as ي, ة as ه, ؤ as
// و, ئ as ي; Persian ی and ک as ي and ك; a lone hamza dropped).
func Normalise(name string) string {
	var b strings.Builder
	pendingSpace := false
	// Invalid UTF-8 becomes U+FFFD first: NFKD would otherwise take the
	// bytes after a bad one as part of it and leave them undecomposed,
	// and a second pass would change the key.
	for _, r := range norm.NFKD.String(strings.ToValidUTF8(name, "\uFFFD")) {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc, unicode.Lm), r == '\u0621':
			// Marks, modifier letters (ʿ, ʾ, tatweel) and a lone hamza
			// carry no letter of their own.
		case unicode.IsSpace(r), unicode.Is(unicode.Pd, r), r == '_', r == '.', r == ',':
			pendingSpace = b.Len() > 0
		case unicode.IsLetter(r), unicode.IsDigit(r):
			if pendingSpace {
				b.WriteByte(' ')
				pendingSpace = false
			}
			b.WriteRune(foldLetter(unicode.ToLower(r)))
		default:
			// Other punctuation and symbols (O'Brien, «», ·) are dropped
			// without a break.
		}
	}
	return b.String()
}

// foldLetter unifies the Arabic letter forms that spellings of one name
// swap freely. NFKD has already split the hamza and madda off alef, waw
// and ya.
func foldLetter(r rune) rune {
	switch r {
	case 'ٱ':
		return 'ا'
	case 'ى', 'ی':
		return 'ي'
	case 'ة':
		return 'ه'
	case 'ک':
		return 'ك'
	}
	return r
}

// joined are the parts that belong to the part after them: "Abd al
// Rahman" is one name, "Abdul Rahman" and "Abdulrahman" are its
// spellings.
var joined = []string{"abd", "abdel", "abdul", "abdal", "abdoul", "abu", "abou", "عبد", "ابو"}

// particles are parts that say "son of", "daughter of" or "the", left out
// of keys so that "Ali bin Omar" and "Ali Omar" compare.
var particles = []string{"al", "el", "bin", "ibn", "bint", "ben", "binti", "بن", "بنت", "ابن", "ال"}

// articles are the particles that join a joined prefix's name ("Abd al
// Rahman").
var articles = []string{"al", "el", "ال"}

// Parts returns the normalised parts of a name, with joined prefixes
// joined, particles dropped, and the Arabic article ال taken off a part
// that starts with it.
func Parts(name string) []string {
	fields := strings.Fields(Normalise(name))
	var parts []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if slices.Contains(joined, f) && i+1 < len(fields) {
			// "Abd al Rahman": the article joins too.
			if slices.Contains(articles, fields[i+1]) && i+2 < len(fields) {
				f += fields[i+1]
				i++
			}
			parts = append(parts, f+fields[i+1])
			i++
			continue
		}
		if slices.Contains(particles, f) {
			continue
		}
		if rest, ok := strings.CutPrefix(f, "ال"); ok && len([]rune(rest)) >= 2 {
			f = rest
		}
		parts = append(parts, f)
	}
	return parts
}

// Key returns the key of one normalised part (as Parts returns it).
func Key(part string) string {
	if canon, ok := table.exact[part]; ok {
		return "=" + canon
	}
	sk := Skeleton(part)
	if canon, ok := table.bySkeleton[sk]; ok {
		return "=" + canon
	}
	if len(sk) < minSkeleton {
		return "~" + part
	}
	return "~" + sk
}

// Keys returns the keys of a name's parts, each once, in the order of
// the parts.
func Keys(name string) []string {
	var keys []string
	for _, p := range Parts(name) {
		if k := Key(p); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// FullKey returns the key of a whole name: its parts' keys, sorted, so
// that the order of the parts does not matter. It is "" for a name with
// no letters.
func FullKey(name string) string {
	keys := Keys(name)
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// Shared returns how many part keys two names share, and how many parts
// the shorter of them has.
func Shared(a, b string) (shared, of int) {
	ka, kb := Keys(a), Keys(b)
	for _, k := range ka {
		if slices.Contains(kb, k) {
			shared++
		}
	}
	return shared, min(len(ka), len(kb))
}

// Similar reports whether two names look like one: they share at least
// two parts, or every part of the shorter name when it has only one.
func Similar(a, b string) bool {
	shared, of := Shared(a, b)
	return shared >= 2 || (of == 1 && shared == 1)
}

// minSkeleton is the shortest skeleton that says enough about a name to
// stand for it.
const minSkeleton = 2

// vowelOnset marks a skeleton whose name starts with a vowel or a glottal
// onset (Somali c, Arabic ع or alef): "Omar" and "Cumar" start with it,
// "Maria" does not.
const vowelOnset = 'V'

// Skeleton returns the consonant skeleton of a normalised part: Arabic
// letters read as Latin ones, common digraphs as one letter (kh, gh, sh,
// ch, th, dh, ph), Somali x as h and c as a glottal onset, q as k, v as f,
// p as b; then vowels, w and y dropped, doubled letters as one, and a
// final h dropped. A part that starts with a vowel or a glottal onset
// starts its skeleton with V.
func Skeleton(part string) string {
	latin := transliterate(part)
	for _, d := range [][2]string{{"kh", "k"}, {"gh", "g"}, {"sh", "s"}, {"ch", "s"}, {"th", "t"}, {"dh", "d"}, {"ph", "f"}} {
		latin = strings.ReplaceAll(latin, d[0], d[1])
	}
	var out []rune
	for i, c := range []rune(latin) {
		switch c {
		case 'x':
			c = 'h'
		case 'q':
			c = 'k'
		case 'v':
			c = 'f'
		case 'p':
			c = 'b'
		}
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'c':
			if i == 0 {
				out = append(out, vowelOnset)
			}
			continue
		case 'w', 'y':
			continue
		}
		if len(out) > 0 && out[len(out)-1] == c {
			continue
		}
		out = append(out, c)
	}
	if n := len(out); n > 1 && out[n-1] == 'h' {
		out = out[:n-1]
	}
	return string(out)
}

// arabicLatin reads Arabic letters the way skeletons need: ع as the
// glottal onset (like Somali c), alef, ta marbuta and alef maqsura as
// vowels, waw and ya as semivowels, the rest as their usual consonants.
var arabicLatin = map[rune]string{
	'ا': "a", 'ب': "b", 'ت': "t", 'ث': "th", 'ج': "j", 'ح': "h", 'خ': "kh",
	'د': "d", 'ذ': "dh", 'ر': "r", 'ز': "z", 'س': "s", 'ش': "sh", 'ص': "s",
	'ض': "d", 'ط': "t", 'ظ': "z", 'ع': "c", 'غ': "gh", 'ف': "f", 'ق': "q",
	'ك': "k", 'ل': "l", 'م': "m", 'ن': "n", 'ه': "h", 'و': "w", 'ي': "y",
	'پ': "p", 'چ': "ch", 'گ': "g", 'ژ': "zh",
}

// transliterate returns part with its Arabic letters in Latin ones, and
// anything else that is not a Latin letter dropped.
func transliterate(part string) string {
	var b strings.Builder
	for _, r := range part {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case arabicLatin[r] != "":
			b.WriteString(arabicLatin[r])
		case r < 0x80:
			// Digits.
		default:
			// Letters of other scripts are kept as they are, so that a
			// name in them still compares with itself.
			b.WriteRune(r)
		}
	}
	return b.String()
}
