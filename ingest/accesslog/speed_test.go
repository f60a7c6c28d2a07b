package accesslog_test

import (
	"bytes"
	"context"
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
	for b.Loop() {
		if _, err := rd.Read(context.Background(), "b", bytes.NewReader(log), func(*accesslog.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
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
	b.ReportMetric(float64(len(evs)), "events")
	for b.Loop() {
		c := accesslog.NewCounter(2 * time.Hour)
		for i := range evs {
			if err := c.Add(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		c.Finish()
	}
}
