package holder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tally-id/tally/credentials"
)

// This file is the rest of a holder's life with their wallet (issue 8,
// the account part): changing the PIN, the encrypted backup and its
// restore on another phone, and the plain export of their credentials.

// --- the PIN ---

// ConfirmPIN checks the holder's PIN again, from the device that keeps
// the wallet's device secret, before something that cannot be undone (a
// plain export, deleting everything). A wrong PIN counts like one at
// signing in.
func (w *Wallet) ConfirmPIN(ctx context.Context, deviceSecret, pin string) error {
	_, _, err := w.checkPIN(ctx, deviceSecret, pin)
	return err
}

// checkPIN runs one counted attempt at the holder's PIN with the device
// secret, and returns the account as it was tried and the device secret.
func (w *Wallet) checkPIN(ctx context.Context, deviceSecret, pin string) (Account, []byte, error) {
	dev, err := base64.RawURLEncoding.DecodeString(deviceSecret)
	if err != nil || len(dev) != 32 {
		return Account{}, nil, fmt.Errorf("this phone is not linked to wallet %s: %w", group(w.holder, 5), ErrUnauthenticated)
	}
	a, err := w.s.store.Account(ctx, w.holder)
	if err != nil {
		return Account{}, nil, err
	}
	sum := sha256.Sum256(dev)
	if subtle.ConstantTimeCompare(sum[:], a.DeviceHash) != 1 {
		return Account{}, nil, fmt.Errorf("this phone is not linked to wallet %s: %w", group(w.holder, 5), ErrUnauthenticated)
	}
	if pin == "" {
		return Account{}, nil, invalid("type your PIN")
	}
	if len(pin) > MaxPINLength {
		return Account{}, nil, fmt.Errorf("wrong PIN: %w", ErrUnauthenticated)
	}
	var tried Account
	dataKey, err := w.s.attempt(ctx, w.holder, func(a Account) ([]byte, error) {
		tried = a
		k, err := w.s.derive(ctx, a.KDF, pinSecret(pin, dev), a.PINSalt, "pin")
		if err != nil {
			return nil, err
		}
		return open(k, a.PINSealed, keyAAD(a.ID, "pin"))
	})
	if err != nil {
		return Account{}, nil, err
	}
	if subtle.ConstantTimeCompare(dataKey, w.dataKey) != 1 {
		// The session is of a data key the account no longer has (a
		// reset happened since): it must sign in again.
		return Account{}, nil, fmt.Errorf("your wallet session ended: %w", ErrUnauthenticated)
	}
	return tried, dev, nil
}

// ChangePIN seals the holder's data key under a new PIN and the same
// device secret (the phone keeps working; the recovery code stays). The
// old PIN is checked as a counted attempt. The holder's other sessions
// end; this one goes on.
func (w *Wallet) ChangePIN(ctx context.Context, deviceSecret, oldPIN, newPIN string) error {
	if err := CheckPIN(newPIN); err != nil {
		return err
	}
	if oldPIN == newPIN {
		return invalid("the new PIN is the same as the old one: choose another")
	}
	a, dev, err := w.checkPIN(ctx, deviceSecret, oldPIN)
	if err != nil {
		return err
	}
	salt, err := w.s.random(16)
	if err != nil {
		return err
	}
	k, err := w.s.derive(ctx, a.KDF, pinSecret(newPIN, dev), salt, "pin")
	if err != nil {
		return err
	}
	sealed, err := seal(w.s.rand, k, w.dataKey, keyAAD(a.ID, "pin"))
	if err != nil {
		return err
	}
	if _, err := w.s.store.UpdateAccount(ctx, w.holder, func(b *Account) (bool, error) {
		// Another change (a recovery, a reset, another PIN change) won
		// the race: this one would undo it.
		if !bytes.Equal(b.DeviceHash, a.DeviceHash) || !bytes.Equal(b.PINSealed, a.PINSealed) || b.KDF != a.KDF {
			return false, fmt.Errorf("the wallet changed meanwhile: sign in and try again: %w", ErrUnauthenticated)
		}
		b.PINSalt, b.PINSealed = salt, sealed
		return false, nil
	}); err != nil {
		return err
	}
	w.s.endSessionsOf(w.holder, w.token)
	return nil
}

// --- the encrypted backup ---

// The backup file (docs/wallet-backup.md): a JSON envelope that says how
// its one ciphertext was sealed, and nothing else in the clear.
const (
	BackupFormat = "tally-wallet-backup"
	// MaxBackupBytes bounds a backup file: Restore refuses a larger one
	// before reading it, Backup a wallet whose backup would be larger.
	MaxBackupBytes = 16 << 20
	// MaxBackupPassphrase bounds a passphrase's length in bytes.
	MaxBackupPassphrase = 1024
	// maxKeys bounds the holder keys one profile keeps.
	maxKeys = 16
)

// DefaultBackupKDF is RFC 9106's second recommended argon2id cost (64
// MiB, three passes, four lanes): a backup file can be attacked offline
// with nothing but its passphrase, so it costs more than a PIN's key.
func DefaultBackupKDF() KDFParams { return KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4} }

// Bounds on a backup's KDF parameters, checked before anything is
// derived: a file cannot make the server spend more than this.
const (
	maxBackupKDFTime      = 8
	maxBackupKDFMemoryKiB = 128 * 1024
)

func (p KDFParams) checkBackup() error {
	if err := p.check(); err != nil || p.Time > maxBackupKDFTime || p.MemoryKiB > maxBackupKDFMemoryKiB {
		return invalid("the backup's key derivation parameters are out of bounds (at most %d passes and %d MiB)", maxBackupKDFTime, maxBackupKDFMemoryKiB>>10)
	}
	return nil
}

// backupFile is the envelope.
type backupFile struct {
	Format     string    `json:"format"`
	Version    int       `json:"v"`
	KDF        backupKDF `json:"kdf"`
	Cipher     string    `json:"cipher"`
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
}

type backupKDF struct {
	Alg string `json:"alg"`
	KDFParams
	Salt []byte `json:"salt"`
}

// backupContent is what the ciphertext holds.
type backupContent struct {
	Created     time.Time    `json:"created"`
	Lang        string       `json:"lang,omitempty"`
	Keys        []holderKey  `json:"keys"`
	Credentials []Credential `json:"credentials"`
	Shares      []Share      `json:"shares"`
}

// aad binds the ciphertext to every parameter of its envelope: change
// one, and the file does not open.
func (f backupFile) aad() []byte {
	b := []byte(fmt.Sprintf("%s/v%d\x00%s\x00%s\x00", f.Format, f.Version, f.Cipher, f.KDF.Alg))
	b = binary.BigEndian.AppendUint32(b, f.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, f.KDF.MemoryKiB)
	b = append(b, f.KDF.Threads)
	return append(b, f.KDF.Salt...)
}

// Backup returns an encrypted backup of everything the wallet keeps (the
// credentials, the share log, the language and the holder keys), sealed
// with AES-256-GCM under a key argon2id derives from passphrase. Nothing
// in the file is readable without it, not even the wallet number.
func (w *Wallet) Backup(ctx context.Context, passphrase string) ([]byte, error) {
	if len(passphrase) > MaxBackupPassphrase {
		return nil, invalid("the passphrase is longer than %d characters", MaxBackupPassphrase)
	}
	if err := credentials.CheckPassphrase([]byte(passphrase)); err != nil {
		return nil, invalid("%s", err.Error())
	}
	p, err := w.profile(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := w.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	log, err := w.Shares(ctx)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(backupContent{Created: w.s.now().UTC(), Lang: p.Lang, Keys: p.Keys, Credentials: cs, Shares: log})
	if err != nil {
		return nil, err
	}
	// base64 makes the ciphertext a third larger.
	if len(plain) > MaxBackupBytes*3/4-4096 {
		return nil, invalid("this wallet is too large for one backup file: delete some credentials first")
	}
	salt, err := w.s.random(16)
	if err != nil {
		return nil, err
	}
	f := backupFile{Format: BackupFormat, Version: 1, Cipher: "A256GCM", KDF: backupKDF{Alg: "argon2id", KDFParams: w.s.opts.BackupKDF, Salt: salt}}
	k, err := w.s.derive(ctx, f.KDF.KDFParams, []byte(passphrase), salt, "backup")
	if err != nil {
		return nil, err
	}
	sealed, err := seal(w.s.rand, k, plain, f.aad())
	if err != nil {
		return nil, err
	}
	f.Nonce, f.Ciphertext = sealed[:12], sealed[12:]
	return json.MarshalIndent(f, "", "  ")
}

// Restored says what a restore added to the wallet.
type Restored struct {
	// Credentials added; Skipped those the wallet kept already (the same
	// text).
	Credentials int `json:"credentials"`
	Skipped     int `json:"skipped"`
	// Keys are the holder keys added; Shares the share log entries.
	Keys   int `json:"keys"`
	Shares int `json:"shares"`
}

// parseBackup reads a backup file's envelope and checks everything that
// can be checked before deriving its key: its size, format, parameters.
func parseBackup(file []byte) (backupFile, error) {
	var f backupFile
	if len(file) > MaxBackupBytes {
		return f, invalid("a backup file has %d MB at most", MaxBackupBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || dec.More() {
		return f, invalid("this is not a wallet backup file")
	}
	switch {
	case f.Format != BackupFormat:
		return f, invalid("this is not a wallet backup file")
	case f.Version != 1:
		return f, invalid("this backup file was made by a newer version: update the wallet first")
	case f.Cipher != "A256GCM" || f.KDF.Alg != "argon2id":
		return f, invalid("this backup file is sealed in a way this wallet does not read")
	case len(f.KDF.Salt) < 16 || len(f.KDF.Salt) > 64 || len(f.Nonce) != 12 || len(f.Ciphertext) < 16:
		return f, invalid("this backup file is damaged")
	}
	return f, f.KDF.checkBackup()
}

// openBackup decrypts a backup file and checks its content's bounds.
func (s *Service) openBackup(ctx context.Context, file []byte, passphrase string) (backupContent, error) {
	var c backupContent
	f, err := parseBackup(file)
	if err != nil {
		return c, err
	}
	if len(passphrase) > MaxBackupPassphrase || passphrase == "" {
		return c, invalid("the passphrase is wrong, or the backup file was changed")
	}
	k, err := s.derive(ctx, f.KDF.KDFParams, []byte(passphrase), f.KDF.Salt, "backup")
	if err != nil {
		return c, err
	}
	plain, err := open(k, append(slices.Clip(f.Nonce), f.Ciphertext...), f.aad())
	if err != nil {
		return c, invalid("the passphrase is wrong, or the backup file was changed")
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, invalid("this backup file is damaged")
	}
	switch {
	case len(c.Keys) > maxKeys:
		return c, invalid("this backup file has more than %d holder keys", maxKeys)
	case len(c.Credentials) > s.opts.MaxCredentials:
		return c, fmt.Errorf("this backup file has more than %d credentials: %w", s.opts.MaxCredentials, ErrFull)
	case len(c.Shares) > s.opts.MaxShares:
		c.Shares = c.Shares[:s.opts.MaxShares]
	}
	for _, k := range c.Keys {
		// key checks that the private key is the one its did:jwk names.
		if _, err := k.key(); err != nil {
			return c, invalid("this backup file has a holder key that cannot be read or does not match its DID")
		}
	}
	for _, cr := range c.Credentials {
		if cr.Raw == "" || cr.Format == "" || len(cr.Raw) > maxItem {
			return c, invalid("this backup file has a credential that cannot be read")
		}
	}
	return c, nil
}

// Restore adds what a backup file keeps to this wallet: its holder keys
// first (so that no credential arrives without the key it is bound to),
// then its credentials (those the wallet keeps already, by their text,
// are skipped), then its share log as far as the log has room. Nothing
// is written unless the whole file opens and fits; a restore cut short
// can be run again, since what arrived is skipped.
func (w *Wallet) Restore(ctx context.Context, file []byte, passphrase string) (Restored, error) {
	var r Restored
	c, err := w.s.openBackup(ctx, file, passphrase)
	if err != nil {
		return r, err
	}
	have, err := w.Credentials(ctx)
	if err != nil {
		return r, err
	}
	byRaw := map[string]string{}
	for _, h := range have {
		byRaw[h.Raw] = h.ID
	}
	var add []Credential
	for _, cr := range c.Credentials {
		if _, ok := byRaw[cr.Raw]; ok {
			r.Skipped++
			continue
		}
		byRaw[cr.Raw] = ""
		add = append(add, cr)
	}
	if len(have)+len(add) > w.s.opts.MaxCredentials {
		return Restored{}, fmt.Errorf("a wallet keeps %d credentials at most, and this backup would make %d: delete some first: %w", w.s.opts.MaxCredentials, len(have)+len(add), ErrFull)
	}
	err = w.updateProfile(ctx, func(p *profile) error {
		var newKeys []holderKey
		for _, k := range c.Keys {
			if !slices.ContainsFunc(p.Keys, func(h holderKey) bool { return h.DID == k.DID }) &&
				!slices.ContainsFunc(newKeys, func(h holderKey) bool { return h.DID == k.DID }) {
				newKeys = append(newKeys, k)
			}
		}
		if len(p.Keys)+len(newKeys) > maxKeys {
			return invalid("a wallet keeps %d holder keys at most, and this backup would make %d", maxKeys, len(p.Keys)+len(newKeys))
		}
		if len(newKeys) > 0 {
			// The wallet's own key stays the last: the one new credentials
			// are bound to.
			last := p.Keys[len(p.Keys)-1]
			p.Keys = append(append(p.Keys[:len(p.Keys)-1:len(p.Keys)-1], newKeys...), last)
		}
		r.Keys = len(newKeys)
		return nil
	})
	if err != nil {
		return Restored{}, err
	}
	ids := map[string]string{} // the backup's credential ids to this wallet's
	for _, cr := range c.Credentials {
		ids[cr.ID] = byRaw[cr.Raw]
	}
	for _, cr := range add {
		old := cr.ID
		cr.Source = "backup"
		got, err := w.AddCredential(ctx, cr)
		if err != nil {
			return r, err
		}
		ids[old] = got.ID
		r.Credentials++
	}
	log, err := w.Shares(ctx)
	if err != nil {
		return r, err
	}
	room := w.s.opts.MaxShares - len(log)
	for _, sh := range c.Shares { // the newest first
		if room <= 0 {
			break
		}
		if slices.ContainsFunc(log, func(l Share) bool { return l.At.Equal(sh.At) && l.Verifier == sh.Verifier && l.Mode == sh.Mode }) {
			continue
		}
		creds := make([]string, 0, len(sh.Credentials))
		for _, id := range sh.Credentials {
			if n := ids[id]; n != "" {
				creds = append(creds, n)
			}
		}
		sh.Credentials = creds
		if sh.At.IsZero() {
			continue
		}
		if _, err := w.LogShare(ctx, sh); err != nil {
			return r, err
		}
		room--
		r.Shares++
	}
	return r, nil
}

// --- the plain export ---

// ExportFormat names the plain export's JSON.
const ExportFormat = "tally-wallet-export"

// Exported is the plain export: the holder's credentials as received,
// for their own use. It holds no key and no share log.
type Exported struct {
	Format      string       `json:"format"`
	Version     int          `json:"v"`
	Exported    time.Time    `json:"exported"`
	Credentials []Credential `json:"credentials"`
}

// Export returns the holder's credentials as a plain JSON file. Callers
// ask for the PIN first (ConfirmPIN): the file is readable by anyone
// who gets it.
func (w *Wallet) Export(ctx context.Context) ([]byte, error) {
	cs, err := w.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = []Credential{}
	}
	return json.MarshalIndent(Exported{Format: ExportFormat, Version: 1, Exported: w.s.now().UTC(), Credentials: cs}, "", "  ")
}

// ResetTTL is how long a reset code given by registration staff stays
// valid.
func (s *Service) ResetTTL() time.Duration { return s.opts.ResetTTL }
