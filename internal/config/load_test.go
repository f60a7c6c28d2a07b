package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadReadsPathsFromTheFilesFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bibstat.yaml")
	if err := os.WriteFile(file, []byte("warehouse:\n  path: data/w.duckdb\nledger:\n  path: /var/lib/bibstat/ledger.jsonl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	cfg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Path(cfg.Warehouse.Path), filepath.Join(dir, "data", "w.duckdb"); got != want {
		t.Errorf("warehouse %s, want %s", got, want)
	}
	if got := cfg.Path(cfg.Ledger.Path); got != "/var/lib/bibstat/ledger.jsonl" {
		t.Errorf("an absolute ledger path became %s", got)
	}
	if got := cfg.Path(cfg.Store.Dir); got != filepath.Join(dir, "archive") {
		t.Errorf("the default store dir is %s, want the file's folder's archive", got)
	}
	if got := cfg.Path(""); got != "" {
		t.Errorf(`Path("") = %q`, got)
	}

	def, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if got := def.Path(def.Warehouse.Path); got != filepath.Join(wd, "warehouse.duckdb") {
		t.Errorf("the defaults' warehouse is %s, want the working directory's", got)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
