package accesslog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
)

// nastyLines are combined lines at the edges of the format, each a case
// the fast reader handles apart from the common one.
var nastyLines = []string{
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://WWW.Avisarkiv.NO/article/7 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET http://www.avisarkiv.no:8443/article/7/pdf HTTP/1.1" 304 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://www.avisarkiv.no?x=1 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "POST https://bok.example.no/sok?q=a HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "HEAD https://bok.example.no/bok/B1 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/bok/B1 HTTP/1.1" +200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/bok/B1 HTTP/1.1" 0200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/bok/B1 HTTP/1.1" 2x0 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/bok/B1 HTTP/1.1" 99999999999999999999 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/bok/B1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0 \"quoted\" \\" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0 \" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +0100 "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:23:59:60 +0000] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:08:59:60 +0000] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:08:59:61 +0000] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [31/Feb/2026:10:00:00 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/jan/2026:10:00:00 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:00 +1500] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:0x +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [29/Jan/2026:23:30:01 -0930] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0 (compatible; bingbot/2.0)" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" NO-2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" "ISIL:NO-2180000"`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0"`,
	`10.0.0.1 - - [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 - kort2 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100 extra "more"`,
	`10.0.0.1 S9 - [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100` + "\r",
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://ukjent.example.com/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET ftp://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	`10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/search?q=1 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 2030100`,
	"", "   ", "-", `"`, `[`, `a "b" [c]`,
	"10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] \"GET https://bok.example.no/les/B2-K3 HTTP/1.1\" 200 1 \"-\" \"" + strings.Repeat("x", 70_000) + "\" 2030100",
	"10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] \"GET https://bok.example.no/les/B2-K3 HTTP/1.1\" 200 1 \"-\" \"" + strings.Repeat("y", 300_000) + "\" 2030100",
}

// TestFastReaderAgreesWithReference: the Reader gives the same events,
// stats and bad lines (by file and line) as the plain reference reader, and
// the Counter the same counts as the reference batch count, on generated
// logs (double clicks, robots, malformed lines) with edge cases mixed in,
// read in blocks of several sizes.
func TestFastReaderAgreesWithReference(t *testing.T) {
	cfg, err := accesslog.ParseConfig(strings.NewReader(accesslogsim.ConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("proxy")
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{3}, 32)
	for _, seed := range []uint64{1, 2} {
		o := accesslogsim.Default()
		o.Seed, o.Sessions, o.Doubles, o.Bad, o.Robots = seed, 3000, 4, 1, 1
		var log bytes.Buffer
		if _, err := accesslogsim.Generate(&log, o); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(log.String(), "\n")
		// Spread through the log (across blocks) where it is at their time,
		// 30 Jan 09:00 UTC, so that no window makes them late.
		mid := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "[30/Jan/2026:10:") })
		for i, n := range nastyLines {
			at := mid - 400 + (i*7919+int(seed))%800
			lines = slices.Insert(lines, at, n+"\n")
		}
		// Lines of exactly the longest length read (with the newline), and one byte more.
		pre := `10.0.0.1 S1 kort1 [30/Jan/2026:10:00:01 +0100] "GET https://bok.example.no/les/B2-K3 HTTP/1.1" 200 1 "-" "`
		suf := "\" 2030100\n"
		for _, extra := range []int{0, 1} {
			lines = slices.Insert(lines, mid+extra, pre+"bot"+strings.Repeat("z", 65536-len(pre)-len(suf)-3+extra)+suf)
		}
		body := []byte(strings.Join(lines, "") + nastyLines[0]) // the last line without a newline
		wantEv, wantSt := accesslog.RefRead(cfg, src, key, robots, "f.log", body)
		if wantSt.Robots == 0 || wantSt.Bad < 20 || wantSt.Ignored == 0 || wantSt.Events < 1000 {
			t.Fatalf("seed %d: the log lacks noise: %+v", seed, wantSt)
		}
		wantCounts := accesslog.RefCount(wantEv)
		for _, block := range []int{0, 65537, 200_000} {
			keys, _ := accesslog.NewKeyring(key)
			rd := accesslog.NewReader(cfg, src, keys, robots)
			accesslog.SetBlockSize(rd, block)
			c0, cw := accesslog.NewCounter(0), accesslog.NewCounter(2*time.Hour)
			var got []accesslog.Event
			st, err := rd.Read(context.Background(), "f.log", bytes.NewReader(body), func(ev *accesslog.Event) error {
				got = append(got, *ev)
				if err := cw.Add(ev); err != nil {
					return fmt.Errorf("event %d at %v: %w", len(got), ev.Time, err)
				}
				return c0.Add(ev)
			})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("seed %d block %d", seed, block)
			compareStats(t, name, st, wantSt)
			if len(got) != len(wantEv) {
				t.Fatalf("%s: %d events, want %d", name, len(got), len(wantEv))
			}
			for i := range got {
				if got[i] != wantEv[i] {
					t.Fatalf("%s: event %d = %+v, want %+v", name, i, got[i], wantEv[i])
				}
			}
			for what, c := range map[string]*accesslog.Counter{"window 0": c0, "window 2h": cw} {
				compareCounts(t, name+" "+what, c.Finish(), wantCounts)
			}
		}
	}
}

// TestFastReaderAgreesOnJSONLines: the same for the single sign-on's lines,
// with lines that are JSON but not objects, and a URL event.
func TestFastReaderAgreesOnJSONLines(t *testing.T) {
	cfg := testConfig(t)
	src, _ := cfg.Source("sso")
	body, err := os.ReadFile("testdata/sso.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, "null\n[1]\n{\"ts\":\"2026-03-15T09:00:00Z\",\"sub\":\"u-2\",\"home_library\":\"2030100\",\"url\":\"https://www.avisarkiv.no/article/3\",\"ua\":\"x\"}\n"...)
	if n := readersAgree(t, cfg, src, bytes.Repeat([]byte{4}, 32), "sso", body); n == 0 {
		t.Fatal("no events: the comparison would prove nothing")
	}
}

// readersAgree reads data with the Reader and the reference reader, fails
// t where their events or stats differ, and says how many events there were.
func readersAgree(t *testing.T, cfg *accesslog.Config, src *accesslog.Source, key []byte, name string, data []byte) int {
	t.Helper()
	robots, _ := accesslog.COUNTERRobots()
	wantEv, wantSt := accesslog.RefRead(cfg, src, key, robots, name, data)
	keys, _ := accesslog.NewKeyring(key)
	var got []accesslog.Event
	st, err := accesslog.NewReader(cfg, src, keys, robots).Read(context.Background(), name, bytes.NewReader(data), func(ev *accesslog.Event) error {
		got = append(got, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	compareStats(t, name, st, wantSt)
	if !slices.Equal(got, wantEv) {
		t.Fatalf("events %+v, want %+v", got, wantEv)
	}
	return len(got)
}

func compareStats(t *testing.T, name string, got, want accesslog.Stats) {
	t.Helper()
	if got.Lines != want.Lines || got.Events != want.Events || got.Robots != want.Robots || got.Ignored != want.Ignored || got.Bad != want.Bad {
		t.Errorf("%s: lines %d events %d robots %d ignored %d bad %d, want %d %d %d %d %d", name, got.Lines, got.Events, got.Robots,
			got.Ignored, got.Bad, want.Lines, want.Events, want.Robots, want.Ignored, want.Bad)
	}
	for i := range max(len(got.BadLines), len(want.BadLines)) {
		if i >= len(got.BadLines) || i >= len(want.BadLines) || got.BadLines[i] != want.BadLines[i] {
			t.Errorf("%s: %d bad lines listed, want %d; the first to differ is number %d", name, len(got.BadLines), len(want.BadLines), i+1)
			break
		}
	}
}

func compareCounts(t *testing.T, name string, got, want map[accesslog.UnitKey]accesslog.Counts) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d units, want %d", name, len(got), len(want))
	}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("%s: %v = %v, want %v", name, u, got[u], w)
		}
	}
}

// FuzzReaderAgrees: on any input the Reader and the reference reader give
// the same events, stats and bad lines.
func FuzzReaderAgrees(f *testing.F) {
	for _, l := range nastyLines[:30] {
		f.Add([]byte(l + "\n" + l))
	}
	cfg, err := accesslog.ParseConfig(strings.NewReader(accesslogsim.ConfigYAML))
	if err != nil {
		f.Fatal(err)
	}
	src, _ := cfg.Source("proxy")
	key := bytes.Repeat([]byte{3}, 32)
	f.Fuzz(func(t *testing.T, data []byte) {
		readersAgree(t, cfg, src, key, "f", data)
	})
}
