package bolt

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/verifier/registry"
)

// The seed corpus of FuzzDecodeEntry is kept in
// testdata/fuzz/FuzzDecodeEntry. Refresh it with
//
//	go test ./internal/bolt -run TestEntryFuzzCorpus -update-entry-fuzz
var updateEntryFuzz = flag.Bool("update-entry-fuzz", false, "rewrite the seed corpus of FuzzDecodeEntry")

const entryToken = "aaaqeayeaudaocajbifqydiob4"

func sampleEntries() map[string]registry.Entry {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 123e6, time.UTC)
	return map[string]registry.Entry{
		"new": {Token: entryToken, FirstSeen: t0, LastSeen: t0, FirstAt: "Point 3", LastAt: "Point 3", FirstProgramme: "MPCA-2026",
			LastProgramme: "MPCA-2026", Count: 1, Periods: []registry.PeriodCount{{Programme: "MPCA-2026", Month: "2026-03", Count: 1}}},
		"moved": {Token: entryToken, FirstSeen: t0, LastSeen: t0.AddDate(1, 2, 3), FirstAt: "Point 3", LastAt: "Clinic ٧", FirstProgramme: "",
			LastProgramme: "HEALTH", Count: 7, Periods: []registry.PeriodCount{{Month: "2026-03", Count: 2}, {Programme: "HEALTH", Month: "2027-05", Count: 5}}},
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for name, e := range sampleEntries() {
		t.Run(name, func(t *testing.T) {
			data := encodeEntry(&e)
			got, err := decodeEntry(entryToken, data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.FirstSeen.Equal(e.FirstSeen) || !got.LastSeen.Equal(e.LastSeen) || got.FirstAt != e.FirstAt || got.LastAt != e.LastAt ||
				got.FirstProgramme != e.FirstProgramme || got.LastProgramme != e.LastProgramme || got.Count != e.Count || len(got.Periods) != len(e.Periods) {
				t.Fatalf("%+v became %+v", e, got)
			}
			for i := range e.Periods {
				if got.Periods[i] != e.Periods[i] {
					t.Fatalf("period %d: %+v became %+v", i, e.Periods[i], got.Periods[i])
				}
			}
			// Every cut of a record is refused, never read short.
			for n := range len(data) {
				if _, err := decodeEntry(entryToken, data[:n]); err == nil {
					t.Fatalf("%d of %d bytes decoded", n, len(data))
				}
			}
			if _, err := decodeEntry(entryToken, append(data, 0)); err == nil {
				t.Fatal("a trailing byte was accepted")
			}
		})
	}
	if len(encodeEntry(ptr(sampleEntries()["new"]))) > 48 {
		t.Errorf("a new entry takes %d bytes", len(encodeEntry(ptr(sampleEntries()["new"]))))
	}
}

func ptr[T any](v T) *T { return &v }

func entrySeeds() map[string][]byte {
	seeds := map[string][]byte{
		"empty":       {},
		"version-2":   {2},
		"huge-string": {1, 2, 0, 1, 3, 0xff, 0xff, 0xff, 0x0f},
		"many-period": {1, 2, 0, 1, 3, 1, 'a', 0, 0xff, 0xff, 0x7f},
	}
	for name, e := range sampleEntries() {
		seeds[name] = encodeEntry(&e)
	}
	return seeds
}

func TestEntryFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzcorpus.Seed{}
	for name, data := range entrySeeds() {
		corpus[name] = fuzzcorpus.Seed{data}
	}
	fuzzcorpus.Keep(t, "FuzzDecodeEntry", *updateEntryFuzz, "go test ./internal/bolt -run TestEntryFuzzCorpus -update-entry-fuzz", corpus)
}

// FuzzDecodeEntry: a stored entry, however damaged, decodes or is refused
// without panic or unbounded allocation; what decodes encodes back to the
// same bytes.
func FuzzDecodeEntry(f *testing.F) {
	for _, data := range entrySeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(entryToken, data)
		if err != nil {
			return
		}
		if again := encodeEntry(&e); !bytes.Equal(again, data) {
			// The flags may say "same as first" or spell it out: decode the
			// re-encoding and compare the meaning.
			e2, err := decodeEntry(entryToken, again)
			if err != nil || e2.Count != e.Count || e2.LastAt != e.LastAt || e2.LastProgramme != e.LastProgramme || !e2.LastSeen.Equal(e.LastSeen) || len(e2.Periods) != len(e.Periods) {
				t.Fatalf("%x decoded to %+v, which encodes to %x", data, e, again)
			}
		}
	})
}
