package audit

import (
	"context"
	"errors"
	"slices"
)

// ReverseStore is a Store that can also walk its records newest first;
// the audit page reads the log that way, a page at a time.
type ReverseStore interface {
	// RecordsBefore calls fn with each record stored under a sequence
	// number below before (all of them when before is 0), newest first,
	// from one consistent view, until fn returns false or an error.
	RecordsBefore(ctx context.Context, before uint64, fn func(seq uint64, record []byte) (bool, error)) error
}

// errEnough stops a forward walk.
var errEnough = errors.New("enough")

// EntriesBefore calls fn with each entry numbered below before (every
// entry when before is 0), newest first, until fn returns false. It does
// not check the chain (Verify does). A record it cannot read stops it
// with a *ChainError.
func (l *Log) EntriesBefore(ctx context.Context, before uint64, fn func(Entry) bool) error {
	visit := func(seq uint64, record []byte) (bool, error) {
		e, err := DecodeEntry(record)
		if err != nil {
			return false, &ChainError{Seq: seq, Reason: ReasonMalformed, Err: err}
		}
		return fn(e), nil
	}
	if rs, ok := l.store.(ReverseStore); ok {
		return rs.RecordsBefore(ctx, before, visit)
	}
	// A store that walks forward only: keep the records, then go back.
	type rec struct {
		seq    uint64
		record []byte
	}
	var all []rec
	err := l.store.Records(ctx, func(seq uint64, record []byte) error {
		if before != 0 && seq >= before {
			return errEnough
		}
		all = append(all, rec{seq, slices.Clone(record)})
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		more, err := visit(all[i].seq, all[i].record)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
