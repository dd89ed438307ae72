package cli

import (
	"context"
	"crypto"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/verifier"
)

// The demo's inputs are the shared samples, embedded so that the demo runs
// from any directory.
//
//go:embed samples/*.json
var samples embed.FS

// demoClock is used when today is outside the samples' validity windows.
var demoClock = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func demo(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "demo", "[--out DIR]")
	outDir := fs.String("out", "demo-out", "where to write the issued credentials and the card PNG (readable by you only)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if err := makePrivateDir(env, *outDir); err != nil {
		return err
	}
	today := env.Now().UTC()
	d := &demoRun{env: env, dir: *outDir, today: today, now: today}
	return d.run(ctx)
}

type demoRun struct {
	env   Env
	dir   string
	today time.Time
	now   time.Time
	w     io.Writer
	key   *credentials.Key
	lists map[string]*credentials.StatusList
	mu    sync.Mutex
}

func (d *demoRun) say(format string, args ...any) { fmt.Fprintf(d.w, format+"\n", args...) }

func (d *demoRun) run(ctx context.Context) error {
	d.w = d.env.Stdout
	drafts := map[string]*credentials.Credential{}
	for _, name := range []string{"registration", "eligibility", "referral"} {
		data, err := samples.ReadFile("samples/" + name + ".json")
		if err != nil {
			return err
		}
		var c credentials.Credential
		if err := json.Unmarshal(data, &c); err != nil {
			return fmt.Errorf("sample %s: %w", name, err)
		}
		drafts[name] = &c
		if d.now.Before(c.ValidFrom) || (!c.ValidUntil.IsZero() && d.now.After(c.ValidUntil)) {
			d.now = demoClock
		}
	}
	if !d.now.Equal(d.today) {
		d.say("(today is outside the samples' validity, so the demo's clock reads %s)", d.now.Format(time.DateOnly))
	}

	// 1. An issuer: Organisation A, with an Ed25519 key and a did:web DID.
	signer, err := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	if err != nil {
		return err
	}
	if d.key, err = credentials.NewKey(signer, "did:web:org-a.dadaab.example"); err != nil {
		return err
	}
	d.say("== Organisation A issues, as %s", d.key.DID)

	// 2. Its status lists, served over HTTP on this machine.
	base, stop, err := d.serveStatus()
	if err != nil {
		return err
	}
	defer stop()

	// 3. The trust list a verifying agency holds.
	trust := verifier.NewTrustList("Dadaab service points")
	iss, err := verifier.NewTrustedIssuer("Organisation A", credentials.Types(), d.key)
	if err != nil {
		return err
	}
	iss.StatusBase = base
	if err := trust.Add(iss); err != nil {
		return err
	}

	// Fatima's phone: the SD-JWT is bound to its key.
	walletSigner, err := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	if err != nil {
		return err
	}
	wallet, err := credentials.NewKey(walletSigner, "")
	if err != nil {
		return err
	}

	// 4. Issue: the registration in every format, the others as cards.
	type issued struct {
		label string
		fm    credentials.Format
		raw   []byte
	}
	var all []issued
	seed, err := credentials.NewSeed(rand.Reader)
	if err != nil {
		return err
	}
	for _, name := range []string{"registration", "eligibility", "referral"} {
		c := drafts[name]
		idx, err := rand.Int(rand.Reader, big.NewInt(credentials.MinStatusListSize))
		if err != nil {
			return err
		}
		c.Status = credentials.StatusEntries(base, 0, int(idx.Int64()))
		credentials.SetSubjectSeed(c.Subject, seed) // one person, one seed
		if err := credentials.Prepare(c, d.key.DID, rand.Reader); err != nil {
			return fmt.Errorf("sample %s: %w", name, err)
		}
		formats := []credentials.Format{credentials.FormatQR}
		if name == "registration" {
			formats = credentials.Formats()
		}
		for _, fm := range formats {
			var holder crypto.PublicKey
			if fm == credentials.FormatSDJWT {
				holder = wallet.Public
			}
			raw, err := issueAs(fm, c, d.key, demoEnv(d), holder)
			if err != nil {
				return fmt.Errorf("issue %s as %s: %w", name, fm, err)
			}
			file := filepath.Join(d.dir, name+"."+string(fm)+extension(fm))
			if err := replaceFile(file, append(raw, '\n'), privateFile); err != nil {
				return err
			}
			all = append(all, issued{name, fm, raw})
			d.say("   %-13s %-6s %5d bytes  -> %s", name, fm, len(raw), file)
		}
	}
	card := all[0].raw
	version, err := credentials.QRVersion(string(card))
	if err != nil {
		return err
	}
	png, err := credentials.CardPNG(string(card), 512)
	if err != nil {
		return err
	}
	pngFile := filepath.Join(d.dir, "registration-card.png")
	if err := replaceFile(pngFile, png, privateFile); err != nil {
		return err
	}
	d.say("   registration card: %d characters, QR version %d at level Q (budget: %d) -> %s", len(card), version, TargetQRVersion, pngFile)

	// 5. A verifying agency checks each one, online, and derives dedup tokens.
	domain, err := verifier.NewDedupKey("dadaab-consortium", rand.Reader)
	if err != nil {
		return err
	}
	other, err := verifier.NewDedupKey("other-agency", rand.Reader)
	if err != nil {
		return err
	}
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		return err
	}
	v, err := verifier.New(verifier.Options{Trust: trust, Now: func() time.Time { return d.now }, Formats: []verifier.FormatParser{di}})
	if err != nil {
		return err
	}
	d.say("\n== A verifying agency checks them (status fetched from %s)", base)
	const audience = "did:web:clinic.dadaab.example"
	var storedSDJWT []byte
	for _, it := range all {
		var res *verifier.Result
		var err error
		if it.fm == credentials.FormatSDJWT {
			// The wallet presents it for this verifier and this request.
			storedSDJWT = it.raw
			nonce := rand.Text()
			var p string
			p, err = credentials.PresentSDJWT(string(it.raw), []string{"registrationId", "fullName", "dedupSeed"}, wallet.Signer, audience, nonce, d.now)
			if err != nil {
				return err
			}
			res, err = v.VerifyPresentation(ctx, []byte(p), verifier.Presentation{Audience: audience, Nonce: nonce})
		} else {
			res, err = v.Verify(ctx, it.raw)
		}
		if err != nil {
			d.say("   %-13s %-6s INVALID: %v", it.label, it.fm, err)
			continue
		}
		token, err := res.DedupToken(domain)
		if errors.Is(err, verifier.ErrNoDedupSeed) {
			token = "(seed not disclosed)"
		}
		d.say("   %-13s %-6s VALID  %s  dedup token %s", it.label, it.fm, summary(res), token)
	}
	res, err := v.Verify(ctx, card)
	if err != nil {
		return err
	}
	t1, _ := res.DedupToken(domain)
	t2, _ := res.DedupToken(other)
	d.say("   the same person in another dedup domain: %s (unlinkable to %s)", t2, t1)

	// 6. Things that go wrong.
	d.say("\n== What a verifier rejects")
	tampered := []byte(strings.Clone(string(card)))
	tampered[len(tampered)/2] = flipBase45(tampered[len(tampered)/2])
	_, err = v.Verify(ctx, tampered)
	d.say("   one character of the card changed:  %v", err)
	forged, err := forgeName(all[1].raw)
	if err != nil {
		return err
	}
	_, err = v.Verify(ctx, forged)
	d.say("   a VC-JWT with its name rewritten:    %v", err)
	_, err = v.Verify(ctx, storedSDJWT)
	d.say("   the wallet's SD-JWT, not presented:  %v", err)
	d.mu.Lock()
	_, regIndex, _ := credentials.TallyStatus(drafts["registration"].Status)
	_ = d.lists[credentials.StatusListPath(credentials.PurposeRevocation, 0)].Set(regIndex, true)
	d.mu.Unlock()
	v2, err := verifier.New(verifier.Options{Trust: trust, Now: func() time.Time { return d.now }, Formats: []verifier.FormatParser{di}})
	if err != nil {
		return err
	}
	_, err = v2.Verify(ctx, card)
	d.say("   after Organisation A revokes it:     %v", err)
	stranger, _ := verifier.New(verifier.Options{Trust: verifier.NewTrustList("empty"), Offline: true})
	_, err = stranger.Verify(ctx, card)
	d.say("   at an agency that does not trust A:  %v", err)
	d.say("\nDone. Verify a file yourself: go run ./cmd/tally verify --help")
	return nil
}

func demoEnv(d *demoRun) Env {
	e := d.env
	e.Now = func() time.Time { return d.now }
	return e
}

func extension(fm credentials.Format) string {
	if fm == credentials.FormatDataIntegrity {
		return ".json"
	}
	return ".txt"
}

func summary(res *verifier.Result) string {
	switch s := res.Credential.Subject.(type) {
	case *credentials.Registration:
		if s.FullName != "" {
			return s.FullName
		}
		return s.RegistrationID
	case *credentials.Eligibility:
		return s.Programme
	case *credentials.Referral:
		return "to " + s.Service
	}
	return ""
}

func flipBase45(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

// serveStatus starts an HTTP server on 127.0.0.1 that serves Organisation
// A's status lists, signed on every request, as an issuer would.
func (d *demoRun) serveStatus() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start the demo's status server: %w", err)
	}
	base := "http://" + ln.Addr().String() + "/status"
	d.lists = map[string]*credentials.StatusList{}
	for _, p := range []string{credentials.PurposeRevocation, credentials.PurposeSuspension} {
		path := credentials.StatusListPath(p, 0)
		l, err := credentials.NewStatusList(base+"/"+path, d.key.DID, p, credentials.MinStatusListSize)
		if err != nil {
			return "", nil, err
		}
		d.lists[path] = l
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{purpose}/{n}", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		l, ok := d.lists[r.PathValue("purpose")+"/"+r.PathValue("n")]
		var body []byte
		if ok {
			body, err = credentials.IssueStatusList(l, d.key, d.now)
		}
		d.mu.Unlock()
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vc+jwt")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(body)
	})
	// The Token Status List of the same status record, for the SD-JWT VC's
	// status claim.
	mux.HandleFunc("GET /status/token/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("n")
		d.mu.Lock()
		rev, ok1 := d.lists[credentials.PurposeRevocation+"/"+n]
		susp, ok2 := d.lists[credentials.PurposeSuspension+"/"+n]
		var body []byte
		var err error = errors.New("no such list")
		if ok1 && ok2 {
			var l *credentials.TokenStatusList
			if l, err = credentials.TokenStatusListOf(base+"/token/"+n, rev, susp); err == nil {
				body, err = credentials.IssueTokenStatusList(l, d.key, d.now)
			}
		}
		d.mu.Unlock()
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", credentials.TokenStatusListMediaType)
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return base, func() { _ = srv.Close() }, nil
}

// forgeName rewrites the name in a VC-JWT's payload and keeps the
// signature: what a forger would try.
func forgeName(jwt []byte) ([]byte, error) {
	parts := strings.Split(string(jwt), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("demo: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	payload = []byte(strings.Replace(string(payload), "Fatima Hassan Abdi", "Fatima Hassan Abdo", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return []byte(strings.Join(parts, ".")), nil
}
