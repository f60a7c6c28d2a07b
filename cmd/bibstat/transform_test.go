package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTransformCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	archive, wh := filepath.Join(dir, "archive"), filepath.Join(dir, "w.duckdb")
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{"incremental, archiving the register", []string{"--libraries", "../../testdata/library-register/basebibliotek.xml"}, []string{"rebuilt=false", "units=0"}},
		{"rebuild and export", []string{"--rebuild", "--export"}, []string{"rebuilt=true", "exported_tables="}},
	}
	for _, s := range steps {
		e, out := testEnv(t)
		args := append([]string{"transform", "--archive", archive, "--warehouse", wh, "--threads", "1"}, s.args...)
		if err := run(ctx, args, e.stdout, e.stderr); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, w := range s.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, w, out)
			}
		}
	}

	// A warehouse of another schema version is rebuilt, not read.
	db, err := sql.Open("duckdb", wh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET value = '0.0' WHERE key = 'schema_version'; DELETE FROM libraries`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e, out := testEnv(t)
	if err := run(ctx, []string{"transform", "--archive", archive, "--warehouse", wh}, e.stdout, e.stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "rebuilt=true") {
		t.Errorf("old warehouse not rebuilt:\n%s", out)
	}
	db, err = sql.Open("duckdb", wh)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM libraries`).Scan(&n); err != nil || n != 6 {
		t.Errorf("rebuilt warehouse has %d libraries (%v), want the register's 6", n, err)
	}
}

// TestTransformWarehouseFolder: a warehouse path in a folder that does not
// exist is an error that creates nothing, unless --create is given.
func TestTransformWarehouseFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "dir")
	wh := filepath.Join(missing, "w.duckdb")
	args := []string{"transform", "--archive", filepath.Join(dir, "archive"), "--warehouse", wh, "--threads", "1"}
	e, out := testEnv(t)
	err := run(ctx, args, e.stdout, e.stderr)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "--create") {
		t.Errorf("transform into a missing folder: %v, want an error naming --create\n%s", err, out)
	}
	if _, serr := os.Stat(filepath.Join(dir, "no")); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("the failed transform created folders: %v", serr)
	}
	e, out = testEnv(t)
	if err := run(ctx, append(args, "--create"), e.stdout, e.stderr); err != nil {
		t.Fatalf("transform --create: %v\n%s", err, out)
	}
	if _, err := os.Stat(wh); err != nil {
		t.Errorf("transform --create made no warehouse: %v", err)
	}
	// A rebuild from an archive that is not there would empty the warehouse.
	e, _ = testEnv(t)
	err = run(ctx, []string{"transform", "--rebuild", "--archive", filepath.Join(dir, "typo"), "--warehouse", wh}, e.stdout, e.stderr)
	if err == nil || !strings.Contains(err.Error(), "no archive at") {
		t.Errorf("rebuild from a missing archive: %v, want an error", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "typo")); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("the refused rebuild created the archive: %v", serr)
	}
}

// TestFreshWarehouseSaysWhatToRun: on a warehouse that was never loaded, or
// none at all, report and agreements answer with one sentence naming the
// command to run, never DuckDB's catalog error.
func TestFreshWarehouseSaysWhatToRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wh := filepath.Join(dir, "w.duckdb")
	e, _ := testEnv(t)
	if err := run(ctx, []string{"transform", "--archive", filepath.Join(dir, "archive"), "--warehouse", wh, "--threads", "1"}, e.stdout, e.stderr); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--warehouse", wh, "--out", filepath.Join(dir, "site")}, "bibstat transform"},
		{[]string{"report", "--warehouse", filepath.Join(dir, "none.duckdb"), "--out", filepath.Join(dir, "site")}, "bibstat transform"},
	} {
		e, out := testEnv(t)
		err := run(ctx, tc.args, e.stdout, e.stderr)
		var stderr bytes.Buffer
		code := exitCode(err, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code == 0 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "Catalog Error") || strings.Count(msg, "\n") > 0 {
			t.Errorf("%v: exit %d, said %q (output %q); want one line naming %q", tc.args, code, msg, out, tc.want)
		}
	}
	// status before any harvest, and without a configuration.
	cfg, _, _ := harvestWorld(t)
	e, out := testEnv(t)
	if err := run(ctx, []string{"status", "--config", cfg}, e.stdout, e.stderr); err != nil || !strings.Contains(out.String(), "run 'bibstat harvest --once'") {
		t.Errorf("status before a harvest: %v, said\n%s", err, out)
	}
	e, _ = testEnv(t)
	err := run(ctx, []string{"status", "--config", filepath.Join(dir, "none.yaml")}, e.stdout, e.stderr)
	if err == nil || !strings.Contains(err.Error(), "--config FILE") {
		t.Errorf("status without a configuration: %v", err)
	}
}
