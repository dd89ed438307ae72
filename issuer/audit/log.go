package audit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps the log's records, in sequence order. It knows nothing of
// their content: the Log encodes, links and checks them.
type Store interface {
	// Append stores the record build returns, under the next sequence
	// number, as one atomic step: build is given that number and the last
	// record stored (nil when there is none), no other Append runs between
	// the two, and if build or the write fails nothing is stored. It never
	// overwrites a record. build may be called more than once; the last
	// call's record is the one kept.
	Append(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error
	// Records calls fn with each record and the sequence number it is
	// stored under, in increasing order, all from one consistent view. It
	// stops at fn's first error and returns it. A record is valid only
	// during its call.
	Records(ctx context.Context, fn func(seq uint64, record []byte) error) error
	// Head returns the last sequence number the store gave out (0 when
	// none) and the last record stored (nil when none). When records have
	// been removed from the end, the first is larger than the second's.
	Head(ctx context.Context) (seq uint64, last []byte, err error)
}

// Programmes says whether an organisation has a programme: a Log given one
// appends a programme's purpose only for a programme that exists.
type Programmes interface {
	HasProgramme(ctx context.Context, org, code string) (bool, error)
}

// Options configure a Log. The zero value is usable.
type Options struct {
	// Now is the clock entries are timed by; nil is time.Now.
	Now func() time.Time
	// Programmes, when set, is asked whether the programme named by a
	// ProgrammePurpose exists in the entry's organisation. When nil, any
	// well-formed programme code is accepted.
	Programmes Programmes
}

// Log is the audit log: an append-only chain of entries in a Store, each
// holding the hash of the one before.
type Log struct {
	store      Store
	now        func() time.Time
	programmes Programmes
}

// NewLog returns the log kept in store.
func NewLog(store Store, opts Options) *Log {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Log{store: store, now: now, programmes: opts.Programmes}
}

// ErrUnknownProgramme is returned, wrapped in an EntryError, for a
// programme's purpose whose programme the Programmes catalogue does not
// know.
var ErrUnknownProgramme = errors.New("no such programme in this organisation")

// ErrDamaged is returned by Append when the last stored record cannot be
// extended: it cannot be read, or its sequence number is not below the
// next one. `tally audit verify` says what is wrong.
var ErrDamaged = errors.New("the audit log is damaged")

// Append adds e to the end of the log and returns it as stored. The caller
// fills Actor, Org, Action, Objects, Purpose and Outcome, and leaves Seq,
// Time, Prev and Hash zero: Append fills them, in one atomic step of the
// store, so that concurrent appends keep one chain.
//
// An entry Append refuses is an *EntryError (errors.Is ErrInvalidEntry).
// When the log's tail has been removed (the store's sequence runs ahead of
// its last record), Append still appends, after the last record: the gap
// stays for Verify to report.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	if e.Seq != 0 || !e.Time.IsZero() || !e.Prev.IsZero() || !e.Hash.IsZero() {
		return Entry{}, fieldError("seq", "Seq, Time, Prev and Hash are filled by Append: leave them zero")
	}
	if err := e.validate(false); err != nil {
		return Entry{}, err
	}
	if code, ok := e.Purpose.Programme(); ok && l.programmes != nil {
		known, err := l.programmes.HasProgramme(ctx, e.Org, code)
		if err != nil {
			return Entry{}, fmt.Errorf("audit: looking up the purpose's programme: %w", err)
		}
		if !known {
			return Entry{}, &EntryError{Field: "purpose", Problem: ErrUnknownProgramme.Error()}
		}
	}
	e.Objects = append([]Object(nil), e.Objects...)
	var stored Entry
	err := l.store.Append(ctx, func(seq uint64, last []byte) ([]byte, error) {
		next := e
		next.Seq = seq
		next.Time = l.now().UTC()
		if last != nil {
			prev, err := DecodeEntry(last)
			if err != nil {
				return nil, fmt.Errorf("%w: the last entry cannot be read (%w)", ErrDamaged, err)
			}
			if prev.Seq >= seq {
				return nil, fmt.Errorf("%w: the store's next sequence number is %d, but its last entry is %d", ErrDamaged, seq, prev.Seq)
			}
			next.Prev = prev.Hash
		}
		next.Hash = next.ComputeHash()
		record, err := next.MarshalBinary()
		if err != nil {
			return nil, err
		}
		stored = next
		return record, nil
	})
	if err != nil {
		return Entry{}, err
	}
	return stored, nil
}

// Entries calls fn with each entry of the log in order, as stored: it does
// not check the chain (Verify does). It stops at fn's first error, and at
// a record it cannot read, with a *ChainError.
func (l *Log) Entries(ctx context.Context, fn func(Entry) error) error {
	var next uint64 = 1
	err := l.store.Records(ctx, func(seq uint64, record []byte) error {
		e, err := DecodeEntry(record)
		if err != nil {
			return &ChainError{Seq: seq, Reason: ReasonMalformed, Err: err}
		}
		next = seq + 1
		return fn(e)
	})
	var ce *ChainError
	if errors.Is(err, ErrMalformed) && !errors.As(err, &ce) {
		err = &ChainError{Seq: next, Reason: ReasonMalformed, Err: err}
	}
	return err
}

// Anchor returns the log's head as an Anchor, to keep somewhere the log's
// own storage cannot reach. It does not verify the chain: an anchor of a
// log altered before it proves nothing, so `tally audit export --anchor`
// verifies first.
func (l *Log) Anchor(ctx context.Context) (Anchor, error) {
	_, last, err := l.store.Head(ctx)
	if err != nil || last == nil {
		return Anchor{}, err
	}
	e, err := DecodeEntry(last)
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: the last entry cannot be read (%w)", ErrDamaged, err)
	}
	return anchorOf(e), nil
}
