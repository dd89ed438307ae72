package cli

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func trustAdd(_ context.Context, env Env, args []string) error {
	f := newFlags(env, "trust add", "--trust TRUSTFILE (--key KEYFILE | --did DID | --issuer URI --jwk JWKFILE) [--types T,...|'*']")
	trustFile := f.String("trust", "", "the trust list file (created if it does not exist)")
	keyFile := f.String("key", "", "an issuer's key file (only its public part is read)")
	did := f.String("did", "", "an issuer's did:key, or its did:web together with --jwk")
	uri := f.String("issuer", "", "an issuer named by an https URI (as Claim 169 cards name it), together with --jwk")
	jwkFile := f.String("jwk", "", "a file holding the issuer's public key as a JWK")
	types := f.String("types", "RegistrationCredential,EligibilityCredential,ReferralCredential", "credential types the issuer may issue, comma-separated, or '*' for any type")
	name := f.String("name", "", "the issuer's display name")
	statusBase := f.String("status-base", "", "URL below which the issuer serves its status lists")
	rest, err := parseFlags(f, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *trustFile == "" {
		return usagef("--trust TRUSTFILE is required")
	}
	given := 0
	for _, s := range []string{*keyFile, *did, *jwkFile, *uri} {
		if s != "" {
			given++
		}
	}
	switch {
	case *uri != "" && (*jwkFile == "" || given != 2):
		return usagef("an issuer named by --issuer URI needs its public key by --jwk JWKFILE, and nothing else")
	case given == 0 || (given > 1 && *uri == "" && !(*did != "" && *jwkFile != "" && *keyFile == "")):
		return usagef("give the issuer by --key KEYFILE, --did DID, --jwk JWKFILE (with --did for a did:web issuer), or --issuer URI --jwk JWKFILE")
	}
	typeList, err := parseTypes(*types)
	if err != nil {
		return err
	}
	var iss *verifier.TrustedIssuer
	if *uri != "" {
		data, err := os.ReadFile(*jwkFile)
		if err != nil {
			return err
		}
		if iss, err = verifier.NewTrustedURIIssuer(*uri, *name, typeList, bytes.TrimSpace(data)); err != nil {
			return fmt.Errorf("--issuer %s --jwk %s: %w", *uri, *jwkFile, err)
		}
	} else {
		key, err := issuerKey(*keyFile, *did, *jwkFile)
		if err != nil {
			return err
		}
		if iss, err = verifier.NewTrustedIssuer(*name, typeList, key); err != nil {
			return err
		}
	}
	iss.StatusBase = *statusBase

	list := verifier.NewTrustList("")
	data, err := os.ReadFile(*trustFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if list, err = verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true}); err != nil {
			return fmt.Errorf("%s: %w", *trustFile, err)
		}
	}
	if err := list.Add(iss); err != nil {
		return err
	}
	out, err := list.Marshal()
	if err != nil {
		return err
	}
	if err := replaceFile(*trustFile, append(out, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s now trusts %s for %s\n", *trustFile, iss.Identifier(), *types)
	return nil
}

// parseTypes reads --types: credential types separated by commas (tally's
// or any other, with no whitespace inside), or "*" for any type.
func parseTypes(list string) ([]credentials.Type, error) {
	var types []credentials.Type
	for _, s := range strings.Split(list, ",") {
		t := credentials.Type(strings.TrimSpace(s))
		if t == "" || strings.ContainsFunc(string(t), unicode.IsSpace) {
			return nil, usagef("--types: %q is not a credential type (give types separated by commas, or '*' for any)", s)
		}
		types = append(types, t)
	}
	return types, nil
}

// issuerKey finds an issuer's public key from a key file, a did:key, or a
// JWK file.
func issuerKey(keyFile, did, jwkFile string) (*credentials.Key, error) {
	switch {
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, err
		}
		k, err := credentials.ReadPublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyFile, err)
		}
		return k, nil
	case jwkFile != "":
		data, err := os.ReadFile(jwkFile)
		if err != nil {
			return nil, err
		}
		pub, kid, err := credentials.ParseJWK(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", jwkFile, err)
		}
		if did == "" {
			did, _, _ = strings.Cut(kid, "#")
		}
		if did == "" {
			return nil, usagef("the JWK has no kid naming its DID: give --did too")
		}
		return credentials.NewPublicKey(pub, did)
	default:
		if !strings.HasPrefix(did, "did:key:") {
			return nil, usagef("a %s issuer needs its public key: give --jwk JWKFILE too", did)
		}
		pub, err := credentials.ParseDIDKey(did)
		if err != nil {
			return nil, usagef("--did: %v", err)
		}
		return credentials.NewPublicKey(pub, did)
	}
}

func trustSign(_ context.Context, env Env, args []string) error {
	f := newFlags(env, "trust sign", "--trust TRUSTFILE --key ANCHORKEY --out SIGNED.jws [--valid-for 720h]")
	trustFile := f.String("trust", "", "the plain trust list to sign")
	keyFile := f.String("key", "", "the trust anchor's key file")
	out := f.String("out", "", "where to write the signed trust list (must not exist)")
	validFor := f.Duration("valid-for", 30*24*time.Hour, "how long the signed list is valid")
	passFile := f.String("passphrase-file", "", passphraseFileUsage)
	rest, err := parseFlags(f, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *trustFile == "" || *keyFile == "" || *out == "" {
		return usagef("--trust, --key and --out are required")
	}
	data, err := os.ReadFile(*trustFile)
	if err != nil {
		return err
	}
	list, err := verifier.ParseTrustList(data, verifier.TrustListOptions{AllowUnsigned: true})
	if err != nil {
		return fmt.Errorf("%s: %w", *trustFile, err)
	}
	anchor, err := openKey(env, *keyFile, *passFile)
	if err != nil {
		return err
	}
	signed, err := verifier.SignTrustList(list, anchor, env.Now(), *validFor)
	if err != nil {
		return err
	}
	if err := writeNewFile(*out, append(signed, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s, signed by %s, valid until %s\nverifiers check it with: tally verify --trust %s --anchor %s ...\n",
		*out, anchor.DID, list.ValidUntil.Format(time.RFC3339), *out, anchor.DID)
	return nil
}

// TrustStateEnv names the environment variable that says where `tally
// verify` keeps its trust-list state, when --trust-state does not.
const TrustStateEnv = "TALLY_TRUST_STATE"

// loadTrust reads a trust list for verification: a signed one is checked
// against the anchors (a key file, a JWK file or a did:key each), and
// against the state file (statePath, or TRUSTFILE.state beside it), which
// remembers the newest list accepted from each anchor: an older one is
// refused. A verifying device should keep one state file at a fixed place,
// so that an older list copied in under another name is refused too.
func loadTrust(env Env, path, statePath string, anchors []string) (*verifier.TrustList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pubs []crypto.PublicKey
	for _, a := range anchors {
		pub, err := anchorKey(a)
		if err != nil {
			return nil, fmt.Errorf("--anchor %s: %w", a, err)
		}
		pubs = append(pubs, pub)
	}
	opts := verifier.TrustListOptions{Anchors: pubs, AllowUnsigned: len(anchors) == 0, Now: env.Now}
	if statePath == "" {
		statePath = path + stateSuffix
	}
	if len(anchors) > 0 {
		if opts.Seen, err = readTrustState(statePath); err != nil {
			return nil, err
		}
	}
	list, err := verifier.ParseTrustList(data, opts)
	if errors.Is(err, verifier.ErrOlderTrustList) {
		return nil, fmt.Errorf("%s: %w; get the current trust list (%s records the newest used here), or remove %s to go back to an older one on purpose",
			path, err, statePath, statePath)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Seen != nil && opts.Seen.Accept(list) {
		out, err := opts.Seen.Marshal()
		if err == nil {
			err = replaceFile(statePath, append(out, '\n'), 0o600)
		}
		if err != nil {
			// The list is good; only the record of it is lost.
			fmt.Fprintf(env.Stderr, "tally: warning: could not record the trust list's date in %s, so an older list would not be noticed: %v\n", statePath, err)
		}
	}
	return list, nil
}

// stateSuffix names the state file beside a signed trust list.
const stateSuffix = ".state"

// readTrustState reads the state file of a trust list; a missing one is an
// empty state.
func readTrustState(path string) (*verifier.TrustListState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return verifier.NewTrustListState(), nil
	}
	if err != nil {
		return nil, err
	}
	st, err := verifier.ParseTrustListState(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (remove it to start afresh; an older trust list would then pass once)", path, err)
	}
	return st, nil
}

// anchorKey reads a trust anchor's public key: a did:key, a tally key
// file, or a JWK file.
func anchorKey(a string) (crypto.PublicKey, error) {
	if strings.HasPrefix(a, "did:key:") {
		return credentials.ParseDIDKey(a)
	}
	data, err := os.ReadFile(a)
	if err != nil {
		return nil, err
	}
	if k, err := credentials.ReadPublicKey(data); err == nil {
		return k.Public, nil
	}
	pub, _, err := credentials.ParseJWK(data)
	if err != nil {
		return nil, fmt.Errorf("neither a tally key file nor a JWK")
	}
	return pub, nil
}
