package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Inbox folders under inbox/<vendor>/ that hold processed files.
const (
	DoneDir     = bibstat.InboxDoneDir
	RejectedDir = bibstat.InboxRejectedDir
	// ReasonSuffix names the readable note written next to a processed file.
	ReasonSuffix = bibstat.InboxReasonSuffix
)

// InboxResult is what ProcessInbox did with one dropped file.
type InboxResult struct {
	Key     string // inbox/<vendor>/<name>
	MovedTo string // inbox/<vendor>/done/<name> or …/rejected/<name>; "" in a dry run
	Outcome *Outcome
}

// ProcessInbox ingests every file dropped directly under inbox/<vendor>/
// and moves it to inbox/<vendor>/done/ or inbox/<vendor>/rejected/, with a
// <name>.reason.txt beside it saying what happened. One file failing never
// stops the others; store errors are joined and returned. In a dry run
// nothing is archived or moved.
func ProcessInbox(ctx context.Context, st Store, in *Ingester) ([]InboxResult, error) {
	keys, err := st.List(ctx, bibstat.InboxPrefix)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	var results []InboxResult
	var errs []error
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		vendor, name, ok := inboxFile(key)
		if !ok {
			continue
		}
		res, err := processOne(ctx, st, in, key, vendor, name)
		if err != nil {
			if ctx.Err() != nil {
				return results, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

// inboxFile splits inbox/<vendor>/<name>; files in subfolders (done/,
// rejected/, anything else) and reason notes are not new arrivals.
func inboxFile(key string) (vendor, name string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, bibstat.InboxPrefix), "/")
	if len(parts) != 2 || parts[1] == "" || strings.HasSuffix(parts[1], ReasonSuffix) || strings.HasPrefix(parts[1], ".") {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func processOne(ctx context.Context, st Store, in *Ingester, key, vendor, name string) (InboxResult, error) {
	res := InboxResult{Key: key}
	lim := in.Limits.OrDefault()
	rc, err := st.Get(ctx, key)
	if err != nil {
		return res, fmt.Errorf("inbox %s: %w", key, err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, lim.MaxFileBytes+1))
	rc.Close()
	if err != nil {
		return res, fmt.Errorf("inbox %s: %w", key, err)
	}
	var out *Outcome
	if bibstat.CheckSegment(vendor) != nil || strings.ToLower(vendor) != vendor {
		// The folder name cannot be a vendor id: reject rather than leave
		// the file to be retried every night.
		out = &Outcome{File: name, Vendor: vendor, Status: StatusRejected,
			Reason: fmt.Sprintf("folder %q is not a vendor id (lower-case letters, digits, '.', '_' or '-')", vendor)}
	} else if int64(len(data)) > lim.MaxFileBytes {
		out = &Outcome{File: name, Vendor: vendor, Status: StatusRejected,
			Reason: fmt.Sprintf("file is larger than %d bytes", lim.MaxFileBytes)}
	} else {
		out, err = in.Ingest(ctx, File{Name: name, Data: data, Vendor: vendor})
		if err != nil {
			return res, fmt.Errorf("inbox %s: %w", key, err)
		}
	}
	res.Outcome = out
	if in.DryRun {
		return res, nil
	}
	dir := DoneDir
	if out.Status == StatusRejected {
		dir = RejectedDir
	}
	dest, err := freeKey(ctx, st, bibstat.InboxDir(vendor, dir), name, in.now().Format("20060102T150405Z"))
	if err != nil {
		return res, err
	}
	// Copy, note, then delete: a crash leaves the file in the inbox to be
	// processed again (and found a duplicate), never lost.
	body := io.Reader(bytes.NewReader(data))
	if int64(len(data)) > lim.MaxFileBytes {
		// Only the start of a file over the limit was read to judge it; the
		// file itself moves whole, streamed, so the vendor's bytes are kept.
		rc, err := st.Get(ctx, key)
		if err != nil {
			return res, fmt.Errorf("inbox move %s: %w", key, err)
		}
		defer rc.Close()
		body = rc
	}
	if err := st.Put(ctx, dest, body); err != nil {
		return res, fmt.Errorf("inbox move %s: %w", key, err)
	}
	if err := st.Put(ctx, dest+ReasonSuffix, strings.NewReader(Explain(out))); err != nil {
		return res, fmt.Errorf("inbox note %s: %w", dest, err)
	}
	if err := st.Delete(ctx, key); err != nil {
		return res, fmt.Errorf("inbox delete %s: %w", key, err)
	}
	res.MovedTo = dest
	return res, nil
}

// freeKey returns dir+name, or dir+stamp-name when a file of that name was
// processed before (vendors reuse names like "statistikk.csv" monthly).
func freeKey(ctx context.Context, st Store, dir, name, stamp string) (string, error) {
	keys, err := st.List(ctx, dir+name)
	if err != nil {
		return "", fmt.Errorf("list %s: %w", dir, err)
	}
	for _, k := range keys {
		if k == dir+name {
			return dir + stamp + "-" + name, nil
		}
	}
	return dir + name, nil
}

// Explain writes an outcome for people: the reason file in the inbox and
// the CLI's output share it.
func Explain(o *Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", o.File, statusLine(o))
	if o.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", o.Reason)
	}
	fmt.Fprintf(&b, "vendor: %s\n", o.Vendor)
	if o.SHA256 != "" {
		fmt.Fprintf(&b, "sha256: %s (%d bytes)\n", o.SHA256, o.Size)
	}
	switch o.Kind {
	case "counter":
		fmt.Fprintf(&b, "read as: COUNTER %s release %s\n", strings.ToUpper(o.Report), o.Release)
	case "mapping":
		fmt.Fprintf(&b, "read as: mapping %s (report %s)\n", path.Base(o.Mapping), strings.ToUpper(o.Report))
	}
	if o.RawKey != "" {
		fmt.Fprintf(&b, "archived as: %s\n", o.RawKey)
	}
	if o.Status == StatusDuplicate || o.Status == StatusRejected {
		writeRejects(&b, o)
		return b.String()
	}
	if len(o.Months) > 0 {
		fmt.Fprintf(&b, "months: %s to %s\n", o.Months[0], o.Months[len(o.Months)-1])
	}
	fmt.Fprintf(&b, "rows: %d in %d units (library × month)\n", o.Rows, len(o.Units))
	if len(o.Totals) > 0 {
		b.WriteString("totals:\n")
		for _, lib := range slices.Sorted(maps.Keys(o.Totals)) {
			for _, metric := range slices.Sorted(maps.Keys(o.Totals[lib])) {
				fmt.Fprintf(&b, "  %-8s %-28s %12s\n", lib, metric, groupThousands(o.Totals[lib][metric]))
			}
		}
	}
	for _, w := range o.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	writeChanges(&b, o.Changes)
	writeRejects(&b, o)
	return b.String()
}

// writeChanges lists a dry run's units: what each would add or restate,
// its total old → new, and above all any usage that would become zero.
func writeChanges(b *strings.Builder, cs []Change) {
	if len(cs) == 0 {
		return
	}
	var adds, restates, toZero int
	for _, c := range cs {
		switch {
		case !c.Restate:
			adds++
		case c.OldTotal() > 0 && c.NewTotal() == 0:
			toZero++
			restates++
		default:
			restates++
		}
	}
	fmt.Fprintf(b, "would add %d units, restate %d", adds, restates)
	if toZero > 0 {
		fmt.Fprintf(b, " (%d of them from usage to zero)", toZero)
	}
	b.WriteString("\n")
	const show = 500
	for i, c := range cs {
		if i == show {
			fmt.Fprintf(b, "… and %d more units\n", len(cs)-show)
			break
		}
		what, old := "add    ", "-"
		if c.Restate {
			what, old = "restate", groupThousands(c.OldTotal())
		}
		fmt.Fprintf(b, "  %s %s %s %s: %s → %s", what, c.Library, c.Month, strings.ToUpper(c.Report), old, groupThousands(c.NewTotal()))
		if c.Restate && c.OldTotal() > 0 && c.NewTotal() == 0 {
			fmt.Fprintf(b, "  WARNING: usage becomes zero (now from %s)", c.OldFile)
		}
		b.WriteString("\n")
	}
}

func writeRejects(b *strings.Builder, o *Outcome) {
	const show = 50
	for i, r := range o.Rejected {
		if i == show {
			fmt.Fprintf(b, "… and %d more rejected cells\n", len(o.Rejected)-show)
			break
		}
		fmt.Fprintf(b, "rejected: %s\n", r)
	}
}

// groupThousands writes n as Norwegians read it: 12 345.
func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	r := strings.Join(out, " ")
	if neg {
		r = "-" + r
	}
	return r
}

func statusLine(o *Outcome) string {
	if !o.DryRun {
		return string(o.Status)
	}
	what := map[Status]string{StatusLoaded: "would be loaded", StatusPartial: "would be loaded without its rejected rows",
		StatusRejected: "would be rejected", StatusDuplicate: "is a duplicate, would be skipped"}[o.Status]
	return what + " (dry run: nothing stored)"
}
