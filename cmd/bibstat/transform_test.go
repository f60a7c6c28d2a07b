package main

import (
	"context"
	"database/sql"
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
