package upload

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IngestFiles ingests the files at paths in turn, each as like does
// (vendor, platform, library), and writes each outcome to w for people
// (Explain, then a blank line; in a dry run the units it would add or
// restate). It reports whether any file was rejected; an error (an
// unreadable file, the store) stops it.
func (in *Ingester) IngestFiles(ctx context.Context, w io.Writer, paths []string, like File) (rejected bool, err error) {
	for _, name := range paths {
		f := like
		f.Name = filepath.Base(name)
		if f.Data, err = readFile(name); err != nil {
			return rejected, err
		}
		out, err := in.Ingest(ctx, f)
		if err != nil {
			return rejected, err
		}
		rejected = rejected || out.Status == StatusRejected
		fmt.Fprint(w, Explain(out))
		fmt.Fprintln(w)
	}
	return rejected, nil
}

// IngestInbox processes the inbox (ProcessInbox) and writes each file's
// outcome to w as IngestFiles does, with where the file went. It reports
// whether any file was rejected; the results are written even when
// ProcessInbox also returns an error.
func (in *Ingester) IngestInbox(ctx context.Context, w io.Writer) (rejected bool, err error) {
	results, err := ProcessInbox(ctx, in.Store, in)
	for _, r := range results {
		rejected = rejected || r.Outcome.Status == StatusRejected
		fmt.Fprint(w, Explain(r.Outcome))
		if r.MovedTo != "" {
			fmt.Fprintf(w, "moved to: %s\n", r.MovedTo)
		}
		fmt.Fprintln(w)
	}
	if len(results) == 0 && err == nil {
		fmt.Fprintln(w, "inbox: nothing to do")
	}
	return rejected, err
}

// readFile reads a file to upload, refusing one larger than the limit
// before reading it whole.
func readFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if fi.Size() > DefaultLimits.MaxFileBytes {
		return nil, fmt.Errorf("ingest %s: larger than %d bytes", name, DefaultLimits.MaxFileBytes)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return data, nil
}
