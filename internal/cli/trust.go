package cli

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func trustAdd(_ context.Context, env Env, args []string) error {
	f := newFlags(env, "trust add", "--trust TRUSTFILE (--key KEYFILE | --did DID | --jwk JWKFILE) [--types T,...]")
	trustFile := f.String("trust", "", "the trust list file (created if it does not exist)")
	keyFile := f.String("key", "", "an issuer's key file (only its public part is read)")
	did := f.String("did", "", "an issuer's did:key, or its did:web together with --jwk")
	jwkFile := f.String("jwk", "", "a file holding the issuer's public key as a JWK")
	types := f.String("types", "RegistrationCredential,EligibilityCredential,ReferralCredential", "credential types the issuer may issue, comma-separated")
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
	for _, s := range []string{*keyFile, *did, *jwkFile} {
		if s != "" {
			given++
		}
	}
	if given == 0 || (given > 1 && !(*did != "" && *jwkFile != "" && *keyFile == "")) {
		return usagef("give the issuer by --key KEYFILE, --did DID, or --jwk JWKFILE (with --did for a did:web issuer)")
	}
	var typeList []credentials.Type
	for _, s := range strings.Split(*types, ",") {
		t, err := credentials.ParseType(strings.TrimSpace(s))
		if err != nil {
			return usagef("--types: %v", err)
		}
		typeList = append(typeList, t)
	}
	key, err := issuerKey(*keyFile, *did, *jwkFile)
	if err != nil {
		return err
	}
	iss, err := verifier.NewTrustedIssuer(*name, typeList, key)
	if err != nil {
		return err
	}
	iss.StatusBase = *statusBase

	list := verifier.NewTrustList("")
	data, err := os.ReadFile(*trustFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if list, err = verifier.ParseTrustList(data, nil, true); err != nil {
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
	fmt.Fprintf(env.Stdout, "%s now trusts %s for %s\n", *trustFile, key.DID, *types)
	return nil
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
	list, err := verifier.ParseTrustList(data, nil, true)
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

// loadTrust reads a trust list for verification: a signed one is checked
// against the anchors (a key file, a JWK file or a did:key each).
func loadTrust(path string, anchors []string) (*verifier.TrustList, error) {
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
	list, err := verifier.ParseTrustList(data, pubs, len(anchors) == 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
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
