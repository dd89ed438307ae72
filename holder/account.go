package holder

import (
	"context"
	"time"
)

// Account is a holder's account as stored. Nothing in it is personal,
// and nothing in it opens the holder's data without a secret that only
// the holder keeps (the PIN and the device secret, or the recovery code).
type Account struct {
	// ID is the wallet number, ten letters and digits: the holder reads
	// it out to registration staff when they need help.
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// KDF is how the keys that seal the data key are derived.
	KDF KDFParams `json:"kdf"`
	// DeviceHash is the SHA-256 of the device secret: a PIN is tried only
	// from the device that proves it.
	DeviceHash []byte `json:"device_hash"`
	// PINSalt and PINSealed: the data key sealed under argon2id(PIN,
	// device secret).
	PINSalt   []byte `json:"pin_salt"`
	PINSealed []byte `json:"pin_sealed"`
	// RecoverySalt and RecoverySealed: the data key sealed under
	// argon2id(recovery code).
	RecoverySalt   []byte `json:"recovery_salt"`
	RecoverySealed []byte `json:"recovery_sealed"`
	// Failures counts the wrong PINs since the last
	// right one; each attempt is counted before it is checked and
	// forgiven when right. LockedUntil is when the next may be tried.
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// KeyID names the data key in use (a keyed fingerprint of it, which
	// reveals nothing of it): an item sealed under an older one, by a
	// request still running when the wallet was started again, is
	// refused by the store.
	KeyID string `json:"key_id"`
	// ResetHash is the SHA-256 of the one-time reset code registration
	// staff gave, valid until ResetExpires; nil when none is open.
	ResetHash    []byte    `json:"reset_hash,omitempty"`
	ResetExpires time.Time `json:"reset_expires,omitzero"`
}

// Kind is a kind of sealed item.
type Kind string

// The kinds of sealed item.
const (
	KindCredential Kind = "credential"
	KindShare      Kind = "share"
	KindProfile    Kind = "profile"
)

// Item is one sealed thing a holder keeps: only its holder, kind and
// random id are in the clear.
type Item struct {
	Holder string `json:"holder"`
	Kind   Kind   `json:"kind"`
	ID     string `json:"id"`
	// Sealed is nonce || AES-256-GCM ciphertext under the holder's data
	// key, bound to holder, kind and id.
	Sealed []byte `json:"sealed"`
	// KeyID is the Account.KeyID of the data key that sealed it: PutItem
	// refuses an item whose key is no longer the account's.
	KeyID string `json:"-"`
}

// Store keeps holder accounts and their sealed items. internal/bolt
// implements it on bbolt.
type Store interface {
	// CreateAccount stores a new account; an error if its id is taken.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns an account, or ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// UpdateAccount changes an account in one transaction, with writers
	// serialised; nothing is written if change returns an error, which
	// UpdateAccount returns. When reset is true the account's items are
	// all deleted in the same transaction (a staff reset: the old data
	// key is gone).
	UpdateAccount(ctx context.Context, id string, change func(a *Account) (reset bool, err error)) (Account, error)
	// DeleteAccount deletes an account and every item it keeps, in one
	// transaction.
	DeleteAccount(ctx context.Context, id string) error

	// PutItem stores an item, replacing the one of the same holder, kind
	// and id; ErrNotFound if the account does not exist; ErrUnauthenticated
	// if the item's KeyID is not the account's; ErrFull if it would make
	// more than max items of its kind (max 0: no bound).
	PutItem(ctx context.Context, it Item, max int) error
	// Item returns one item, or ErrNotFound.
	Item(ctx context.Context, holder string, kind Kind, id string) (Item, error)
	// Items returns a holder's items of one kind, in id order.
	Items(ctx context.Context, holder string, kind Kind) ([]Item, error)
	// DeleteItem deletes one item; ErrNotFound if there is none.
	DeleteItem(ctx context.Context, holder string, kind Kind, id string) error
}
