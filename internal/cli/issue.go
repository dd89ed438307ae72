package cli

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

// issueFlags are the options every command that signs a credential shares.
type issueFlags struct {
	key, in, passFile, statusBase string
	statusList, statusIndex       int
}

func (f *issueFlags) register(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
}) {
	fs.StringVar(&f.key, "key", "", "the issuer's key file")
	fs.StringVar(&f.in, "in", "", "the credential to issue, as JSON (like testdata/samples/registration.json), or - for standard input")
	fs.StringVar(&f.passFile, "passphrase-file", "", passphraseFileUsage)
	fs.StringVar(&f.statusBase, "status-base", "", "URL below which the issuer serves its status lists")
	fs.IntVar(&f.statusList, "status-list", -1, "status list number of the credential (with --status-index)")
	fs.IntVar(&f.statusIndex, "status-index", -1, "index of the credential in its status lists")
}

// draft reads the input credential, opens the key, and prepares the
// credential for signing.
func (f *issueFlags) draft(env Env) (*credentials.Credential, *credentials.Key, error) {
	if f.key == "" || f.in == "" {
		return nil, nil, usagef("--key KEYFILE and --in INPUT.json are required")
	}
	if (f.statusList < 0) != (f.statusIndex < 0) {
		return nil, nil, usagef("--status-list and --status-index go together")
	}
	data, err := readInput(env, f.in)
	if err != nil {
		return nil, nil, err
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.in, err)
	}
	key, err := openKey(env, f.key, f.passFile)
	if err != nil {
		return nil, nil, err
	}
	if f.statusList >= 0 {
		if f.statusIndex >= credentials.MinStatusListSize {
			return nil, nil, usagef("--status-index must be below %d", credentials.MinStatusListSize)
		}
		c.Status = credentials.StatusEntries(f.statusBase, f.statusList, f.statusIndex)
	}
	if err := credentials.Prepare(&c, key.DID, rand.Reader); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.in, err)
	}
	return &c, key, nil
}

func issue(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "issue", "--key KEYFILE --in INPUT.json --format qr|jwt|sd-jwt|di [--png OUT.png] [--out FILE]")
	var f issueFlags
	f.register(fs)
	format := fs.String("format", "", "qr, jwt, sd-jwt or di")
	png := fs.String("png", "", "with --format qr: also write the card's QR code as a PNG (readable by you only)")
	holder := fs.String("holder", "", "with --format sd-jwt: the holder's public JWK file, for key binding")
	outFile := fs.String("out", "", "write the credential to this file (readable by you only) instead of standard output")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	fm, err := credentials.ParseFormat(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if *png != "" && fm != credentials.FormatQR {
		return usagef("--png goes with --format qr")
	}
	if *holder != "" && fm != credentials.FormatSDJWT {
		return usagef("--holder goes with --format sd-jwt")
	}
	var holderKey crypto.PublicKey
	if *holder != "" {
		data, err := os.ReadFile(*holder)
		if err != nil {
			return err
		}
		if holderKey, _, err = credentials.ParseJWK(data); err != nil {
			return fmt.Errorf("--holder %s: %w", *holder, err)
		}
	}
	c, key, err := f.draft(env)
	if err != nil {
		return err
	}
	out, err := issueAs(fm, c, key, env, holderKey)
	if err != nil {
		return err
	}
	if *png != "" {
		img, err := credentials.CardPNG(string(out), 512)
		if err != nil {
			return err
		}
		// The card's image holds what the card holds: personal data.
		if err := replaceFile(*png, img, privateFile); err != nil {
			return err
		}
	}
	if *outFile != "" {
		// A credential holds personal data.
		return replaceFile(*outFile, append(out, '\n'), privateFile)
	}
	fmt.Fprintf(env.Stdout, "%s\n", out)
	return nil
}

// issueAs signs c in format fm.
func issueAs(fm credentials.Format, c *credentials.Credential, key *credentials.Key, env Env, holder crypto.PublicKey) ([]byte, error) {
	now := env.Now()
	switch fm {
	case credentials.FormatQR:
		s, err := credentials.IssueCard(c, key, now)
		return []byte(s), err
	case credentials.FormatJWT:
		s, err := credentials.IssueJWT(c, key, now)
		return []byte(s), err
	case credentials.FormatSDJWT:
		s, err := credentials.IssueSDJWT(c, key, now, credentials.SDJWTOptions{Holder: holder, Rand: rand.Reader})
		return []byte(s), err
	case credentials.FormatDataIntegrity:
		p, err := dataintegrity.New(dataintegrity.Options{})
		if err != nil {
			return nil, err
		}
		return p.Issue(c, key, now)
	}
	return nil, fmt.Errorf("unknown format %q", fm)
}

func qrSize(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "qr size", "--key KEYFILE --in INPUT.json")
	var f issueFlags
	f.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, key, err := f.draft(env)
	if err != nil {
		return err
	}
	if f.statusList < 0 {
		// A card in production has a status entry: count one, at the
		// largest index, so that the size is not underestimated.
		c.Status = credentials.StatusEntries(f.statusBase, 0, credentials.MinStatusListSize-1)
	}
	card, err := credentials.IssueCard(c, key, env.Now())
	if err != nil {
		return err
	}
	version, err := credentials.QRVersion(card)
	if err != nil {
		return err
	}
	verdict := "fits"
	if version > TargetQRVersion {
		verdict = "does NOT fit"
	}
	fmt.Fprintf(env.Stdout, "%s card: %d base45 characters (%d bytes), QR version %d at level Q: %s the version %d budget\n",
		c.Type, len(card), len(card)/3*2+len(card)%3/2, version, verdict, TargetQRVersion)
	if version > TargetQRVersion {
		return fmt.Errorf("the card needs QR version %d, above %d", version, TargetQRVersion)
	}
	return nil
}

// TargetQRVersion is the largest QR version a registration card may need
// at error-correction level Q (DESIGN.md).
const TargetQRVersion = 13
