package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/bibliotek24/bibstat/ingest/registry"
	"github.com/bibliotek24/bibstat/internal/atomicfile"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
)

func platformsCommand() command {
	return command{name: "platforms", summary: "propose platform entries from the COUNTER Registry (platforms import-registry FILE|URL)",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 || args[0] != "import-registry" {
				fs := cli.NewFlags(e.stdout, "platforms", "import-registry FILE|URL", "Subcommands: import-registry.")
				if err := cli.Parse(fs, args); err != nil {
					return err
				}
				return &cli.UsageError{Msg: "platforms: want 'platforms import-registry FILE|URL'"}
			}
			return importRegistry(ctx, e, args[1:])
		}}
}

func importRegistry(ctx context.Context, e *env, args []string) error {
	flags := cli.NewFlags(e.stdout, "platforms import-registry", "FILE|URL",
		"Reads COUNTER Registry records (registry.countermetrics.org's API JSON: a platform, a\n"+
			"sushi-service, a list or a page, e.g. https://registry.countermetrics.org/api/v1/platform/)\n"+
			"and proposes one platform entry each: id, name, SUSHI base_url, release, which of\n"+
			"customer_id / requestor_id / api_key / platform it requires, and notes, as a diff\n"+
			"against the config's platforms. --write adds the new ones and updates the changed\n"+
			"fields in place, keeping every other line and comment.")
	cfgPath := flags.String("config", config.DefaultFile(), "the configuration `file`")
	write := flags.Bool("write", false, "add new platforms to the config file and update changed fields")
	offline := flags.Bool("offline", false, "follow no links (sushi services, further pages) in the records")
	timeout := flags.Duration("timeout", 30*time.Second, "per request, body included")
	if err := cli.Parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return &cli.UsageError{Msg: "platforms import-registry: want one FILE or URL"}
	}
	f := &registry.Fetcher{Timeout: *timeout}
	data, err := f.Read(ctx, flags.Arg(0))
	if err != nil {
		return err
	}
	im := &registry.Importer{Fetch: f.Get}
	if *offline {
		im.Fetch = nil
	}
	res, err := im.Import(ctx, data)
	if err != nil {
		return fmt.Errorf("import %s: %w", flags.Arg(0), err)
	}
	src, err := os.ReadFile(*cfgPath)
	cfg := &config.Loaded{Config: config.Default()}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.log.Warn("no config file yet; every platform is new", "config", *cfgPath)
	case err != nil:
		return fmt.Errorf("read config: %w", err)
	default:
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	entries := registry.Diff(res.Proposals, cfg.Platforms)
	registry.Print(e.stdout, entries, res.Warnings)
	if !*write {
		fmt.Fprintf(e.stdout, "Nothing written; --write adds and updates them in %s.\n", *cfgPath)
		return nil
	}
	out, err := registry.Apply(src, entries)
	if err != nil {
		return fmt.Errorf("write %s: %w", *cfgPath, err)
	}
	if bytes.Equal(out, src) {
		fmt.Fprintf(e.stdout, "Nothing to write: %s has them all.\n", *cfgPath)
		return nil
	}
	if err := replaceFile(*cfgPath, out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s.\n", *cfgPath)
	return nil
}

// replaceFile writes b to path through a temporary file beside it, so that a
// failed write leaves the old config whole; the file's mode is kept.
func replaceFile(path string, b []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := atomicfile.Write(path, b, mode); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
