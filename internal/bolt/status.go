package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// The status records: bucketCredentials holds the record of each issued
// credential (never its content), bucketCredentialsByRegistration an
// entry per credential under its registration, with an empty value, and
// bucketStatusBits each list's three bitstrings (used, revoked,
// suspended), StatusListSize bits each.
var (
	bucketCredentials               = []byte("credentials")
	bucketCredentialsByRegistration = []byte("credentials_by_registration")
	bucketStatusBits                = []byte("status_bits")
)

// The bitstrings of a status list.
const (
	bitsUsed      = 'u'
	bitsRevoked   = 'r'
	bitsSuspended = 's'
)

// maxStatusLists bounds the lists an organisation may fill (a little
// over 134 million credentials).
const maxStatusLists = 1024

func credentialKey(org, id string) []byte { return []byte(org + "\x00" + id) }

// credentialByRegistrationKey orders a registration's credentials by seq,
// the order they were stored in.
func credentialByRegistrationKey(r issuer.CredentialRecord, seq uint64) []byte {
	k := []byte(r.Org + "\x00" + r.Registration + "\x00")
	k = binary.BigEndian.AppendUint64(k, seq)
	return append(k, r.ID...)
}

func statusBitsKey(org string, list int, kind byte) []byte {
	k := binary.BigEndian.AppendUint32([]byte(org+"\x00"), uint32(list))
	return append(k, kind)
}

// bits returns a copy of one bitstring of a list, all clear if the list
// has none yet.
func bits(tx *bbolt.Tx, org string, list int, kind byte) ([]byte, bool) {
	out := make([]byte, issuer.StatusListSize/8)
	v := tx.Bucket(bucketStatusBits).Get(statusBitsKey(org, list, kind))
	copy(out, v)
	return out, v != nil
}

func setBit(b []byte, i int, on bool) {
	mask := byte(0x80 >> (i % 8))
	if on {
		b[i/8] |= mask
	} else {
		b[i/8] &^= mask
	}
}

// AddCredential stores a credential's record with a status entry chosen by
// choose in the first list with a free index, in one transaction.
func (d *DB) AddCredential(ctx context.Context, rec issuer.CredentialRecord, choose issuer.IndexChooser) (issuer.CredentialRecord, error) {
	if rec.ID == "" || rec.Org == "" || (rec.Registration == "" && rec.Source != issuer.SourceVCAPI) {
		return issuer.CredentialRecord{}, fmt.Errorf("a credential record needs an id, an organisation and a registration (or to come from the VC API)")
	}
	err := d.update(ctx, func(tx *bbolt.Tx) (err error) {
		rec, err = addCredential(tx, rec, choose)
		return err
	})
	if err != nil {
		return issuer.CredentialRecord{}, err
	}
	return rec, nil
}

// addCredential is AddCredential in a transaction.
func addCredential(tx *bbolt.Tx, rec issuer.CredentialRecord, choose issuer.IndexChooser) (issuer.CredentialRecord, error) {
	err := func() error {
		if tx.Bucket(bucketCredentials).Get(credentialKey(rec.Org, rec.ID)) != nil {
			return fmt.Errorf("credential %s: %w", rec.ID, issuer.ErrConflict)
		}
		for list := 0; ; list++ {
			if list >= maxStatusLists {
				return fmt.Errorf("credential %s: no free status index in %d lists", rec.ID, maxStatusLists)
			}
			used, _ := bits(tx, rec.Org, list, bitsUsed)
			i, ok := choose(list, used)
			if !ok {
				continue
			}
			if i < 0 || i >= issuer.StatusListSize || used[i/8]&(0x80>>(i%8)) != 0 {
				return fmt.Errorf("status list %d: index %d is not free", list, i)
			}
			setBit(used, i, true)
			if err := tx.Bucket(bucketStatusBits).Put(statusBitsKey(rec.Org, list, bitsUsed), used); err != nil {
				return err
			}
			rec.List, rec.Index = list, i
			break
		}
		if err := put(tx, bucketCredentials, credentialKey(rec.Org, rec.ID), rec); err != nil {
			return err
		}
		if rec.Registration == "" {
			// A VC API credential belongs to no registration.
			return nil
		}
		b := tx.Bucket(bucketCredentialsByRegistration)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(credentialByRegistrationKey(rec, seq), nil)
	}()
	if err != nil {
		return issuer.CredentialRecord{}, err
	}
	return rec, nil
}

// Credential returns one credential's record.
func (d *DB) Credential(ctx context.Context, org, id string) (issuer.CredentialRecord, error) {
	var r issuer.CredentialRecord
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketCredentials, credentialKey(org, id), &r, fmt.Errorf("credential %s: %w", id, issuer.ErrNotFound))
	})
	return r, err
}

// RegistrationCredentials returns a registration's credential records,
// oldest first.
func (d *DB) RegistrationCredentials(ctx context.Context, org, registration string) ([]issuer.CredentialRecord, error) {
	out := []issuer.CredentialRecord{}
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		prefix := []byte(org + "\x00" + registration + "\x00")
		c := tx.Bucket(bucketCredentialsByRegistration).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) < len(prefix)+8 {
				return fmt.Errorf("bucket %s: a malformed key", bucketCredentialsByRegistration)
			}
			var r issuer.CredentialRecord
			id := string(k[len(prefix)+8:])
			if err := get(tx, bucketCredentials, credentialKey(org, id), &r, fmt.Errorf("credential %s: %w", id, issuer.ErrNotFound)); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// SetCredentialState changes a credential's state and its bits in the
// revocation and suspension lists, in one transaction.
func (d *DB) SetCredentialState(ctx context.Context, org, id string, change func(issuer.CredentialRecord) (issuer.CredentialRecord, error)) (issuer.CredentialRecord, error) {
	var out issuer.CredentialRecord
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		var r issuer.CredentialRecord
		if err := get(tx, bucketCredentials, credentialKey(org, id), &r, fmt.Errorf("credential %s: %w", id, issuer.ErrNotFound)); err != nil {
			return err
		}
		next, err := change(r)
		if err != nil {
			return err
		}
		if next.ID != r.ID || next.Org != r.Org || next.List != r.List || next.Index != r.Index {
			return fmt.Errorf("credential %s: only its state may change", id)
		}
		for _, b := range []struct {
			kind byte
			on   bool
		}{{bitsRevoked, next.State == issuer.StateRevoked}, {bitsSuspended, next.State == issuer.StateSuspended}} {
			v, _ := bits(tx, org, r.List, b.kind)
			setBit(v, r.Index, b.on)
			if err := tx.Bucket(bucketStatusBits).Put(statusBitsKey(org, r.List, b.kind), v); err != nil {
				return err
			}
		}
		out = next
		return put(tx, bucketCredentials, credentialKey(org, id), next)
	})
	return out, err
}

// StatusBits returns a list's revocation and suspension bitstrings. List
// 0 always exists; a later one once a credential has an entry in it.
func (d *DB) StatusBits(ctx context.Context, org string, list int) (issuer.StatusBits, error) {
	var out issuer.StatusBits
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		if _, ok := bits(tx, org, list, bitsUsed); !ok && list != 0 {
			return fmt.Errorf("status list %d: %w", list, issuer.ErrNotFound)
		}
		out.Revoked, _ = bits(tx, org, list, bitsRevoked)
		out.Suspended, _ = bits(tx, org, list, bitsSuspended)
		return nil
	})
	return out, err
}
