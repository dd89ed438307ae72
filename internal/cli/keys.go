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

// PassphraseEnv names the environment variable that holds the passphrase
// of key files, when --passphrase-file is not given.
const PassphraseEnv = "TALLY_PASSPHRASE"

// passphrase reads the key file passphrase from a file or the environment.
func passphrase(env Env, file string) ([]byte, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the passphrase: %w", err)
		}
		p := strings.TrimRight(string(data), "\r\n")
		if p == "" {
			return nil, fmt.Errorf("the passphrase file %s is empty", file)
		}
		return []byte(p), nil
	}
	if p := env.Getenv(PassphraseEnv); p != "" {
		return []byte(p), nil
	}
	return nil, fmt.Errorf("a passphrase is needed to seal and open key files: set %s or pass --passphrase-file FILE", PassphraseEnv)
}

func keysNew(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys new", "[--alg ed25519|p256] [--did key|web:DOMAIN] --out KEYFILE")
	alg := fs.String("alg", "ed25519", "signature algorithm: ed25519 or p256")
	didFlag := fs.String("did", "key", "the issuer's DID: key (did:key) or web:DOMAIN (did:web)")
	out := fs.String("out", "", "where to write the sealed key file (must not exist)")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase (default: $"+PassphraseEnv+")")
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
	pass, err := passphrase(env, *passFile)
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
	pass, err := passphrase(env, passFile)
	if err != nil {
		return nil, err
	}
	key, err := credentials.OpenKey(data, pass, credentials.OpenOptions{MinScryptN: env.ScryptN})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

func printJSON(env Env, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", data)
	return err
}
