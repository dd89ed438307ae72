package registry

import (
	"time"
)

// Scan is one scan of a person's credential at a service point, reduced
// to what the registry keeps: the person's token in the domain, never the
// credential.
type Scan struct {
	// Domain is the dedup domain the token was derived in.
	Domain string
	// Token is the pairwise dedup token (verifier.Result.DedupToken).
	Token string
	// ServicePoint names where the scan happened ("Kakuma distribution
	// point 3"); no personal data.
	ServicePoint string
	// Programme is the programme code the person was served under; empty
	// when none.
	Programme string
	// At is the time of the scan.
	At time.Time
}

// Check reports the first bad field of s.
func (s Scan) Check() error {
	if err := checkIdentifier(s.Domain); err != nil {
		return invalid("domain", "%v", err)
	}
	if err := CheckToken(s.Token); err != nil {
		return invalid("token", "%v", err)
	}
	if err := checkLabel(s.ServicePoint, maxServicePoint); err != nil {
		return invalid("service point", "%v", err)
	}
	if err := checkProgramme(s.Programme); err != nil {
		return invalid("programme", "%v", err)
	}
	if s.At.IsZero() {
		return invalid("time", "the scan has no time")
	}
	if err := checkMonth(string(MonthOf(s.At))); err != nil {
		return invalid("time", "%v", err)
	}
	return nil
}

// Entry is what a domain's registry knows of one token.
type Entry struct {
	Token string `json:"token"`
	// FirstSeen and LastSeen are the times of the first and the latest
	// scan, in UTC; FirstAt and LastAt the service points.
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	FirstAt   string    `json:"firstServicePoint"`
	LastAt    string    `json:"lastServicePoint"`
	// FirstProgramme and LastProgramme are the programmes of those scans.
	FirstProgramme string `json:"firstProgramme"`
	LastProgramme  string `json:"lastProgramme"`
	// Count is the number of scans.
	Count int `json:"count"`
	// Periods counts the scans per programme and month, for
	// reconciliation.
	Periods []PeriodCount `json:"periods"`
}

// PeriodCount is the number of scans of one token under one programme in
// one month.
type PeriodCount struct {
	Programme string `json:"programme"`
	Month     Month  `json:"month"`
	Count     int    `json:"count"`
}

// Outcome is the answer to a scan.
type Outcome struct {
	// New is true when the token had never been seen in the domain.
	New bool
	// Before is the entry as it was before this scan (zero when New):
	// first and last seen, where, in which programme, how many times.
	Before Entry
	// After is the entry with this scan counted.
	After Entry
}

// Apply counts scan s into the entry prev (nil for a token never seen)
// and returns the outcome. Stores call it inside the transaction that
// reads prev and writes Outcome.After, so that two scans of one token are
// never both new. A scan older than the last one (a device that synced
// late) leaves LastSeen as it is, and moves FirstSeen back if it is older
// than it.
func Apply(prev *Entry, s Scan) Outcome {
	at := s.At.UTC().Truncate(time.Millisecond) // as stores keep it
	if prev == nil {
		e := Entry{Token: s.Token, FirstSeen: at, LastSeen: at, FirstAt: s.ServicePoint, LastAt: s.ServicePoint,
			FirstProgramme: s.Programme, LastProgramme: s.Programme, Count: 1,
			Periods: []PeriodCount{{Programme: s.Programme, Month: MonthOf(at), Count: 1}}}
		return Outcome{New: true, After: e}
	}
	before := *prev
	before.Periods = append([]PeriodCount(nil), prev.Periods...)
	e := before
	e.Periods = append([]PeriodCount(nil), prev.Periods...)
	e.Count++
	if !at.Before(e.LastSeen) {
		e.LastSeen, e.LastAt, e.LastProgramme = at, s.ServicePoint, s.Programme
	}
	if at.Before(e.FirstSeen) {
		e.FirstSeen, e.FirstAt, e.FirstProgramme = at, s.ServicePoint, s.Programme
	}
	month, found := MonthOf(at), false
	for i := range e.Periods {
		if e.Periods[i].Programme == s.Programme && e.Periods[i].Month == month {
			e.Periods[i].Count++
			found = true
			break
		}
	}
	if !found {
		e.Periods = append(e.Periods, PeriodCount{Programme: s.Programme, Month: month, Count: 1})
	}
	return Outcome{Before: before, After: e}
}
