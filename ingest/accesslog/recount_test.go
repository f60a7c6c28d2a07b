package accesslog_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
	"github.com/bibliotek24/bibstat/internal/store"
)

// TestRecountOfSplitLogs: a generated log ingested as several files —
// contiguous pieces given newest first, or shuffled lines — recounts to the
// generator's truth, month by month, through the archived events alone.
func TestRecountOfSplitLogs(t *testing.T) {
	o := accesslogsim.Default()
	o.Sessions = 200
	var log bytes.Buffer
	truth, err := accesslogsim.Generate(&log, o)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(log.String(), "\n")
	for name, split := range map[string]func() []string{
		"pieces newest first": func() []string {
			var files []string
			for i := 0; i < len(lines); i += len(lines)/4 + 1 {
				files = append(files, strings.Join(lines[i:min(len(lines), i+len(lines)/4+1)], ""))
			}
			slices.Reverse(files)
			return files
		},
		"shuffled lines": func() []string {
			sh := slices.Clone(lines)
			rand.New(rand.NewPCG(3, 4)).Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
			h := len(sh) / 2
			return []string{strings.Join(sh[:h], ""), strings.Join(sh[h:], "")}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			in := simIngester(t, store.NewMemory())
			dir := t.TempDir()
			months := map[bibstat.Month]bool{}
			for i, body := range split() {
				p := filepath.Join(dir, fmt.Sprintf("proxy-%d.log", i))
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				_, ms, err := in.IngestFile(ctx, p, "proxy")
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					months[m] = true
				}
			}
			got := map[accesslog.UnitKey]accesslog.Counts{}
			for m := range months {
				units, err := in.Recount(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range units {
					got[u.Unit] = u.Counts
				}
			}
			if len(got) != len(truth.Units) {
				t.Errorf("%d units, want %d", len(got), len(truth.Units))
			}
			for u, want := range truth.Units {
				if got[u] != want {
					t.Errorf("%v = %v, want %v", u, got[u], want)
				}
			}
		})
	}
}

func simIngester(t *testing.T, st store.Store) *accesslog.Ingester {
	t.Helper()
	cfg, err := accesslog.ParseConfig(strings.NewReader(accesslogsim.ConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := accesslog.NewKeyring(bytes.Repeat([]byte{5}, 32))
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		t.Fatal(err)
	}
	return &accesslog.Ingester{Store: st, Config: cfg, Keys: keys, Robots: robots}
}
