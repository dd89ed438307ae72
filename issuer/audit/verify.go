package audit

import (
	"context"
	"errors"
	"fmt"
)

// Reason says how the chain is broken, for callers to switch on.
type Reason int

// The ways a chain can break. Each names what Verify saw; the message of a
// ChainError says what can have caused it.
const (
	// ReasonMalformed: a record is not an entry's encoding, or holds a
	// value no entry can.
	ReasonMalformed Reason = iota + 1
	// ReasonAltered: an entry's fields no longer give its hash.
	ReasonAltered
	// ReasonMissing: sequence numbers skip: entries were removed.
	ReasonMissing
	// ReasonOutOfPlace: the record stored as entry N says it is a later
	// entry: entries were reordered, or removed and the rest moved up.
	ReasonOutOfPlace
	// ReasonInserted: the record stored as entry N says it is an earlier
	// entry, one that is already in the log: entries were inserted.
	ReasonInserted
	// ReasonUnlinked: an entry's Prev is not the hash of the entry before
	// it: that entry was replaced (or altered and its hash recomputed), or
	// entries between them were inserted or removed and the rest
	// renumbered.
	ReasonUnlinked
	// ReasonTruncated: the log ends before an entry it is known to have
	// had (by an anchor, or by the store's sequence number).
	ReasonTruncated
	// ReasonAnchorMismatch: the entry an anchor names is not the one the
	// anchor recorded: the log was rewritten, at that entry or before it.
	ReasonAnchorMismatch
)

// String names the reason in one word.
func (r Reason) String() string {
	switch r {
	case ReasonMalformed:
		return "malformed"
	case ReasonAltered:
		return "altered"
	case ReasonMissing:
		return "missing"
	case ReasonOutOfPlace:
		return "out-of-place"
	case ReasonInserted:
		return "inserted"
	case ReasonUnlinked:
		return "unlinked"
	case ReasonTruncated:
		return "truncated"
	case ReasonAnchorMismatch:
		return "anchor-mismatch"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// ErrBroken is what every ChainError is: errors.Is(err, ErrBroken) tells a
// broken chain from a store that could not be read.
var ErrBroken = errors.New("the audit chain is broken")

// ChainError is the first place Verify found the chain broken.
type ChainError struct {
	// Seq is the first entry the chain no longer vouches for: every entry
	// before it is verified.
	Seq    uint64
	Reason Reason
	// Found is, for ReasonOutOfPlace and ReasonInserted, the sequence
	// number the misplaced record claims; for ReasonMissing, the next
	// entry present; for ReasonUnlinked, the entry whose Prev does not
	// match; for ReasonTruncated, the last entry the log is known to have
	// had (Seq-1 is the last it has).
	Found uint64
	// Anchor is, for ReasonTruncated and ReasonAnchorMismatch, the anchor
	// that shows it; nil when the store's own sequence number showed a
	// truncation.
	Anchor *Anchor
	// Err is, for ReasonMalformed, what is wrong with the record.
	Err error
}

// Error says what is wrong in plain words.
func (e *ChainError) Error() string {
	switch e.Reason {
	case ReasonMalformed:
		return fmt.Sprintf("entry %d cannot be read: %v", e.Seq, e.Err)
	case ReasonAltered:
		return fmt.Sprintf("entry %d was altered: its content no longer matches its hash", e.Seq)
	case ReasonMissing:
		if e.Seq == 1 {
			if e.Found == 2 {
				return "entry 1 is missing: the log begins at entry 2"
			}
			return fmt.Sprintf("entries 1 to %d are missing: the log begins at entry %d", e.Found-1, e.Found)
		}
		if e.Found == e.Seq+1 {
			return fmt.Sprintf("entry %d is missing: the log goes from entry %d to entry %d", e.Seq, e.Seq-1, e.Found)
		}
		return fmt.Sprintf("entries %d to %d are missing: the log goes from entry %d to entry %d", e.Seq, e.Found-1, e.Seq-1, e.Found)
	case ReasonOutOfPlace:
		return fmt.Sprintf("entry %d is out of place: the record stored as entry %d says it is entry %d (entries were reordered, or removed and the rest moved up)", e.Seq, e.Seq, e.Found)
	case ReasonInserted:
		return fmt.Sprintf("an entry was inserted: entry %d is in the log twice, and the one stored as entry %d is not in its place", e.Seq, e.Found)
	case ReasonUnlinked:
		if e.Found == 1 {
			return "entry 1 does not begin the chain: it names an entry before it (entries were removed from the beginning and the rest renumbered, or it was replaced)"
		}
		return fmt.Sprintf("entry %d does not follow entry %d: entry %d was replaced, or altered and its hash recomputed, or entries were inserted or removed there and the rest renumbered", e.Found, e.Seq, e.Seq)
	case ReasonTruncated:
		by := fmt.Sprintf("the store has numbered entries up to %d", e.Found)
		if e.Anchor != nil {
			by = fmt.Sprintf("an anchor shows entry %d", e.Found)
			if !e.Anchor.Time.IsZero() {
				by += e.Anchor.Time.Format(", written 2006-01-02 15:04:05 MST")
			}
		}
		if e.Seq == 1 {
			return fmt.Sprintf("the log was cut off: it is empty, but %s", by)
		}
		return fmt.Sprintf("the log was cut off after entry %d: entries %d to %d were removed (%s)", e.Seq-1, e.Seq, e.Found, by)
	case ReasonAnchorMismatch:
		return fmt.Sprintf("entry %d is not the one an anchor recorded: the log was rewritten at entry %d or before it", e.Seq, e.Seq)
	}
	return fmt.Sprintf("entry %d: the chain is broken (%v)", e.Seq, e.Reason)
}

// Is makes errors.Is(err, ErrBroken) hold.
func (e *ChainError) Is(target error) bool { return target == ErrBroken }

// Unwrap returns what is wrong with a malformed record.
func (e *ChainError) Unwrap() error { return e.Err }

// Summary is what Verify found in an intact log.
type Summary struct {
	// Entries is how many entries the log holds.
	Entries uint64
	// Head is its last entry, as an anchor (zero for an empty log).
	Head Anchor
}

// Verify walks the whole chain and checks that each entry is intact
// (its fields give its hash), in its place (numbered from 1 without a gap)
// and linked (its Prev is the hash of the entry before), that the store
// gave out no sequence number beyond the last entry, and that each anchor
// names an entry the log holds, unchanged. It returns the first problem as
// a *ChainError; any other error is the store's.
//
// Without an anchor, Verify cannot tell the last entries from entries
// written by someone who rewrote the log's tail, hashes and all, and
// reset the store's sequence: that is what anchors are for.
func (l *Log) Verify(ctx context.Context, anchors ...Anchor) (Summary, error) {
	// The head first: entries appended during the walk are then part of
	// it, and do not look like a truncation.
	assigned, _, err := l.store.Head(ctx)
	if err != nil {
		return Summary{}, err
	}
	anchorAt := make(map[uint64]Anchor, len(anchors))
	var furthest *Anchor
	for _, a := range anchors {
		if a.Seq == 0 {
			continue
		}
		if b, dup := anchorAt[a.Seq]; dup && b.Hash != a.Hash {
			return Summary{}, &ChainError{Seq: a.Seq, Reason: ReasonAnchorMismatch, Anchor: &a}
		}
		anchorAt[a.Seq] = a
		if furthest == nil || a.Seq > furthest.Seq {
			furthest = &a
		}
	}

	var sum Summary
	var prev Entry
	want := uint64(1)
	err = l.store.Records(ctx, func(pos uint64, record []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case pos > want:
			return &ChainError{Seq: want, Reason: ReasonMissing, Found: pos}
		case pos < want:
			// A store that returns records out of order is itself broken.
			return &ChainError{Seq: want, Reason: ReasonMalformed, Err: fmt.Errorf("the store returned entry %d after entry %d", pos, want-1)}
		}
		e, err := DecodeEntry(record)
		if err != nil {
			return &ChainError{Seq: pos, Reason: ReasonMalformed, Err: err}
		}
		if e.ComputeHash() != e.Hash {
			return &ChainError{Seq: pos, Reason: ReasonAltered}
		}
		switch {
		case e.Seq > pos:
			return &ChainError{Seq: pos, Reason: ReasonOutOfPlace, Found: e.Seq}
		case e.Seq < pos:
			return &ChainError{Seq: e.Seq, Reason: ReasonInserted, Found: pos}
		}
		if e.Prev != prev.Hash {
			// The entry before is where the chain stops vouching: it
			// may be the one replaced.
			return &ChainError{Seq: max(pos-1, 1), Reason: ReasonUnlinked, Found: pos}
		}
		if a, ok := anchorAt[pos]; ok && a.Hash != e.Hash {
			return &ChainError{Seq: pos, Reason: ReasonAnchorMismatch, Anchor: &a}
		}
		prev = e
		want++
		return nil
	})
	var ce *ChainError
	if errors.Is(err, ErrMalformed) && !errors.As(err, &ce) {
		// The store found something it never writes (a key that is not
		// a sequence number, say) after entry want-1.
		err = &ChainError{Seq: want, Reason: ReasonMalformed, Err: err}
	}
	if err != nil {
		return Summary{}, err
	}
	last := want - 1
	if furthest != nil && furthest.Seq > last {
		return Summary{}, &ChainError{Seq: last + 1, Reason: ReasonTruncated, Found: furthest.Seq, Anchor: furthest}
	}
	if assigned > last {
		return Summary{}, &ChainError{Seq: last + 1, Reason: ReasonTruncated, Found: assigned}
	}
	sum.Entries = last
	if last > 0 {
		sum.Head = anchorOf(prev)
	}
	return sum, nil
}
