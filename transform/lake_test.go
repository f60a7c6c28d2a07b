package transform

import (
	"context"
	"encoding/json"
	"fmt"
	gobuild "go/build"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// lakeSums reads the lake with hyparquet, a Parquet reader that is neither
// DuckDB nor arrow-go, guided only by curated/_schema.json, and prints per
// table its rows, each numeric column's sum and nulls, and each column's
// Parquet physical type. It checks on the way that every file holds the
// schema's columns in order and that each row's period lies in the
// partition its path names.
const lakeSums = `
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const root = process.argv[2]
const schema = JSON.parse(readFileSync(join(root, 'curated', '_schema.json'), 'utf8'))
const files = dir => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter(d => d.isFile() && d.name.endsWith('.parquet')).map(d => join(d.parentPath, d.name))
const out = { version: schema.version, tables: {} }
for (const t of schema.tables) {
  const r = { rows: 0, files: 0, sums: {}, nulls: {}, physical: {} }
  let dir = join(root, t.location)
  let paths = []
  try { paths = files(dir) } catch (e) { if (e.code !== 'ENOENT') throw e }
  for (const p of paths.sort()) {
    const part = p.slice(dir.length).match(/year=(\d{4})\/month=(\d{2})\//)
    if (!part) throw new Error(p + ': not under year=YYYY/month=MM/')
    const buf = readFileSync(p)
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
    const meta = parquetMetadata(file)
    const cols = meta.schema.slice(1)
    const names = cols.map(c => c.name).join(',')
    const want = t.columns.map(c => c.name).join(',')
    if (names !== want) throw new Error(p + ': columns ' + names + ', schema says ' + want)
    for (const c of cols) r.physical[c.name] = c.type + (c.converted_type ? '/' + c.converted_type : '')
    const rows = await parquetReadObjects({ file, compressors })
    r.files++
    for (const row of rows) {
      r.rows++
      const d = row.period
      if (!(d instanceof Date) || d.getUTCFullYear() !== +part[1] || d.getUTCMonth() + 1 !== +part[2]) {
        throw new Error(p + ': period ' + d + ' outside its partition')
      }
      for (const c of t.columns) {
        const v = row[c.name]
        if (typeof v !== 'bigint' && typeof v !== 'number' && v !== null) continue
        if (v === null) { r.nulls[c.name] = (r.nulls[c.name] ?? 0) + 1; continue }
        if (typeof v === 'bigint') r.sums[c.name] = (r.sums[c.name] ?? 0n) + v
        else r.sums[c.name] = (r.sums[c.name] ?? 0) + v
      }
    }
  }
  for (const k in r.sums) r.sums[k] = String(r.sums[k])
  out.tables[t.name] = r
}
console.log(JSON.stringify(out))
`

// hyparquetDir is where .ci/install-hyparquet installed hyparquet: its
// BIBSTAT_HYPARQUET_DIR, or its default beside GOPATH.
func hyparquetDir() string {
	if d := os.Getenv("BIBSTAT_HYPARQUET_DIR"); d != "" {
		return d
	}
	gopath := filepath.SplitList(gobuild.Default.GOPATH)
	if len(gopath) == 0 {
		return ""
	}
	return filepath.Join(gopath[0], "..", "bibstat-node")
}

// nodeWithHyparquet returns node and a folder whose node_modules holds
// hyparquet, or skips (fails under BIBSTAT_REQUIRE_NODE=1, as make test sets).
func nodeWithHyparquet(t *testing.T) (node, modules string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("BIBSTAT_REQUIRE_NODE") == "1" {
			t.Fatalf("%s (BIBSTAT_REQUIRE_NODE=1; run .ci/install-hyparquet)", why)
		}
		t.Skipf("%s: the lake is not read by an outside reader here (make test installs it: .ci/install-hyparquet)", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node on PATH")
	}
	modules = filepath.Join(hyparquetDir(), "node_modules")
	for _, pkg := range []string{"hyparquet", "hyparquet-compressors"} {
		if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
			missing(pkg + " not installed in " + modules)
		}
	}
	return node, modules
}

// readLake runs lakeSums over the lake under root.
func readLake(t *testing.T, root string) lakeRead {
	t.Helper()
	node, modules := nodeWithHyparquet(t)
	dir := t.TempDir()
	// node resolves 'hyparquet' from the script's folder up: give it one.
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "lake-sums.mjs")
	if err := os.WriteFile(script, []byte(lakeSums), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, root)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("hyparquet read the lake: %v\n%s", err, stderr.String())
	}
	var got lakeRead
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("hyparquet's answer: %v\n%s", err, b)
	}
	return got
}

type lakeRead struct {
	Version int `json:"version"`
	Tables  map[string]struct {
		Rows     int64             `json:"rows"`
		Files    int               `json:"files"`
		Sums     map[string]string `json:"sums"`
		Nulls    map[string]int64  `json:"nulls"`
		Physical map[string]string `json:"physical"`
	} `json:"tables"`
}

// physicalOf is the Parquet type (physical/converted) each DuckDB type of
// the marts is written as: the schema file's types must be the files'.
var physicalOf = map[string]string{
	"VARCHAR": "BYTE_ARRAY/UTF8", "BIGINT": "INT64/INT_64", "DOUBLE": "DOUBLE", "DATE": "INT32/DATE", "INTEGER": "INT32",
}

func TestLakeReadByAnOutsideReader(t *testing.T) {
	ctx := context.Background()
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	if _, err := w.Update(ctx, world(t)); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dst, err := store.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Export(ctx, dst); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(LakeSchemaKey)))
	if err != nil {
		t.Fatal(err)
	}
	var schema LakeSchema
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Version != LakeVersion || len(schema.Tables) != len(Marts) {
		t.Fatalf("schema file: version %d, %d tables; want %d, %d", schema.Version, len(schema.Tables), LakeVersion, len(Marts))
	}

	got := readLake(t, root)
	var nonEmpty int
	for _, table := range schema.Tables {
		g, ok := got.Tables[table.Name]
		if !ok {
			t.Errorf("%s: not read", table.Name)
			continue
		}
		if want := query[int64](t, w.DB, "SELECT count(*) FROM "+table.Name); g.Rows != want {
			t.Errorf("%s: hyparquet read %d rows, the mart has %d", table.Name, g.Rows, want)
		}
		if g.Rows > 0 {
			nonEmpty++
		}
		for _, c := range table.Columns {
			if p, ok := physicalOf[c.Type]; ok && g.Files > 0 && g.Physical[c.Name] != p {
				t.Errorf("%s.%s: schema says %s, the files hold %s", table.Name, c.Name, c.Type, g.Physical[c.Name])
			}
			checkColumn(t, w, table.Name, c, g.Sums[c.Name], g.Nulls[c.Name])
		}
	}
	if nonEmpty < 4 {
		t.Errorf("only %d marts have rows: the test compares less than it says", nonEmpty)
	}
}

// checkColumn compares the outside reader's sum and nulls of a numeric
// column with the mart's: whole numbers exactly, others to 1e-9 relative
// (sums of doubles depend on their order).
func checkColumn(t *testing.T, w *Warehouse, table string, c LakeColumn, sum string, nulls int64) {
	t.Helper()
	col := `"` + c.Name + `"`
	if c.Name == "period" {
		return // checked against its partition by the script
	}
	switch {
	case c.Type == "BIGINT" || c.Type == "INTEGER":
		want := query[string](t, w.DB, fmt.Sprintf("SELECT coalesce(sum(%s)::VARCHAR, '') FROM %s", col, table))
		if sum != want {
			t.Errorf("%s.%s: hyparquet sums %q, the mart %q", table, c.Name, sum, want)
		}
	case c.Type == "DOUBLE" || strings.HasPrefix(c.Type, "DECIMAL"):
		want := query[float64](t, w.DB, fmt.Sprintf("SELECT coalesce(sum(%s)::DOUBLE, 0) FROM %s", col, table))
		g, err := strconv.ParseFloat(sum, 64)
		if sum == "" {
			g, err = 0, nil
		}
		if err != nil || math.Abs(g-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s.%s: hyparquet sums %q, the mart %v", table, c.Name, sum, want)
		}
	default:
		return
	}
	if want := query[int64](t, w.DB, fmt.Sprintf("SELECT count(*) - count(%s) FROM %s", col, table)); nulls != want {
		t.Errorf("%s.%s: hyparquet finds %d nulls, the mart %d", table, c.Name, nulls, want)
	}
}

// TestLakeSchemaNamesHiveTypes: every column the schema file lists has a
// Hive type an engine can declare, and the partition keys come last.
func TestLakeSchemaNamesHiveTypes(t *testing.T) {
	for duck, hive := range map[string]string{"VARCHAR": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE",
		"INTEGER": "INT", "DECIMAL(18,6)": "DECIMAL(18,6)", "INTERVAL": "STRING"} {
		if got := hiveType(duck); got != hive {
			t.Errorf("hiveType(%s) = %s, want %s", duck, got, hive)
		}
	}
	if lakePartitions[0].Name != "year" || lakePartitions[1].Name != "month" || !strings.HasPrefix(LakeSchemaKey, bibstat.CuratedPrefix) {
		t.Errorf("partitions %v, schema key %s", lakePartitions, LakeSchemaKey)
	}
}
