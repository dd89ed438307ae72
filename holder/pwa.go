package holder

import (
	"context"
	"errors"
	"time"
)

// This file keeps what the web wallet last learnt of each credential's
// status (issue 8, part pwa), so that offline the wallet can say "valid
// when last checked on …". The record is a sealed item like every other:
// the operator sees neither the credential nor its status.

// KindStatus is the kind of a credential's last status check; its id is
// the credential's.
const KindStatus Kind = "status"

// The states of a credential as the wallet last saw them.
const (
	StateValid     = "valid"
	StateSuspended = "suspended"
	StateRevoked   = "revoked"
	StateExpired   = "expired"
	// StateUnknown: the status could not be read (the issuer's server did
	// not answer, or the credential names no list the wallet can read).
	StateUnknown = "unknown"
)

// CredentialStatus is the result of a status check of one credential.
type CredentialStatus struct {
	// State is one of the State constants.
	State string `json:"state"`
	// CheckedAt is when the wallet checked; ListSignedAt when the issuer
	// signed the status list it read (zero when none was read).
	CheckedAt    time.Time `json:"checked_at"`
	ListSignedAt time.Time `json:"list_signed_at,omitzero"`
	// Revocable is false for a credential that names no status list: it
	// can expire but never be revoked.
	Revocable bool `json:"revocable"`
	// Problem says in plain English why the state is unknown; it quotes
	// nothing of the credential's holder.
	Problem string `json:"problem,omitempty"`
}

// SetStatus keeps the result of a status check of one of the holder's
// credentials; ErrNotFound when the wallet has no such credential.
func (w *Wallet) SetStatus(ctx context.Context, credentialID string, st CredentialStatus) error {
	if _, err := w.Credential(ctx, credentialID); err != nil {
		return err
	}
	switch st.State {
	case StateValid, StateSuspended, StateRevoked, StateExpired, StateUnknown:
	default:
		return invalid("%q is not a credential state", st.State)
	}
	if st.CheckedAt.IsZero() {
		st.CheckedAt = w.s.now().UTC()
	}
	return w.put(ctx, KindStatus, credentialID, st, w.s.opts.MaxCredentials)
}

// Status returns the last status check of a credential; ErrNotFound when
// it was never checked.
func (w *Wallet) Status(ctx context.Context, credentialID string) (CredentialStatus, error) {
	var st CredentialStatus
	err := w.get(ctx, KindStatus, credentialID, &st)
	return st, err
}

// Statuses returns the last status check of every credential checked, by
// credential id.
func (w *Wallet) Statuses(ctx context.Context) (map[string]CredentialStatus, error) {
	items, err := w.s.store.Items(ctx, w.holder, KindStatus)
	if err != nil {
		return nil, err
	}
	out := make(map[string]CredentialStatus, len(items))
	for _, it := range items {
		var st CredentialStatus
		if err := w.unseal(it, &st); err != nil {
			return nil, err
		}
		out[it.ID] = st
	}
	return out, nil
}

// forgetStatus deletes a credential's status record, if any.
func (w *Wallet) forgetStatus(ctx context.Context, credentialID string) error {
	err := w.s.store.DeleteItem(ctx, w.holder, KindStatus, credentialID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
