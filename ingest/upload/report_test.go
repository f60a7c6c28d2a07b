package upload

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/store"
)

// TestIngestFilesReports: each file's outcome is written with a blank line
// after it, a rejected file is reported as such, and a missing file stops.
func TestIngestFilesReports(t *testing.T) {
	ctx := context.Background()
	in := &Ingester{Store: store.NewMemory(), By: "kari", Now: clock()}
	var out strings.Builder
	rejected, err := in.IngestFiles(ctx, &out, []string{"../../testdata/upload/pr_2025.json", "../../testdata/upload/queued_1011.json"},
		File{Vendor: "avis"})
	if err != nil || !rejected {
		t.Fatalf("rejected %v, %v; want a rejected file and no error", rejected, err)
	}
	if !strings.HasPrefix(out.String(), "pr_2025.json: loaded\n") || !strings.Contains(out.String(), "\n\nqueued_1011.json: rejected\n") ||
		!strings.HasSuffix(out.String(), "\n\n") {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := in.IngestFiles(ctx, &out, []string{"../../testdata/upload/none.json"}, File{Vendor: "avis"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestIngestInboxEmpty(t *testing.T) {
	in := &Ingester{Store: store.NewMemory(), By: "kari", Now: clock()}
	var out strings.Builder
	if rejected, err := in.IngestInbox(context.Background(), &out); rejected || err != nil || out.String() != "inbox: nothing to do\n" {
		t.Errorf("rejected %v, %v, output %q", rejected, err, out.String())
	}
}
