package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsReadPathsFromTheConfigFolder runs every command that works
// offline from an empty working directory with --config naming a config in
// another folder: each reads and writes the config's paths (archive,
// ledger, warehouse, site, users), relative to that folder, and leaves
// nothing in the working directory.
func TestCommandsReadPathsFromTheConfigFolder(t *testing.T) {
	cfg, _, _ := harvestWorld(t)
	dir := filepath.Dir(cfg)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("warehouse:\n  path: data/warehouse.duckdb\n  temp_directory: data/spill\n" +
		"server:\n  site_dir: public\n  users: users.json\n  mappings: mappings\n")
	f.Close()
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	upload := abs(filepath.Join(vendorDir, "leksikon-2025.tsv"))
	if err := os.CopyFS(filepath.Join(dir, "mappings"), os.DirFS(abs(mappingsDir))); err != nil {
		t.Fatal(err)
	}
	wd := t.TempDir()
	t.Chdir(wd)

	for _, args := range [][]string{
		{"harvest", "--once", "--config", cfg, "--to", "2025-02", "--progress", "none"},
		{"status", "--config", cfg},
		{"credentials", "discover", "--config", cfg, "--platform", "avis"},
		{"ingest", upload, "--dry-run", "--vendor", "leksikon", "--config", cfg},
		{"transform", "--config", cfg, "--create"}, // data/ does not exist yet
		{"report", "--config", cfg},
		{"agreements", "list", "--config", cfg},
		{"users", "list", "--config", cfg},
	} {
		out, errs, err := runHarvestCmd(t, args...)
		if err != nil {
			t.Errorf("%s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
		}
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the commands wrote %v into the working directory", names)
	}
	for _, p := range []string{"archive", "ledger.jsonl", "data/warehouse.duckdb", "public/index.html"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("not in the config's folder: %v", err)
		}
	}
}
