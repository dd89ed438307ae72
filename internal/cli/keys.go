package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

func keysNew(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys new", "[--alg ed25519|p256] [--did key|web:DOMAIN] --out KEYFILE")
	alg := fs.String("alg", "ed25519", "signature algorithm: ed25519 or p256")
	didFlag := fs.String("did", "key", "the issuer's DID: key (did:key) or web:DOMAIN (did:web)")
	out := fs.String("out", "", "where to write the sealed key file (must not exist)")
	passFile := fs.String("passphrase-file", "", passphraseFileUsage)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *out == "" {
		return usagef("--out KEYFILE is required")
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s already exists: choose another name, or move it away first", *out)
	}
	a, err := credentials.ParseAlgorithm(*alg)
	if err != nil {
		return usagef("%v", err)
	}
	did := ""
	switch {
	case *didFlag == "key":
	case strings.HasPrefix(*didFlag, "web:"):
		if did, err = credentials.DIDWeb(strings.TrimPrefix(*didFlag, "web:")); err != nil {
			return usagef("--did: %v", err)
		}
	default:
		return usagef("--did must be key or web:DOMAIN, not %q", *didFlag)
	}
	pass, err := newPassphrase(env, *passFile, "the new key file "+*out)
	if err != nil {
		return err
	}
	signer, err := credentials.GenerateKey(a, rand.Reader)
	if err != nil {
		return err
	}
	key, err := credentials.NewKey(signer, did)
	if err != nil {
		return err
	}
	data, err := credentials.SealKey(key, pass, rand.Reader, credentials.SealOptions{ScryptN: env.ScryptN})
	if err != nil {
		return err
	}
	if err := writeNewFile(*out, data); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s\ndid: %s\nkid: %s\nalg: %s\n", *out, key.DID, key.ID, key.Alg)
	return nil
}

func keysShow(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys show", "KEYFILE [--jwk | --did-doc]")
	asJWK := fs.Bool("jwk", false, "print the public key as a JWK")
	asDoc := fs.Bool("did-doc", false, "print the DID document (publish it at the did:web URL)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one KEYFILE")
	}
	if *asJWK && *asDoc {
		return usagef("--jwk and --did-doc exclude each other")
	}
	data, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	key, err := credentials.ReadPublicKey(data)
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	switch {
	case *asJWK:
		j, err := credentials.PublicJWK(key)
		if err != nil {
			return err
		}
		return printJSON(env, j)
	case *asDoc:
		doc, err := credentials.NewDIDDocument(key)
		if err != nil {
			return err
		}
		return printJSON(env, doc)
	}
	fmt.Fprintf(env.Stdout, "did: %s\nkid: %s\nalg: %s\ncard key id: %s\n", key.DID, key.ID, key.Alg, credentials.CardKeyIDString(key.CardKeyID()))
	if n, err := credentials.KeyFileCost(data); err == nil {
		fmt.Fprintf(env.Stdout, "sealed with: scrypt N=%d, r=8, p=1\n", n)
		if n < credentials.DefaultScryptN {
			fmt.Fprintf(env.Stdout, "the seal is weaker than tally now requires (N=%d): run tally keys reseal %s\n", credentials.DefaultScryptN, rest[0])
		}
	}
	if u, err := credentials.DIDWebURL(key.DID); err == nil {
		fmt.Fprintf(env.Stdout, "publish the DID document (tally keys show %s --did-doc) at %s\n", rest[0], u)
	}
	return nil
}

func dedupKeyNew(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "dedup-key new", "--out FILE")
	out := fs.String("out", "", "where to write the domain key (must not exist)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *out == "" {
		return usagef("--out FILE is required, and nothing else")
	}
	k, err := verifier.NewDedupKey("new", rand.Reader)
	if err != nil {
		return err
	}
	text, _ := k.MarshalText()
	if err := writeNewFile(*out, text); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: share it only with the members of the dedup domain\n", *out)
	return nil
}

// openKey reads and unseals an issuer key file.
func openKey(env Env, path, passFile string) (*credentials.Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkCost(env, path, data); err != nil {
		return nil, err
	}
	pass, err := passphrase(env, passFile, "the key file "+path)
	if err != nil {
		return nil, err
	}
	key, err := credentials.OpenKey(data, pass, credentials.OpenOptions{MinScryptN: env.ScryptN})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// checkCost refuses a key file sealed at less than this run requires
// before anyone is asked for its passphrase, saying how to re-seal it.
func checkCost(env Env, path string, data []byte) error {
	n, err := credentials.KeyFileCost(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	least := env.ScryptN
	if least == 0 {
		least = credentials.DefaultScryptN
	}
	if n < least {
		return fmt.Errorf("%s is sealed with scrypt N=%d, weaker than the N=%d tally now requires: re-seal it with\n  tally keys reseal %s\n(it keeps the key, its DID and its passphrase)", path, n, least, path)
	}
	return nil
}

func keysReseal(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys reseal", "KEYFILE [--passphrase-file FILE] [--new-passphrase-file FILE]")
	passFile := fs.String("passphrase-file", "", passphraseFileUsage)
	newPassFile := fs.String("new-passphrase-file", "", "file holding a new passphrase (default: keep the passphrase)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one KEYFILE")
	}
	path := rest[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	old, err := credentials.KeyFileCost(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pass, err := passphrase(env, *passFile, "the key file "+path)
	if err != nil {
		return err
	}
	// Any cost tally ever sealed at opens here, once, to be sealed again.
	key, err := credentials.OpenKey(data, pass, credentials.OpenOptions{MinScryptN: credentials.LowestScryptN})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case *newPassFile != "":
		if pass, err = newPassphrase(env, *newPassFile, "the key file "+path); err != nil {
			return err
		}
	default:
		if err := credentials.CheckPassphrase(pass); err != nil {
			if env.ReadPassword == nil {
				return fmt.Errorf("%s: %w\nGive it a new passphrase with --new-passphrase-file FILE", path, err)
			}
			fmt.Fprintf(env.Stderr, "The passphrase of %s is too weak to seal it again: %v\n", path, err)
			if pass, err = newPassphrase(env, "", "the key file "+path); err != nil {
				return err
			}
		}
	}
	sealed, err := credentials.SealKey(key, pass, rand.Reader, credentials.SealOptions{ScryptN: env.ScryptN})
	if err != nil {
		return err
	}
	if err := replaceFile(path, sealed, privateFile); err != nil {
		return err
	}
	n, _ := credentials.KeyFileCost(sealed)
	fmt.Fprintf(env.Stdout, "re-sealed %s: scrypt N=%d (was %d); did %s and kid %s unchanged\n", path, n, old, key.DID, key.ID)
	return nil
}

func printJSON(env Env, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", data)
	return err
}
