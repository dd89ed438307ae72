package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/tally-id/tally/credentials"
)

// PassphraseEnv names the environment variable that holds the passphrase
// of key files, when neither --passphrase-file nor a terminal gives it.
const PassphraseEnv = "TALLY_PASSPHRASE"

const passphraseFileUsage = "file holding the passphrase (default: ask on the terminal, else $" + PassphraseEnv + ")"

// passphrase gets the passphrase of an existing key file (what names it,
// for the prompt): from --passphrase-file FILE, else by asking on the
// terminal, else from $TALLY_PASSPHRASE. The environment comes last: other
// programs of the same user can read it, and shells write it to history.
func passphrase(env Env, file, what string) ([]byte, error) {
	switch {
	case file != "":
		return passphraseFile(env, file)
	case env.ReadPassword != nil:
		return prompt(env, "Passphrase of "+what+": ")
	}
	if p := env.Getenv(PassphraseEnv); p != "" {
		return []byte(p), nil
	}
	return nil, errors.New("a passphrase is needed to seal and open key files: give --passphrase-file FILE, run tally on a terminal to be asked for it, or set " + PassphraseEnv)
}

// newPassphrase gets the passphrase to seal a key file with, from the same
// sources as passphrase; on the terminal it asks twice. It must pass
// credentials.CheckPassphrase.
func newPassphrase(env Env, file, what string) ([]byte, error) {
	var p []byte
	var err error
	if file == "" && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "Choose a passphrase for %s: at least %d characters; a few unrelated words are best.\n", what, credentials.MinPassphraseLength)
		if p, err = prompt(env, "New passphrase: "); err != nil {
			return nil, err
		}
		if err := credentials.CheckPassphrase(p); err != nil {
			return nil, err
		}
		again, err := prompt(env, "The same passphrase again: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, again) {
			return nil, errors.New("the two passphrases differ: nothing was written; run the command again")
		}
	} else if p, err = passphrase(env, file, what); err != nil {
		return nil, err
	}
	if err := credentials.CheckPassphrase(p); err != nil {
		return nil, err
	}
	return p, nil
}

// passphraseFile reads a passphrase from its first line, warning when the
// file can be read by other users than its owner.
func passphraseFile(env Env, file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	if info, err := os.Stat(file); err == nil && info.Mode().Perm()&0o044 != 0 {
		fmt.Fprintf(env.Stderr, "tally: warning: the passphrase file %s can be read by other users (mode %04o): run chmod 600 %s\n", file, info.Mode().Perm(), file)
	}
	p := bytes.TrimRight(data, "\r\n")
	if len(p) == 0 {
		return nil, fmt.Errorf("the passphrase file %s is empty", file)
	}
	return p, nil
}

// prompt asks on the terminal, without echo.
func prompt(env Env, question string) ([]byte, error) {
	fmt.Fprint(env.Stderr, question)
	p, err := env.ReadPassword()
	fmt.Fprintln(env.Stderr) // the newline the terminal did not echo
	if err != nil {
		return nil, fmt.Errorf("read the passphrase from the terminal: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("no passphrase was typed")
	}
	return p, nil
}
