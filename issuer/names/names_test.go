package names

import (
	"slices"
	"testing"
)

func TestNormalise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Fatima Hassan Abdi", "fatima hassan abdi"},
		{"  FATIMA   hassan\tABDI ", "fatima hassan abdi"},
		{"Fátima Hássan-Ábdi", "fatima hassan abdi"},
		{"O'Brien", "obrien"},
		{"Ali, Omar.", "ali omar"},
		{"Ṣāliḥ", "salih"},
		{"Zoë Ångström", "zoe angstrom"},
		// Arabic: short vowels, shadda and tatweel go; alef, ya and ta
		// marbuta forms are unified.
		{"مُحَمَّد", "محمد"},
		{"محـــمد", "محمد"},
		{"أحمد", "احمد"},
		{"إبراهيم", "ابراهيم"},
		{"آمنة", "امنه"},
		{"عائشة", "عايشه"},
		{"مصطفى", "مصطفي"},
		{"حواء", "حوا"},
		// Arabic presentation forms (as some keyboards and PDFs give them).
		{"\ufee3\ufea4\ufee4\ufeaa", "محمد"},
		{"", ""},
		{" - ", ""},
	}
	for _, tc := range tests {
		if got := Normalise(tc.in); got != tc.want {
			t.Errorf("Normalise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParts(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Fatima Hassan Abdi", []string{"fatima", "hassan", "abdi"}},
		{"Abdul Rahman Ali", []string{"abdulrahman", "ali"}},
		{"Abd al Rahman", []string{"abdalrahman"}},
		{"Ali bin Omar", []string{"ali", "omar"}},
		{"Abu Bakr", []string{"abubakr"}},
		{"عبد الله حسن", []string{"عبدالله", "حسن"}},
		{"عبد الرحمن", []string{"عبدالرحمن"}},
		{"الحسن بن علي", []string{"حسن", "علي"}},
		{"Abdul", []string{"abdul"}},
	}
	for _, tc := range tests {
		if got := Parts(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Parts(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestVariantTable: no spelling stands for two names, and every spelling
// of a line gets its line's key.
func TestVariantTable(t *testing.T) {
	for spelling, both := range table.clashes {
		t.Errorf("%q is a spelling of both %q and %q", spelling, both[0], both[1])
	}
	for _, line := range variants {
		want := "=" + Normalise(line[0])
		for _, spelling := range line {
			parts := Parts(spelling)
			if len(parts) != 1 {
				t.Errorf("%q is %d parts, not one name", spelling, len(parts))
				continue
			}
			if got := Key(parts[0]); got != want {
				t.Errorf("Key(%q) = %q, want %q", spelling, got, want)
			}
		}
	}
}

// TestKeys: the variants the registration desks meet, in Latin and
// Arabic script, and names that must stay apart.
func TestKeys(t *testing.T) {
	same := []struct {
		name    string
		a, b    string
		wantKey string
	}{
		{"Somali spelling", "Maxamed", "Mohammed", "=mohamed"},
		{"Somali Mohamud", "Mohamud", "Muhammad", "=mohamed"},
		{"Arabic script", "محمد", "Mahamed", "=mohamed"},
		{"Arabic with vowel marks", "مُحَمَّد", "Mohamed", "=mohamed"},
		{"Cabdi", "Cabdi", "Abdi", "=abdi"},
		{"Cabdullaahi", "Cabdullaahi", "Abdullahi", "=abdullahi"},
		{"Abdullah in Arabic, two words", "عبد الله", "Abdullahi", "=abdullahi"},
		{"Axmed", "Axmed", "Ahmad", "=ahmed"},
		{"Xasan", "Xasan", "Hasan", "=hassan"},
		{"Xuseen", "Xuseen", "Husein", "=hussein"},
		{"Faadumo", "Faadumo", "Fatuma", "=fatima"},
		{"Fatima in Arabic", "فاطمة", "Fatima", "=fatima"},
		{"Caasha", "Caasha", "Ayesha", "=aisha"},
		{"Aisha in Arabic", "عائشة", "Aisha", "=aisha"},
		{"Cali", "Cali", "Ali", "=ali"},
		{"Cumar", "Cumar", "Omar", "=omar"},
		{"Yousef", "Yuusuf", "Yousef", "=yusuf"},
		{"Ibraahim", "Ibraahim", "إبراهيم", "=ibrahim"},
		{"Ismaaciil", "Ismaaciil", "Ismail", "=ismail"},
		{"Abdul Rahman, apart and joined", "Abdul Rahman", "Cabdiraxmaan", "=abdirahman"},
		{"Abd al Rahman", "Abd al Rahman", "Abdirahman", "=abdirahman"},
		// Not in the table, but with the skeleton of one of its spellings.
		{"by skeleton: Fadumoo", "Fadumoo", "Fatima", "=fatima"},
		{"by skeleton: Yuusef", "Yuusef", "Yusuf", "=yusuf"},
		{"by skeleton: Xaliima", "Xaliima", "Halima", "=halima"},
		// Not in the table: the skeletons still agree.
		{"skeleton: Guled", "Guuleed", "Guled", "~gld"},
		{"skeleton: Arabic against Latin", "ضاهر", "Daahir", "~dhr"},
		{"skeleton: trailing h", "Shamsah", "Shamsa", "~sms"},
	}
	for _, tc := range same {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := Keys(tc.a), Keys(tc.b)
			if len(ka) != 1 || len(kb) != 1 || ka[0] != tc.wantKey || kb[0] != tc.wantKey {
				t.Fatalf("Keys(%q) = %q, Keys(%q) = %q, want both [%s]", tc.a, ka, tc.b, kb, tc.wantKey)
			}
		})
	}
	apart := [][2]string{
		{"Hassan", "Hussein"},
		{"Xasan", "Xuseen"},
		{"حسن", "حسين"},
		{"Mohamed", "Ahmed"},
		{"Mohamed", "Mahmoud"},
		{"Omar", "Maria"},
		{"Abdi", "Abdullahi"},
		{"Ali", "Aliyu Bello"},
	}
	// A skeleton two names of the table share says nothing: Maxamad could
	// be Mohamed or Mahmoud, and matches neither.
	if k := Key("maxamad"); k != "~mhmd" {
		t.Errorf("Key(maxamad) = %q, want ~mhmd", k)
	}
	for _, p := range apart {
		if FullKey(p[0]) == FullKey(p[1]) {
			t.Errorf("%q and %q have one key, %q", p[0], p[1], FullKey(p[0]))
		}
	}
}

func TestFullKey(t *testing.T) {
	fatima := FullKey("Fatima Hassan Abdi")
	for _, name := range []string{
		"Faadumo Xasan Cabdi",
		"FATIMA HASSAN ABDI",
		"Abdi, Fatima Hassan",
		"Fatuma  Hasan-Abdi",
		"فاطمة حسن عبدي",
		"Fāṭima Ḥassan ʿAbdi",
	} {
		if got := FullKey(name); got != fatima {
			t.Errorf("FullKey(%q) = %q, want %q", name, got, fatima)
		}
	}
	for _, name := range []string{"Fatima Hussein Abdi", "Fatima Hassan", "Khadija Hassan Abdi"} {
		if FullKey(name) == fatima {
			t.Errorf("FullKey(%q) is Fatima Hassan Abdi's", name)
		}
	}
	if FullKey("") != "" || FullKey("-- ..") != "" {
		t.Error("a name with no letters has a key")
	}
}

func TestSimilar(t *testing.T) {
	tests := []struct {
		a, b   string
		shared int
		of     int
		want   bool
	}{
		{"Fatima Hassan Abdi", "Faadumo Xasan Cabdi", 3, 3, true},
		{"Fatima Hassan Abdi", "Faadumo Cabdi", 2, 2, true},
		{"Fatima Hassan Abdi", "Fatima Omar Ali", 1, 3, false},
		{"Fatima Hassan Abdi", "Faadumo", 1, 1, true},
		{"Fatima Hassan Abdi", "Khadija Omar", 0, 2, false},
		{"محمد علي", "Maxamed Cali", 2, 2, true},
	}
	for _, tc := range tests {
		shared, of := Shared(tc.a, tc.b)
		if shared != tc.shared || of != tc.of || Similar(tc.a, tc.b) != tc.want {
			t.Errorf("Shared(%q, %q) = %d of %d, Similar %v; want %d of %d, %v", tc.a, tc.b, shared, of, Similar(tc.a, tc.b), tc.shared, tc.of, tc.want)
		}
	}
}

func FuzzKeys(f *testing.F) {
	for _, s := range []string{"Fatima Hassan Abdi", "محمد", "Abd al", "ـ", "\ufee3", "ab\x00cd", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		full := FullKey(name)
		// The key of a key's name is stable: normalising is idempotent.
		if Normalise(Normalise(name)) != Normalise(name) {
			t.Fatalf("Normalise is not idempotent on %q", name)
		}
		if (full == "") != (len(Parts(name)) == 0) {
			t.Fatalf("FullKey %q for parts %q", full, Parts(name))
		}
	})
}
