package accesslog_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
)

// world reads the generator's config and a reader over it.
func world(t testing.TB) (*accesslog.Config, func() *accesslog.Reader) {
	t.Helper()
	cfg, err := accesslog.ParseConfig(strings.NewReader(accesslogsim.ConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		t.Fatal(err)
	}
	src, err := cfg.Source("proxy")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, func() *accesslog.Reader {
		keys, err := accesslog.NewKeyring(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		return accesslog.NewReader(cfg, src, keys, robots)
	}
}

// count reads every log in logs (in order) into one Counter.
func count(t testing.TB, newReader func() *accesslog.Reader, window time.Duration, logs ...[]byte) (map[accesslog.UnitKey]accesslog.Counts, accesslog.Stats) {
	t.Helper()
	c := accesslog.NewCounter(window)
	var all accesslog.Stats
	rd := newReader()
	for i, l := range logs {
		st, err := rd.Read(context.Background(), "log"+string(rune('a'+i)), bytes.NewReader(l), c.Add)
		if err != nil {
			t.Fatal(err)
		}
		all.Add(st)
	}
	return c.Finish(), all
}

func TestCountsMatchTheGeneratorsTruth(t *testing.T) {
	_, rd := world(t)
	for _, window := range []time.Duration{0, 2 * time.Hour} {
		var log bytes.Buffer
		truth, err := accesslogsim.Generate(&log, accesslogsim.Default())
		if err != nil {
			t.Fatal(err)
		}
		got, st := count(t, rd, window, log.Bytes())
		if st.Lines != truth.Lines || st.Events != truth.Events || st.Robots != truth.Robots || st.Ignored != truth.Ignored || st.Bad != truth.Bad {
			t.Errorf("window %v: lines %+v, want lines %d events %d robots %d ignored %d bad %d", window,
				st, truth.Lines, truth.Events, truth.Robots, truth.Ignored, truth.Bad)
		}
		if len(got) != len(truth.Units) {
			t.Errorf("window %v: %d units, want %d", window, len(got), len(truth.Units))
		}
		for u, want := range truth.Units {
			for i, m := range accesslog.Metrics {
				if got[u][i] != want[i] {
					t.Errorf("window %v: %v %s = %d, want %d", window, u, m, got[u][i], want[i])
				}
			}
		}
		if truth.Robots == 0 || truth.Bad == 0 || truth.Ignored == 0 || truth.Events == truth.Lines {
			t.Fatalf("the generated world lacks noise: %+v", truth)
		}
		for _, b := range st.BadLines {
			if strings.Contains(b.Reason, "kort") {
				t.Errorf("a bad line's reason quotes the line: %s", b)
			}
		}
	}
}

// TestCountsIgnoreOrderAndFiles: shuffling a log's lines, or splitting it
// into several files, counts the same.
func TestCountsIgnoreOrderAndFiles(t *testing.T) {
	_, rd := world(t)
	for seed := range uint64(8) {
		o := accesslogsim.Default()
		o.Seed, o.Sessions = seed+10, 150
		var log bytes.Buffer
		if _, err := accesslogsim.Generate(&log, o); err != nil {
			t.Fatal(err)
		}
		want, wantSt := count(t, rd, 0, log.Bytes())
		lines := strings.SplitAfter(log.String(), "\n")
		rng := rand.New(rand.NewPCG(seed, 9))
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		var files [][]byte
		for len(lines) > 0 {
			n := min(len(lines), 1+rng.IntN(len(lines)))
			files = append(files, []byte(strings.Join(lines[:n], "")))
			lines = lines[n:]
		}
		got, st := count(t, rd, 0, files...)
		if st.Events != wantSt.Events || st.Bad != wantSt.Bad || st.Robots != wantSt.Robots {
			t.Errorf("seed %d: stats %+v, want %+v", seed, st, wantSt)
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d units, want %d", seed, len(got), len(want))
		}
		for u, w := range want {
			if got[u] != w {
				t.Errorf("seed %d: %v = %v shuffled into %d files, want %v", seed, u, got[u], len(files), w)
			}
		}
	}
}
