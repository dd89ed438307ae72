// Package cli implements the tally command line (DESIGN.md, "Command
// line"): keys, trust lists, issuing, verifying, the demo, and the server
// (tally serve) with its API tokens. Run is the
// whole program; cmd/tally only calls it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tally-id/tally/issuer"
)

// Exit codes: 0 success (a credential is valid), 1 failure (a credential
// is invalid, or the operation failed), 2 usage error.
const (
	ExitOK      = 0
	ExitInvalid = 1
	ExitUsage   = 2
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads environment variables (TALLY_PASSPHRASE).
	Getenv func(string) string
	// ReadPassword reads one line from the terminal without echoing it,
	// after the command has written its prompt to Stderr. It is nil when
	// standard input is not a terminal: then no one is asked.
	ReadPassword func() ([]byte, error)
	// Now is the clock.
	Now func() time.Time
	// ScryptN is the scrypt cost of the key files this run seals, and the
	// least it opens. Zero, as OSEnv leaves it, is
	// credentials.DefaultScryptN; only tests lower it, to stay fast.
	ScryptN int
	// PasswordParams is the argon2id cost of the password hashes this run
	// makes (tally org new); zero is issuer.DefaultPasswordParams. Only
	// tests lower it.
	PasswordParams issuer.PasswordParams
}

// OSEnv is the environment of a real process.
func OSEnv() Env {
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		env.ReadPassword = func() ([]byte, error) { return term.ReadPassword(fd) }
	}
	return env
}

// usageError is a mistake in the command line itself: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// invalidError is a credential that did not verify: exit code 1, the
// reason already printed.
type invalidError struct{ error }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"keys new", "make an issuer key, sealed with a passphrase", keysNew},
		{"keys show", "show a key's DID, JWK or DID document", keysShow},
		{"keys reseal", "seal a key file again, at today's cost or with a new passphrase", keysReseal},
		{"trust add", "add an issuer to a trust list", trustAdd},
		{"trust sign", "sign a trust list with a trust anchor's key", trustSign},
		{"issue", "issue a credential as a QR card, VC-JWT, SD-JWT or Data Integrity", issue},
		{"verify", "verify a credential and derive its dedup token", verify},
		{"qr size", "tell how large a credential's QR card is", qrSize},
		{"dedup-key new", "make a dedup domain key", dedupKeyNew},
		{"audit", "verify the audit log's hash chain, or export it (audit verify|export)", auditCmd},
		{"demo", "issue the samples in every format and verify them", demo},
		{"serve", "run every service: issuer, verifier, wallet (first start: an organisation and its administrator)", serve},
		{"token new", "make an API token for an organisation, printed once", tokenNew},
		// The dedup registry (docs/consortium.md).
		{"registry", "dedup domains and token lists between agencies (registry domain add|domains|export|import|reconcile)", registryCmd},
		{"org new", "add an organisation to this instance, with its first administrator", orgNew},
		{"issuer retention", "erase the personal data whose retention period has ended (the server does it hourly)", issuerRetention},
		{"issuer import", "import a spreadsheet: register and issue every good row, with a progress bar", issuerImport},
		{"issuer", "run the issuer service alone (tally serve runs every service)", issuerService},
		{"verifier", "run the verifier service alone: scanning, referrals received, phone wallets, trust, dedup registry", verifierService},
		{"wallet", "run the wallet alone: the web wallet for beneficiaries and the API for wallet apps", walletService},
	}
}

// Run runs the tally command line with args (without the program name) and
// returns the exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) < len(words) || strings.Join(args[:len(words)], " ") != c.name {
			continue
		}
		err := c.run(ctx, env, args[len(words):])
		return report(env, c.name, err)
	}
	fmt.Fprintf(env.Stderr, "tally: unknown command %q\n\n", strings.Join(args, " "))
	printUsage(env.Stderr)
	return ExitUsage
}

func report(env Env, name string, err error) int {
	var ue *usageError
	var ie *invalidError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "tally %s: %v\nRun 'tally %s --help' for its options.\n", name, err, name)
		return ExitUsage
	case errors.As(err, &ie):
		return ExitInvalid
	default:
		fmt.Fprintf(env.Stderr, "tally %s: %v\n", name, err)
		return ExitInvalid
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "tally: portable humanitarian identities on W3C Verifiable Credentials")
	fmt.Fprintln(w, "\nUsage: tally COMMAND [options]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tally COMMAND --help' for a command's options. Docs: docs/cli.md")
}

// newFlags makes a flag set that reports to env.Stderr and returns errors.
func newFlags(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("tally "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: tally %s %s\n\nOptions:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("tally keys show KEYFILE --jwk"), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// readInput reads a file, or standard input for "-".
func readInput(env Env, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(env.Stdin, 16<<20))
	}
	return os.ReadFile(path)
}

// Files that hold personal data (credentials, card images) or secrets
// (keys) are readable by their owner only, and directories made for them
// are open to their owner only.
const (
	privateFile os.FileMode = 0o600
	privateDir  os.FileMode = 0o700
)

// writeNewFile writes data to a file that must not exist yet, readable by
// its owner only: nothing is ever overwritten silently.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateFile)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: choose another name, or move it away first", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// replaceFile writes data to path through a temporary file and a rename,
// so that a crash leaves the old file or the new one, never half of one.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(dirOf(path), ".tally-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// makePrivateDir makes a directory for files with personal data, and its
// missing parents, open to its owner only. A directory that already exists
// is left as it is, with a warning if other users can read it.
func makePrivateDir(env Env, dir string) error {
	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case err == nil:
		if info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(env.Stderr, "tally: warning: other users can open %s (mode %04o), where personal data is written: run chmod 700 %s\n", dir, info.Mode().Perm(), dir)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return err
	}
	// MkdirAll's mode is filtered by the umask, which can only narrow it;
	// make sure of it anyway.
	return os.Chmod(dir, privateDir)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		if i == 0 {
			return "/"
		}
		return path[:i]
	}
	return "."
}
