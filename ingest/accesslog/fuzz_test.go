package accesslog_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
)

// FuzzRead: no input makes the readers panic, every line is exactly one
// outcome, and whatever is counted stays within the events read.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"testdata/ezproxy.log", "testdata/sso.jsonl"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("x - - [31/Feb/2026:10:00:00 +0100] \"GET https://www.avisarkiv.no/article/1 HTTP/1.1\" 200 1 \"-\" \"a b\" 2030100\n"))
	in := newIngesterF(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"ezproxy", "sso"} {
			src, _ := in.Config.Source(name)
			rd := accesslog.NewReader(in.Config, src, in.Keys, in.Robots)
			c := accesslog.NewCounter(time.Hour)
			st, err := rd.Read(context.Background(), "f", bytes.NewReader(data), func(ev *accesslog.Event) error {
				if err := c.Add(ev); err != nil && !errors.Is(err, accesslog.ErrLate) {
					return err
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Events+st.Robots+st.Ignored+st.Bad != st.Lines {
				t.Fatalf("%s: outcomes %+v do not add up to the lines", name, st)
			}
			var total int64
			for _, n := range c.Finish() {
				total += n.Get(accesslog.SearchesPlatform) + n.Get(accesslog.TotalItemInvestigations)
			}
			if total > st.Events {
				t.Fatalf("%s: %d counted from %d events", name, total, st.Events)
			}
		}
	})
}

func newIngesterF(f *testing.F) *accesslog.Ingester {
	cfg := testConfig(f)
	keys, _ := accesslog.NewKeyring(bytes.Repeat([]byte{1}, 32))
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		f.Fatal(err)
	}
	return &accesslog.Ingester{Config: cfg, Keys: keys, Robots: robots}
}
