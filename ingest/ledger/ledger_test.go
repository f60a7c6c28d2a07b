package ledger

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

func entry(month string, state bibstat.State) Entry {
	return Entry{Platform: "p", Credential: "2030100", Report: "pr", Month: month, State: state}
}

func TestReplayKeepsLatestAndSurvivesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{entry("2025-01", bibstat.StateQueued), entry("2025-01", bibstat.StateOK), entry("2025-02", bibstat.StateFailed)} {
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	// A crash mid-append leaves half a line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte(`{"platform":"p","credential":"2030100","rep`))
	f.Close()

	l, err = Open(path)
	if err != nil {
		t.Fatalf("reopen after torn line: %v", err)
	}
	defer l.Close()
	if got := len(l.All()); got != 2 {
		t.Fatalf("%d units, want 2", got)
	}
	e, ok := l.Get(entry("2025-01", "").Unit())
	if !ok || e.State != bibstat.StateOK {
		t.Fatalf("2025-01 = %+v, want ok", e)
	}
	// The torn line is gone: a new append replays cleanly.
	if err := l.Record(entry("2025-03", bibstat.StateZero)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after append: %v", err)
	}
	defer l2.Close()
	if got := len(l2.All()); got != 3 {
		t.Fatalf("%d units after append, want 3", got)
	}
}

func TestRecordRejectsBadUnit(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "l.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Record(Entry{Platform: "../x", Credential: "1", Report: "pr", Month: "2025-01"}); err == nil {
		t.Fatal("want error for a unit that could escape its prefix")
	}
}

func TestSyncIntervalCloseIsDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.SetSyncInterval(time.Hour)
	for _, m := range []string{"2025-01", "2025-02"} {
		if err := l.Record(entry(m, bibstat.StateOK)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	got, err := ReadAll(path)
	if err != nil || len(got) != 2 {
		t.Fatalf("after close: %d entries, %v", len(got), err)
	}
}
