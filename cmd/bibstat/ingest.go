package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/upload"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
)

func ingestCommand() command {
	return command{name: "ingest", summary: "archive and load vendor files (COUNTER or mapped), or process the inbox",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "ingest", "FILE...",
				"Archives each FILE byte-exact under --archive, reads it as COUNTER (R4/R5/R5.1; TSV, CSV,\n"+
					"XLSX, JSON) or through the vendor's mapping in --mappings, and writes its parsed rows\n"+
					"per (library, month) so the warehouse loads them. A file already loaded is skipped;\n"+
					"a corrected file supersedes the earlier one for the same vendor, library and months.\n"+
					"A month becomes zero only where the file positively says so (an empty COUNTER report,\n"+
					"a complete report without rows for it, a mapped row of zeros); an exception-only file,\n"+
					"or one whose usage is all dated outside its period, is rejected and replaces nothing.\n"+
					"With --inbox, processes every file dropped under inbox/<vendor>/ in the archive instead.\n"+
					"Exits 1 if any file is rejected.")
			o := ingestOptions{}
			fs.StringVar(&o.vendor, "vendor", "", "the `vendor` id the files come from, e.g. avisleser (required with FILE)")
			fs.StringVar(&o.platform, "platform", "", "the `platform` id for the sidecars (default the vendor)")
			fs.StringVar(&o.library, "library", "", "the `bibnr` or ISIL of the library, for files that name none")
			fs.StringVar(&o.config, "config", "", "the configuration `file`: its store unless --archive, its server.mappings unless --mappings")
			fs.StringVar(&o.archive, "archive", "", "the object store `dir`ectory (this or --config is required unless --dry-run)")
			fs.StringVar(&o.mappings, "mappings", "", "the `dir`ectory of vendor mappings (<vendor>.yaml)")
			fs.StringVar(&o.by, "by", currentUser(), "who uploads, recorded in the sidecars (`name`)")
			fs.BoolVar(&o.dryRun, "dry-run", false, "show what would be loaded: per file, the units it would add, restate (old → new totals) or why it is rejected; store nothing")
			fs.BoolVar(&o.acceptPartial, "accept-partial", false, "load a file's good rows when some cannot be mapped or a count is not a count, keeping them listed")
			fs.BoolVar(&o.inbox, "inbox", false, "process the archive's inbox/<vendor>/ folders instead of FILEs")
			files, err := parseInterleaved(fs, args)
			if err != nil {
				return err
			}
			o.files = files
			if err := o.check(); err != nil {
				return err
			}
			return runIngest(ctx, e, o)
		}}
}

type ingestOptions struct {
	vendor, platform, library, config, archive, mappings, by string
	dryRun, acceptPartial, inbox                             bool
	files                                                    []string
	lib                                                      bibstat.LibraryID // o.library, checked
}

func (o *ingestOptions) check() error {
	usage := func(msg string) error {
		return &cli.UsageError{Msg: "ingest: " + msg + " (run 'bibstat ingest --help')"}
	}
	switch {
	case o.inbox && len(o.files) > 0:
		return usage("give either --inbox or FILEs, not both")
	case !o.inbox && len(o.files) == 0:
		return usage("no FILE given")
	case !o.inbox && o.vendor == "":
		return usage("--vendor is required with FILE")
	case o.inbox && (o.vendor != "" || o.library != "" || o.platform != ""):
		return usage("with --inbox the vendor is the inbox folder; --vendor, --platform and --library do not apply")
	case o.archive == "" && o.config == "" && (o.inbox || !o.dryRun):
		return usage("--archive DIR is required, or --config FILE")
	case o.by == "" && !o.dryRun:
		return usage("--by NAME is required when $USER is not set")
	}
	if o.vendor != "" && (bibstat.CheckSegment(o.vendor) != nil || strings.ToLower(o.vendor) != o.vendor) {
		return usage(fmt.Sprintf("--vendor %q: want a lower-case id of letters, digits, '.', '_' or '-'", o.vendor))
	}
	if o.platform != "" && bibstat.CheckSegment(o.platform) != nil {
		return usage(fmt.Sprintf("--platform %q: want an id of letters, digits, '.', '_' or '-'", o.platform))
	}
	if o.library != "" {
		lib, err := bibstat.ParseLibraryID(o.library)
		if err != nil {
			return usage("--library: " + err.Error())
		}
		o.lib = lib
	}
	return nil
}

// parseInterleaved lets flags follow the arguments ("ingest a.csv --vendor
// x"), which the flag package alone stops at, and returns the arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := cli.Parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}

func runIngest(ctx context.Context, e *env, o ingestOptions) error {
	var st store.Store = store.NewMemory() // a dry run without an archive: nothing to compare with
	mappings := o.mappings
	if o.archive != "" || o.config != "" {
		cfg, err := config.Load(o.config)
		if err != nil {
			return err
		}
		if st, err = openStore(ctx, cfg, o.archive); err != nil {
			return err
		}
		if o.config != "" {
			mappings = cmp.Or(mappings, cfg.Path(cfg.Server.Mappings))
		}
	}
	maps, err := upload.LoadMappings(mappings)
	if err != nil {
		return err
	}
	in := &upload.Ingester{Store: st, Log: e.log, Mappings: maps, By: o.by, AcceptPartial: o.acceptPartial, DryRun: o.dryRun}
	var rejected bool
	if o.inbox {
		rejected, err = in.IngestInbox(ctx, e.stdout)
	} else {
		rejected, err = in.IngestFiles(ctx, e.stdout, o.files, upload.File{Vendor: o.vendor, Platform: o.platform, Library: o.lib})
	}
	if err != nil {
		return err
	}
	if rejected {
		return silentError{code: 1}
	}
	return nil
}

// currentUser names who runs the command: $USER, else the account name.
func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
