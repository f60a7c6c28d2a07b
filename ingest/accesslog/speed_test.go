package accesslog_test

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
)

// benchLog is a generated log shaped like bench logs': many patrons, about
// 2,000 sessions an hour.
func benchLog(b *testing.B) []byte {
	b.Helper()
	o := accesslogsim.Default()
	o.Sessions, o.Hours, o.Users = 20000, 10, 5000
	var log bytes.Buffer
	if _, err := accesslogsim.Generate(&log, o); err != nil {
		b.Fatal(err)
	}
	return log.Bytes()
}

func BenchmarkRead(b *testing.B) {
	log := benchLog(b)
	_, newReader := world(b)
	rd := newReader()
	b.SetBytes(int64(len(log)))
	cpu0, lines := cpuNanos(), int64(0)
	for b.Loop() {
		st, err := rd.Read(context.Background(), "b", bytes.NewReader(log), func(*accesslog.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		lines += st.Lines
	}
	b.ReportMetric(float64(cpuNanos()-cpu0)/float64(lines), "cpu-ns/line")
}

// cpuNanos is the process's CPU time: on a shared machine, wall time
// measures the others' load.
func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkCount(b *testing.B) {
	log := benchLog(b)
	_, newReader := world(b)
	var evs []accesslog.Event
	if _, err := newReader().Read(context.Background(), "b", bytes.NewReader(log), func(ev *accesslog.Event) error {
		evs = append(evs, *ev)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	cpu0, n := cpuNanos(), 0
	for b.Loop() {
		n += len(evs)
		c := accesslog.NewCounter(2 * time.Hour)
		for i := range evs {
			if err := c.Add(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		c.Finish()
	}
	b.ReportMetric(float64(cpuNanos()-cpu0)/float64(n), "cpu-ns/event")
}
