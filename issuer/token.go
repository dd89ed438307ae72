package issuer

import (
	"context"
	"errors"
	"github.com/tally-id/tally/issuer/audit"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so that a leaked one is easy to
// recognise (and to search for in logs and repositories).
const TokenPrefix = "tally_"

// Token is an API token: it acts for its organisation with its role. The
// token itself is shown once, when made; only its hash is kept.
type Token struct {
	ID      string    `json:"id"`
	Org     string    `json:"org"`
	Role    Role      `json:"role"`
	Label   string    `json:"label"`
	Hash    []byte    `json:"hash"`
	Created time.Time `json:"created"`
}

// TokenStore keeps API tokens by the hash of the token.
type TokenStore interface {
	// CreateToken stores a token; ErrConflict if its hash is taken.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token of a hash, or ErrNotFound.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
}

// NewToken makes an API token for organisation org with a role, and
// returns it with its record. label says what the token is for.
func (s *Service) NewToken(ctx context.Context, org string, role Role, label string) (string, Token, error) {
	var p problems
	switch {
	case role == "":
		p.add("role", "required", "choose a role")
	case !role.Valid():
		p.add("role", "unknown", "choose one of admin, registrar, supervisor, auditor, verifier")
	}
	label = strings.TrimSpace(label)
	if label != "" {
		checkName(&p, "label", label)
	}
	if err := p.err(); err != nil {
		return "", Token{}, err
	}
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return "", Token{}, err
	}
	id, err := newID(s.rand)
	if err != nil {
		return "", Token{}, err
	}
	secret, err := newSecret(s.rand)
	if err != nil {
		return "", Token{}, err
	}
	text := TokenPrefix + secret
	t := Token{ID: id, Org: org, Role: role, Label: label, Hash: SecretHash(text), Created: s.now().UTC()}
	if err := s.tokens.CreateToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	if err := s.record(ctx, audit.Entry{Actor: audit.System("cli"), Org: org, Action: audit.ActionTokenCreate,
		Objects: []audit.Object{{Kind: audit.ObjectToken, ID: id}}, Purpose: audit.PurposeAdministration}); err != nil {
		return "", Token{}, err
	}
	return text, t, nil
}

// TokenPrincipal returns who an API token acts for, or ErrUnauthenticated.
func (s *Service) TokenPrincipal(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 200 {
		return Principal{}, unauthenticated("this is not a tally API token")
	}
	t, err := s.tokens.TokenByHash(ctx, SecretHash(token))
	if errors.Is(err, ErrNotFound) {
		return Principal{}, unauthenticated("this API token is unknown or was revoked")
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{Org: t.Org, Role: t.Role, TokenID: t.ID, Name: t.Label}, nil
}
