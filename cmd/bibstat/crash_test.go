package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/store"
)

// crashKills is how many SIGKILLs TestCrashSafety delivers: 20 (what CI
// runs), 5 with -short, or BIBSTAT_CRASH_KILLS.
func crashKills(t *testing.T) int {
	if n, ok := envUint(t, "BIBSTAT_CRASH_KILLS"); ok {
		return int(n)
	}
	if testing.Short() {
		return 5
	}
	return 20
}

// crashSeed seeds TestCrashSafety's kill points: BIBSTAT_CRASH_SEED, to
// replay a run whose log gave it, or else the clock.
func crashSeed(t *testing.T) uint64 {
	if n, ok := envUint(t, "BIBSTAT_CRASH_SEED"); ok {
		return n
	}
	return uint64(time.Now().UnixNano())
}

func envUint(t *testing.T, name string) (uint64, bool) {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n, true
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binDir holds the bibstat binary once a test has built it.
var binDir string

// buildOnce builds the binary the first time a test asks for it, so that
// running only other tests (-run) builds nothing.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "bibstat-test-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "bibstat")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	return bin, cmd.Run()
})

// buildBibstat returns the binary, built once per test run.
func buildBibstat(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatalf("build bibstat: %v", err)
	}
	return bin
}

// runDemoProc runs `bibstat demo --out dir --spacing 1ms` to completion.
func runDemoProc(t *testing.T, bin, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, "demo", "--out", dir, "--spacing", "1ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestCrashSafety kills `bibstat demo` with SIGKILL at random points of its
// harvest, transform and report phases; after each kill a rerun completes
// with the marts of a clean run, no raw object is lost, no unit is ok
// without its raw object, and nothing partial is visible in the archive or
// the site.
func TestCrashSafety(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d; BIBSTAT_CRASH_SEED=%d replays its kill points", seed, seed)
	bin := buildBibstat(t)
	root := t.TempDir()
	clean := filepath.Join(root, "clean")
	start := time.Now()
	if out, err := runDemoProc(t, bin, clean); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	full := time.Since(start)
	want := martChecksums(t, filepath.Join(clean, "warehouse.duckdb"))
	t.Logf("clean run %v; marts %v", full.Round(time.Millisecond), want)

	tmp := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	kills := crashKills(t)
	rng := rand.New(rand.NewPCG(seed, 10))
	phases := map[string]int{}
	for i := range kills {
		dir := filepath.Join(root, fmt.Sprintf("kill%02d", i))
		// Delays over the whole run (startup, harvest, warehouse, report);
		// every fourth run is killed twice, the second time while resuming.
		n := 1
		if i%4 == 3 {
			n = 2
		}
		for k := range n {
			// A seed draws the same delays as fractions of the fastest
			// whole run, so a replay kills at about the same points.
			d := time.Duration(rng.Int64N(int64(full + full/5)))
			cmd := exec.Command(bin, "demo", "--out", dir, "--spacing", "1ms")
			// A killed process leaves its temporary files: in the test's folder, not the machine's.
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(d)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			phase := crashPhase(dir, err)
			phases[phase]++
			t.Logf("run %d kill %d after %v: %s", i, k, d.Round(time.Millisecond), phase)
		}
		// Delays follow the fastest whole run seen, so kills land inside it
		// on a loaded machine and an idle one alike.
		cold := filepath.Join(root, fmt.Sprintf("cold%02d", i))
		if i%5 == 0 {
			s := time.Now()
			if out, err := runDemoProc(t, bin, cold); err == nil {
				full = min(full, time.Since(s))
			} else {
				t.Fatalf("timing run: %v\n%s", err, out)
			}
			os.RemoveAll(cold)
		}
		if out, err := runDemoProc(t, bin, dir); err != nil {
			t.Fatalf("run %d: rerun after kill: %v\n%s", i, err, out)
		}
		if got := martChecksums(t, filepath.Join(dir, "warehouse.duckdb")); got != want {
			t.Errorf("run %d: marts after a kill and rerun differ from a clean run:\n got %v\nwant %v", i, got, want)
		}
		checkArchive(t, dir)
		checkSite(t, dir)
	}
	t.Logf("kills by phase: %v", phases)
}

// crashPhase guesses how far the killed run got, from what it left.
func crashPhase(dir string, waitErr error) string {
	if waitErr == nil {
		return "finished before the kill"
	}
	if _, err := os.Stat(filepath.Join(dir, "site", "index.html")); err == nil {
		return "report (or later)"
	}
	if _, err := os.Stat(filepath.Join(dir, "warehouse.duckdb")); err == nil {
		return "warehouse/report"
	}
	if _, err := os.Stat(filepath.Join(dir, "ledger.jsonl")); err == nil {
		return "harvest"
	}
	return "startup"
}

// martChecksums is an ordered checksum of each mart the site is built from.
func martChecksums(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var parts []string
	for _, m := range []string{"mart_library_month", "mart_county_month_current", "mart_national_month"} {
		var n int64
		var sum sql.NullString
		q := fmt.Sprintf(`SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM %s t`, m)
		if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d/%s", m, n, sum.String))
	}
	return strings.Join(parts, " ")
}

// checkArchive: every ledger entry's raw object and sidecar are in the
// archive, no unit is ok without them, List shows no temporary file, and
// every listed object is complete (sidecars parse, raw objects match their
// checksum, Parquet files have both magic numbers).
func checkArchive(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.NewLocal(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, k := range keys {
		listed[k] = true
		if strings.Contains(k, ".tmp-") {
			t.Errorf("List shows a temporary file %s", k)
		}
	}
	entries, err := ledger.ReadAll(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.State == bibstat.StateOK && e.RawKey == "" {
			t.Errorf("unit %s/%s/%s/%s is ok without a raw object", e.Platform, e.Credential, e.Report, e.Month)
		}
		if e.RawKey == "" {
			continue
		}
		if !listed[e.RawKey] || !listed[e.RawKey+bibstat.SidecarSuffix] {
			t.Errorf("ledger names %s (state %s) but the archive lacks it or its sidecar", e.RawKey, e.State)
		}
	}
	read := func(k string) []byte {
		b, err := os.ReadFile(filepath.Join(st.Root(), filepath.FromSlash(k)))
		if err != nil {
			t.Errorf("%s: %v", k, err)
		}
		return b
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, bibstat.SidecarSuffix) {
			if strings.HasSuffix(k, ".parquet") {
				b := read(k)
				if len(b) < 8 || string(b[:4]) != "PAR1" || string(b[len(b)-4:]) != "PAR1" {
					t.Errorf("%s: an incomplete Parquet file (%d bytes)", k, len(b))
				}
			}
			continue
		}
		var side bibstat.Sidecar
		if err := json.Unmarshal(read(k), &side); err != nil {
			t.Errorf("%s: sidecar does not parse: %v", k, err)
			continue
		}
		raw := strings.TrimSuffix(k, bibstat.SidecarSuffix)
		if side.SHA256 == "" || !listed[raw] {
			continue // an upload unit's sidecar names no object of its own
		}
		sum := sha256.Sum256(read(raw))
		if hex.EncodeToString(sum[:]) != side.SHA256 {
			t.Errorf("%s: raw object does not match its sidecar's checksum", raw)
		}
		if side.ParsedKey != "" && !listed[side.ParsedKey] {
			t.Errorf("%s: sidecar names parsed %s, which is missing", k, side.ParsedKey)
		}
	}
	// Temporary files left by a kill: invisible to List, but count them.
	var left []string
	filepath.WalkDir(filepath.Join(dir, "archive"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Logf("%s: %d temporary files left in the archive by the kill (hidden from List)", filepath.Base(dir), len(left))
	}
}

// checkSite: no temporary file in the site a web server would serve, and
// the index is complete HTML.
func checkSite(t *testing.T, dir string) {
	t.Helper()
	site := filepath.Join(dir, "site")
	filepath.WalkDir(site, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk site: %v", err)
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("site serves a temporary file %s", p)
		}
		if !d.IsDir() && strings.HasSuffix(p, ".html") {
			b, err := os.ReadFile(p)
			if err != nil || !bytes.Contains(b, []byte("</html>")) {
				t.Errorf("%s: an incomplete page (%d bytes, %v)", p, len(b), err)
			}
		}
		return nil
	})
}

// TestWarehouseLocked: while another process holds the warehouse, demo
// fails with an error naming the file and the lock, changes nothing, and
// succeeds once the lock is released.
func TestWarehouseLocked(t *testing.T) {
	bin := buildBibstat(t)
	dir := filepath.Join(t.TempDir(), "demo")
	if out, err := runDemoProc(t, bin, dir); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "warehouse.duckdb")
	before := martChecksums(t, path)

	helper := exec.Command(os.Args[0], "-test.run=^TestHoldWarehouse$")
	helper.Env = append(os.Environ(), "BIBSTAT_HOLD_WAREHOUSE="+path)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	sc := bufio.NewScanner(stdout)
	held := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "holding") {
			held = true
			break
		}
	}
	if !held {
		t.Fatal("the helper did not open the warehouse")
	}
	go io.Copy(io.Discard, stdout)

	for _, args := range [][]string{{"demo", "--out", dir, "--spacing", "1ms"}, {"transform", "--archive", filepath.Join(dir, "archive"), "--warehouse", path}} {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		msg := out.String()
		t.Logf("%s while locked: %v: %s", args[0], err, strings.TrimSpace(msg))
		if err == nil {
			t.Errorf("%s succeeded while another process held %s", args[0], path)
			continue
		}
		if !strings.Contains(msg, "warehouse.duckdb") || !strings.Contains(strings.ToLower(msg), "lock") {
			t.Errorf("%s: error %q: want it to name the file and the lock", args[0], msg)
		}
	}
	stdin.Close() // the helper lets go
	helper.Wait()

	if got := martChecksums(t, path); got != before {
		t.Errorf("marts changed while locked:\n got %s\nwant %s", got, before)
	}
	if out, err := runDemoProc(t, bin, dir); err != nil {
		t.Fatalf("rerun after release: %v\n%s", err, out)
	}
	if got := martChecksums(t, path); got != before {
		t.Errorf("marts after release differ:\n got %s\nwant %s", got, before)
	}
}

// TestHoldWarehouse is TestWarehouseLocked's helper process: it opens the
// warehouse read-write and holds it until its stdin closes.
func TestHoldWarehouse(t *testing.T) {
	path := os.Getenv("BIBSTAT_HOLD_WAREHOUSE")
	if path == "" {
		t.Skip("helper process of TestWarehouseLocked")
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM facts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	fmt.Println("holding", path, n)
	io.Copy(io.Discard, os.Stdin)
}
