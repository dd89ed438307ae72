package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/web"
)

// registryCmd runs `tally registry ...`: the dedup registry's domains, and
// the token lists agencies of one domain exchange (docs/consortium.md).
func registryCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		printRegistryUsage(env.Stderr)
		return usagef("say what to do: domain add, domains, export, import or reconcile")
	}
	run := map[string]func(context.Context, Env, []string) error{
		"domain add": registryDomainAdd, "domains": registryDomains, "export": registryExport, "import": registryImport, "reconcile": registryReconcile,
	}
	name, rest := args[0], args[1:]
	if name == "domain" && len(args) > 1 {
		name, rest = "domain "+args[1], args[2:]
	}
	switch f, ok := run[name]; {
	case ok:
		return subcommandFailure(env, "registry "+name, f(ctx, env, rest))
	case name == "-h" || name == "--help" || name == "help":
		printRegistryUsage(env.Stdout)
		return flag.ErrHelp
	}
	return usagef("unknown command %q: use domain add, domains, export, import or reconcile", strings.Join(args, " "))
}

func printRegistryUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  tally registry domain add --id ID --name NAME --key FILE [--kind own|consortium] --member AGENCY...")
	fmt.Fprintln(w, "  tally registry domains")
	fmt.Fprintln(w, "  tally registry export --domain ID [--out FILE.csv]")
	fmt.Fprintln(w, "  tally registry import --domain ID --peer AGENCY FILE.csv")
	fmt.Fprintln(w, "  tally registry reconcile --domain ID --peer AGENCY [--self AGENCY] [--svg FILE.svg] [--lang en|fr|ar]")
	fmt.Fprintln(w, "  tally registry reconcile [--self A --peer B] [--svg FILE.svg] A.csv B.csv")
	fmt.Fprintln(w, "\nEach takes --data DIR (default $TALLY_DATA or ./tally-data); the server must be stopped. Docs: docs/consortium.md")
}

// openRegistry opens DIR/tally.db and its registry. Only domain add makes
// a database that is not there yet.
func openRegistry(env Env, dir string, create bool, master []byte) (*registry.Service, func(), error) {
	path := filepath.Join(dir, bolt.FileName)
	if _, err := os.Stat(path); err != nil && !create {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("no tally database at %s: give the data directory with --data", path)
		}
		return nil, nil, err
	}
	db, err := bolt.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc, err := registry.New(st.Stores(), registry.Options{MasterKey: master, ScryptN: env.ScryptN, Now: env.Now})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}

// registryMasterKey reads the master key that seals domain keys, as tally
// serve does: $TALLY_MASTER_KEY_FILE, else DIR/master.key.
func registryMasterKey(env Env, dir string) ([]byte, error) {
	path := env.Getenv("TALLY_MASTER_KEY_FILE")
	if path == "" {
		path = filepath.Join(dir, "master.key")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the master key file %s is missing: it seals the domain's key; run tally serve once (it makes one), or set TALLY_MASTER_KEY_FILE", path)
	}
	if err != nil {
		return nil, err
	}
	key := []byte(strings.TrimRight(string(data), "\r\n"))
	if len(key) == 0 {
		return nil, fmt.Errorf("the master key file %s is empty", path)
	}
	return key, nil
}

func registryDomainAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "registry domain add", "--id ID --name NAME --key FILE [--kind own|consortium] --member AGENCY...")
	dir := auditDataFlag(env, fs)
	id := fs.String("id", "", "the domain's id, which every member uses (letters, digits, . - _)")
	name := fs.String("name", "", "the domain's name, as people say it")
	keyFile := fs.String("key", "", "the domain key file (tally dedup-key new), shared by the consortium's members")
	kind := fs.String("kind", registry.KindConsortium, "own (this agency's key) or consortium (a key shared with other agencies)")
	var members stringList
	fs.Var(&members, "member", "an agency that holds the key (repeatable; this agency alone for --kind own)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *id == "" || *name == "" || *keyFile == "" || len(members) == 0 {
		return usagef("--id, --name, --key and at least one --member are required")
	}
	keyData, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	master, err := registryMasterKey(env, *dir)
	if err != nil {
		return err
	}
	svc, closeDB, err := openRegistry(env, *dir, true, master)
	if err != nil {
		return err
	}
	defer closeDB()
	d, err := svc.AddDomain(ctx, registry.NewDomain{ID: *id, Name: *name, Kind: *kind, Members: members, KeyFile: keyData})
	if err != nil {
		return err
	}
	// Opening the key once proves the seal, before anyone relies on it.
	if _, err := svc.Key(ctx, d.ID); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added dedup domain %s (%s, %s; members %s): its key is sealed in %s; the key file can go back to safe keeping\n",
		d.ID, d.Name, d.Kind, strings.Join(d.Members, ", "), filepath.Join(*dir, bolt.FileName))
	return nil
}

func registryDomains(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "registry domains", "[--data DIR]")
	dir := auditDataFlag(env, fs)
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	svc, closeDB, err := openRegistry(env, *dir, false, nil)
	if err != nil {
		return err
	}
	defer closeDB()
	ds, err := svc.Domains(ctx)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(env.Stdout, "no dedup domain yet: add one with tally registry domain add")
	}
	for _, d := range ds {
		fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Kind, strings.Join(d.Members, ","))
	}
	return nil
}

func registryExport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "registry export", "--domain ID [--out FILE.csv]")
	dir := auditDataFlag(env, fs)
	domain := fs.String("domain", "", "the dedup domain whose token list to export")
	out := fs.String("out", "", "write the list to this file (must not exist) rather than to standard output")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *domain == "" {
		return usagef("--domain ID is required, and nothing else")
	}
	svc, closeDB, err := openRegistry(env, *dir, false, nil)
	if err != nil {
		return err
	}
	defer closeDB()
	l, err := svc.Export(ctx, *domain)
	if err != nil {
		return err
	}
	if *out == "" {
		return l.WriteCSV(env.Stdout)
	}
	var buf bytes.Buffer
	if err := l.WriteCSV(&buf); err != nil {
		return err
	}
	if err := writeNewFile(*out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "wrote %s: %d rows of domain %s (tokens, programmes, months and counts; nothing personal)\n", *out, len(l.Rows), *domain)
	return nil
}

func registryImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "registry import", "--domain ID --peer AGENCY FILE.csv")
	dir := auditDataFlag(env, fs)
	domain := fs.String("domain", "", "the dedup domain the list is of")
	peer := fs.String("peer", "", "the agency that sent the list; its earlier list is replaced")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *domain == "" || *peer == "" {
		return usagef("--domain ID, --peer AGENCY and one FILE.csv (or - for standard input) are required")
	}
	l, err := readList(env, rest[0], *domain)
	if err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	svc, closeDB, err := openRegistry(env, *dir, false, nil)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := svc.ImportPeerList(ctx, *peer, l); err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	fmt.Fprintf(env.Stdout, "imported %d rows from %s into domain %s, in place of its earlier list\n", len(l.Rows), *peer, *domain)
	return nil
}

func registryReconcile(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "registry reconcile", "--domain ID --peer AGENCY | A.csv B.csv  [--svg FILE.svg] [--lang en|fr|ar]")
	dir := auditDataFlag(env, fs)
	domain := fs.String("domain", "", "reconcile this domain's own list with a peer's imported list")
	self := fs.String("self", "", "the name of this agency (of A.csv) in the report (default: ours, or a)")
	peer := fs.String("peer", "", "the agency whose imported list to compare (the name of B.csv in the report, default b)")
	svgOut := fs.String("svg", "", "also draw the report as an SVG chart in this file (must not exist)")
	lang := fs.String("lang", "en", "the language of the chart: en, fr or ar")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	labels, err := chartLabels(*lang)
	if err != nil {
		return &usageError{err.Error()}
	}
	var report *registry.Report
	switch {
	case len(rest) == 2 && *domain == "":
		a, b := cmpOr(*self, "a"), cmpOr(*peer, "b")
		la, err := readList(env, rest[0], "")
		if err != nil {
			return err
		}
		lb, err := readList(env, rest[1], "")
		if err != nil {
			return err
		}
		if report, err = registry.Reconcile(a, la, b, lb); err != nil {
			return err
		}
	case len(rest) == 0 && *domain != "" && *peer != "":
		svc, closeDB, err := openRegistry(env, *dir, false, nil)
		if err != nil {
			return err
		}
		defer closeDB()
		if report, err = svc.ReconcileWithPeer(ctx, *domain, cmpOr(*self, "ours"), *peer); err != nil {
			return err
		}
	default:
		return usagef("give --domain ID and --peer AGENCY (this registry against an imported list), or two list files")
	}
	if *svgOut != "" {
		if err := writeNewFile(*svgOut, report.SVG(labels)); err != nil {
			return err
		}
	}
	if err := report.WriteCSV(env.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%s: %d tokens, %s: %d tokens, in both: %d\n", report.A, report.TokensA, report.B, report.TokensB, report.Overlap)
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readList reads a token list from a file, or standard input for "-";
// ParseList bounds what it reads.
func readList(env Env, path, domain string) (registry.List, error) {
	in := env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return registry.List{}, err
		}
		defer f.Close()
		in = f
	}
	l, err := registry.ParseList(in, domain)
	if err != nil {
		return registry.List{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// chartLabels are the chart's words in lang, from the message catalogue
// (English for keys not yet translated).
func chartLabels(lang string) (registry.ChartLabels, error) {
	read := func(lang string) (map[string]string, error) {
		data, err := fs.ReadFile(web.FS, "messages/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("--lang %q: no such catalogue (en, fr, ar)", lang)
		}
		m := map[string]string{}
		return m, json.Unmarshal(data, &m)
	}
	if strings.ContainsAny(lang, "./\\") || lang == "" {
		return registry.ChartLabels{}, fmt.Errorf("--lang %q: give a language tag such as en, fr or ar", lang)
	}
	en, err := read("en")
	if err != nil {
		return registry.ChartLabels{}, err
	}
	m, err := read(lang)
	if err != nil {
		return registry.ChartLabels{}, err
	}
	get := func(key string) string {
		if s, ok := m[key]; ok {
			return s
		}
		return en[key]
	}
	return registry.ChartLabels{
		Title: get("registry_chart_title"), Summary: get("registry_chart_summary"), Bar: get("registry_chart_bar"),
		Value: get("registry_chart_value"), Empty: get("registry_chart_empty"), More: get("registry_chart_more"),
		NoProgramme: get("registry_chart_no_programme"), RTL: get("dir") == "rtl",
	}, nil
}
