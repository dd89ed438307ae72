package issuer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// KeyState is where one of an organisation's signing keys stands.
type KeyState string

// The states of a signing key. The newest key that is not compromised is
// the current one; every older one is retired: it signs nothing any more,
// but stays in the DID document so that what it signed still verifies. A
// compromised key is out of the DID document, and everything it signed is
// revoked.
const (
	KeyCurrent     KeyState = "current"
	KeyRetired     KeyState = "retired"
	KeyCompromised KeyState = "compromised"
)

// OrgKeyChanger changes an organisation's keys, in one transaction.
type OrgKeyChanger interface {
	// ChangeOrgKeys calls change with the organisation's keys, oldest
	// first, and stores what it returns: the same keys in the same order,
	// changed only in their compromise and sweep fields, followed by any
	// new keys. An error from change stops it, changing nothing.
	ChangeOrgKeys(ctx context.Context, org string, change func([]OrgKey) ([]OrgKey, error)) ([]OrgKey, error)
}

// CredentialSweeper changes many credential records, a batch per
// transaction.
type CredentialSweeper interface {
	// ReviseCredentials walks an organisation's credential records in the
	// order of their ids, from the first id after after ("" for the
	// start), in one transaction: change is called with each, and a record
	// for which it returns true is stored as it returns it, with its
	// status bits. It stops after limit records, and returns the records
	// it changed and the id to go on after ("" once the end is reached).
	ReviseCredentials(ctx context.Context, org, after string, limit int, change func(CredentialRecord) (CredentialRecord, bool)) ([]CredentialRecord, string, error)
}

// KeyInfo is a signing key as an administrator sees it: never its private
// part.
type KeyInfo struct {
	// ID is the verification method id (DID#fragment); Fragment the part
	// after #, which names the key in URLs.
	ID       string                `json:"id"`
	Fragment string                `json:"fragment"`
	Alg      credentials.Algorithm `json:"alg"`
	State    KeyState              `json:"state"`
	Created  time.Time             `json:"created"`
	// Retired is when a newer key took over, for a retired key.
	Retired time.Time `json:"retired,omitzero"`
	// Compromised, CompromisedBy and Reason say when, by whom and why the
	// key was declared compromised; Swept when every credential it signed
	// was revoked, and Revoked how many were.
	Compromised   time.Time `json:"compromised,omitzero"`
	CompromisedBy string    `json:"compromisedBy,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Swept         time.Time `json:"swept,omitzero"`
	Revoked       int       `json:"revoked"`
}

// Fragment is the part of a key id after #, which names it in URLs.
func (k OrgKey) Fragment() string {
	_, frag, _ := strings.Cut(k.ID, "#")
	return frag
}

// currentKey returns the index of the current key of keys: the newest one
// not compromised, or -1.
func currentKey(keys []OrgKey) int {
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].Compromised.IsZero() {
			return i
		}
	}
	return -1
}

// keyInfos describes keys for administrators.
func keyInfos(keys []OrgKey) ([]KeyInfo, error) {
	cur := currentKey(keys)
	out := make([]KeyInfo, 0, len(keys))
	for i, k := range keys {
		pub, err := credentials.ReadPublicKey(k.Sealed)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		info := KeyInfo{ID: k.ID, Fragment: k.Fragment(), Alg: pub.Alg, Created: k.Created,
			Compromised: k.Compromised, CompromisedBy: k.CompromisedBy, Reason: k.Reason, Swept: k.Swept, Revoked: k.Revoked}
		switch {
		case !k.Compromised.IsZero():
			info.State = KeyCompromised
		case i == cur:
			info.State = KeyCurrent
		default:
			info.State = KeyRetired
			info.Retired = keys[i+1].Created
		}
		out = append(out, info)
	}
	return out, nil
}

// Keys lists an organisation's signing keys, oldest first, with their
// states.
func (s *Service) Keys(ctx context.Context, org string) ([]KeyInfo, error) {
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return nil, err
	}
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	return keyInfos(keys)
}

// RotateInput says how to rotate an organisation's key.
type RotateInput struct {
	// Alg is the new key's algorithm: ed25519 or p256; the current key's
	// if empty.
	Alg string `json:"alg,omitempty"`
}

// RotateKey makes a new signing key the organisation's current one. The
// keys before it are retired: they stay in the DID document, so that the
// credentials they signed still verify, and sign nothing more. Status
// lists are signed with the new key from now on.
func (s *Service) RotateKey(ctx context.Context, by Principal, org string, in RotateInput) (KeyInfo, error) {
	if s.keyChanger == nil {
		return KeyInfo{}, errors.New("issuer: no key store: keys cannot be rotated")
	}
	var alg credentials.Algorithm
	if a := strings.TrimSpace(in.Alg); a != "" {
		var err error
		if alg, err = credentials.ParseAlgorithm(a); err != nil {
			return KeyInfo{}, &InvalidError{Fields: []FieldError{{Field: "alg", Code: "unknown", Message: "choose ed25519 or p256"}}}
		}
	}
	o, err := s.orgs.Organisation(ctx, org)
	if err != nil {
		return KeyInfo{}, err
	}
	if alg == "" {
		keys, err := s.orgs.OrgKeys(ctx, org)
		if err != nil {
			return KeyInfo{}, err
		}
		alg = credentials.EdDSA
		if i := currentKey(keys); i >= 0 {
			if pub, err := credentials.ReadPublicKey(keys[i].Sealed); err == nil {
				alg = pub.Alg
			}
		}
	}
	nk, err := s.newOrgKey(o, alg)
	if err != nil {
		return KeyInfo{}, err
	}
	keys, err := s.keyChanger.ChangeOrgKeys(ctx, org, func(keys []OrgKey) ([]OrgKey, error) {
		return appendKey(keys, &nk), nil
	})
	if err != nil {
		return KeyInfo{}, err
	}
	s.signedLists.forget(org)
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionKeyRotate,
		Objects: []audit.Object{{Kind: audit.ObjectKey, ID: nk.ID}}, Purpose: audit.PurposeSecurity}); err != nil {
		return KeyInfo{}, err
	}
	infos, err := keyInfos(keys)
	if err != nil {
		return KeyInfo{}, err
	}
	return infos[len(infos)-1], nil
}

// newOrgKey draws a key of alg for an organisation and seals it under the
// master key.
func (s *Service) newOrgKey(o Organisation, alg credentials.Algorithm) (OrgKey, error) {
	if len(s.masterKey) == 0 {
		return OrgKey{}, errNoMasterKey
	}
	signer, err := credentials.GenerateKey(alg, s.rand)
	if err != nil {
		return OrgKey{}, err
	}
	key, err := credentials.NewKey(signer, o.DID)
	if err != nil {
		return OrgKey{}, err
	}
	sealed, err := credentials.SealKey(key, s.masterKey, s.rand, credentials.SealOptions{ScryptN: s.scryptN})
	if err != nil {
		return OrgKey{}, fmt.Errorf("seal the organisation's key: %w", err)
	}
	return OrgKey{Org: o.Slug, ID: key.ID, Sealed: sealed, Created: s.now().UTC()}, nil
}

// CompromiseInput confirms that a key is compromised.
type CompromiseInput struct {
	// Reason says in a few words what happened (a lost laptop, a leaked
	// backup): it is kept with the key for administrators, never in the
	// audit log.
	Reason string `json:"reason"`
	// Confirm must be true: the action revokes every credential the key
	// signed, for good.
	Confirm bool `json:"confirm"`
}

// maxReason bounds a compromise's reason, in characters.
const maxReason = 500

// Compromised says what declaring a key compromised did.
type Compromised struct {
	Key KeyInfo `json:"key"`
	// NewKey is the key made to replace it, when it was the current one.
	NewKey *KeyInfo `json:"newKey,omitempty"`
	// Revoked is how many credentials were revoked by this call; the
	// key's Revoked counts them all.
	Revoked int `json:"revoked"`
}

// CompromiseKey declares one of an organisation's keys compromised: it is
// taken out of the DID document at once (whoever holds it could otherwise
// sign new credentials with unused status indexes that verify), a new key
// is made if it was the current one, and every credential it signed is
// revoked, a batch per transaction. The key is marked first and the
// sweep runs after, so that a sweep cut short (the process killed) is
// finished by ResumeKeySweeps on the next start. Declaring a compromised
// key compromised again finishes its sweep if needed and changes nothing
// else.
func (s *Service) CompromiseKey(ctx context.Context, by Principal, org, fragment string, in CompromiseInput) (Compromised, error) {
	if s.keyChanger == nil || s.sweeper == nil {
		return Compromised{}, errors.New("issuer: no key store: keys cannot be declared compromised")
	}
	var p problems
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "":
		p.add("reason", "required", "say in a few words what happened")
	case !utf8.ValidString(in.Reason) || utf8.RuneCountInString(in.Reason) > maxReason:
		p.add("reason", "too_long", fmt.Sprintf("use at most %d characters", maxReason))
	case strings.IndexFunc(in.Reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }) >= 0:
		p.add("reason", "format", "use letters, digits, spaces and punctuation only")
	}
	if !in.Confirm {
		p.add("confirm", "required", "confirm that every credential this key signed is to be revoked")
	}
	if err := p.err(); err != nil {
		return Compromised{}, err
	}
	if !validFragment(fragment) {
		return Compromised{}, fmt.Errorf("key %q: %w", fragment, ErrNotFound)
	}
	o, err := s.orgs.Organisation(ctx, org)
	if err != nil {
		return Compromised{}, err
	}
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return Compromised{}, err
	}
	at := -1
	for i, k := range keys {
		if k.Fragment() == fragment {
			at = i
		}
	}
	if at < 0 {
		return Compromised{}, fmt.Errorf("key %q: %w", fragment, ErrNotFound)
	}
	target := keys[at]
	var out Compromised
	if target.Compromised.IsZero() {
		if out.NewKey, err = s.markCompromised(ctx, by, o, keys, at, in.Reason); err != nil {
			return Compromised{}, err
		}
	}
	// The sweep goes on even if the request that asked for it goes away:
	// what is left is resumed at the next start anyway.
	n, err := s.sweepKey(context.WithoutCancel(ctx), by, org, target.ID)
	out.Revoked = n
	if err != nil {
		return out, err
	}
	keys, err = s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return out, err
	}
	infos, err := keyInfos(keys)
	if err != nil {
		return out, err
	}
	for _, k := range infos {
		if k.ID == target.ID {
			out.Key = k
		}
	}
	return out, nil
}

// markCompromised marks key at of keys compromised, with a new key in its
// place if it is the current one, in one transaction, and audits it. It
// returns the new key, if one was made. A key marked meanwhile by another
// request is left as it is, and nothing is audited twice.
func (s *Service) markCompromised(ctx context.Context, by Principal, o Organisation, keys []OrgKey, at int, reason string) (*KeyInfo, error) {
	target := keys[at]
	// A replacement is made beforehand (sealing takes a while), and stored
	// only if the key is still the current one in the transaction.
	var replacement *OrgKey
	if at == currentKey(keys) {
		pub, err := credentials.ReadPublicKey(target.Sealed)
		if err != nil {
			return nil, err
		}
		nk, err := s.newOrgKey(o, pub.Alg)
		if err != nil {
			return nil, err
		}
		replacement = &nk
	}
	now := s.now().UTC()
	marked, added := false, false
	keys, err := s.keyChanger.ChangeOrgKeys(ctx, o.Slug, func(keys []OrgKey) ([]OrgKey, error) {
		marked, added = false, false
		for i := range keys {
			if keys[i].ID != target.ID {
				continue
			}
			if !keys[i].Compromised.IsZero() {
				return keys, nil
			}
			marked = true
			wasCurrent := i == currentKey(keys)
			keys[i].Compromised, keys[i].CompromisedBy, keys[i].Reason = now, by.Ref(), reason
			if wasCurrent {
				if replacement == nil {
					return nil, fmt.Errorf("key %s became the current one meanwhile: try again", target.ID)
				}
				keys = appendKey(keys, replacement)
				added = true
			}
			return keys, nil
		}
		return nil, fmt.Errorf("key %s: %w", target.ID, ErrNotFound)
	})
	if err != nil {
		return nil, err
	}
	s.signedLists.forget(o.Slug)
	s.signers.forget(target.ID)
	if !marked {
		return nil, nil
	}
	objects := []audit.Object{{Kind: audit.ObjectKey, ID: target.ID}}
	var newKey *KeyInfo
	if added {
		objects = append(objects, audit.Object{Kind: audit.ObjectKey, ID: replacement.ID})
		infos, err := keyInfos(keys)
		if err != nil {
			return nil, err
		}
		newKey = &infos[len(infos)-1]
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: o.Slug, Action: audit.ActionKeyCompromise,
		Objects: objects, Purpose: audit.PurposeSecurity}); err != nil {
		return nil, err
	}
	return newKey, nil
}

// sweepBatch is how many credential records one transaction of a sweep
// looks at.
const sweepBatch = 500

// sweepKey revokes every credential record of org signed by key id that
// is not revoked yet, a batch per transaction, then marks the key swept.
// Each batch that revokes anything is audited, naming the key and the
// credentials it revoked, so that the log counts them.
func (s *Service) sweepKey(ctx context.Context, by Principal, org, keyID string) (int, error) {
	keys, err := s.orgs.OrgKeys(ctx, org)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, fmt.Errorf("organisation %s has no key: %w", org, ErrNotFound)
	}
	var key OrgKey
	for _, k := range keys {
		if k.ID == keyID {
			key = k
		}
	}
	if key.ID == "" || key.Compromised.IsZero() {
		return 0, fmt.Errorf("key %s is not compromised", keyID)
	}
	firstKey := keys[0].ID
	now := s.now().UTC()
	total := 0
	after := ""
	for {
		changed, next, err := s.sweeper.ReviseCredentials(ctx, org, after, sweepBatch, func(r CredentialRecord) (CredentialRecord, bool) {
			if r.State == StateRevoked || !r.SignedBy(keyID, firstKey) {
				return r, false
			}
			r.State, r.Changed, r.ChangedBy = StateRevoked, now, by.Ref()
			return r, true
		})
		if err != nil {
			return total, err
		}
		total += len(changed)
		for start := 0; start < len(changed); start += audit.MaxObjects - 1 {
			end := min(start+audit.MaxObjects-1, len(changed))
			objects := []audit.Object{{Kind: audit.ObjectKey, ID: keyID}}
			for _, r := range changed[start:end] {
				objects = append(objects, audit.Object{Kind: audit.ObjectCredential, ID: r.ID})
			}
			if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionRevoke,
				Objects: objects, Purpose: audit.PurposeSecurity}); err != nil {
				return total, err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	s.signedLists.forget(org)
	_, err = s.keyChanger.ChangeOrgKeys(ctx, org, func(keys []OrgKey) ([]OrgKey, error) {
		for i := range keys {
			if keys[i].ID == keyID {
				keys[i].Swept = s.now().UTC()
				keys[i].Revoked += total
			}
		}
		return keys, nil
	})
	return total, err
}

// ResumeKeySweeps finishes the sweeps of compromised keys that were cut
// short: run it at start, before serving. It returns how many credentials
// it revoked.
func (s *Service) ResumeKeySweeps(ctx context.Context) (int, error) {
	if s.keyChanger == nil || s.sweeper == nil {
		return 0, nil
	}
	orgs, err := s.orgs.Organisations(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, o := range orgs {
		keys, err := s.orgs.OrgKeys(ctx, o.Slug)
		if err != nil {
			return total, err
		}
		for _, k := range keys {
			if k.Compromised.IsZero() || !k.Swept.IsZero() {
				continue
			}
			n, err := s.sweepKey(ctx, SystemPrincipal("key-sweep"), o.Slug, k.ID)
			total += n
			if err != nil {
				return total, fmt.Errorf("organisation %s, key %s: %w", o.Slug, k.ID, err)
			}
		}
	}
	return total, nil
}

// appendKey adds a new key after keys. Keys are ordered by the time they
// were made: a key made in the same instant as the newest one (a coarse
// clock) is dated just after it, so that it sorts last.
func appendKey(keys []OrgKey, k *OrgKey) []OrgKey {
	if n := len(keys); n > 0 && !k.Created.After(keys[n-1].Created) {
		k.Created = keys[n-1].Created.Add(time.Nanosecond)
	}
	return append(keys, *k)
}

// SignedBy tells whether key signed the credential of r; firstKey is the
// organisation's first key, which signed the records made before records
// named their keys.
func (r CredentialRecord) SignedBy(key, firstKey string) bool {
	if len(r.Keys) == 0 {
		return key == firstKey
	}
	for _, k := range r.Keys {
		if k == key {
			return true
		}
	}
	return false
}

// validFragment tells whether f can be a key id's fragment: a base64url
// JWK thumbprint.
func validFragment(f string) bool {
	if f == "" || len(f) > 64 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(f)
	return err == nil
}

// forget drops an organisation's signed lists: after a rotation or a
// compromise, lists are signed anew with the current key.
func (c *signedLists) forget(org string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens == nil {
		c.gens = map[string]uint64{}
	}
	c.gens[org]++
	for k := range c.m {
		if k.org == org {
			delete(c.m, k)
		}
	}
}

// forget drops an open key.
func (k *signingKeys) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.open, id)
}
