package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
)

// WriteSummary writes what a harvest did: units fetched by state, skipped
// by reason, deferred.
func WriteSummary(w io.Writer, sum ingest.Summary, took time.Duration) {
	fmt.Fprintf(w, "fetched %d units (%d requests, %d hosts, %.1f MB) in %s%s\n", sum.Fetched, sum.Requests, sum.Hosts,
		float64(sum.Bytes)/1e6, took.Round(time.Millisecond), FormatStates(sum.States))
	if sum.Skipped > 0 {
		var parts []string
		for _, r := range []string{ingest.SkipFinal, ingest.SkipNotDue, ingest.SkipGaveUp, ingest.SkipUnsupported, ingest.SkipBroken} {
			if n := sum.SkipReasons[r]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", r, n))
			}
		}
		fmt.Fprintf(w, "skipped %d units: %s\n", sum.Skipped, strings.Join(parts, " "))
	}
	if sum.Deferred > 0 {
		fmt.Fprintf(w, "deferred to the next run: %d units (host throttling or credentials broken during the run)\n", sum.Deferred)
	}
}

// FormatStates is ": state=n …", sorted, or "" when there are none.
func FormatStates(states map[bibstat.State]int) string {
	if len(states) == 0 {
		return ""
	}
	var parts []string
	for s, n := range states {
		parts = append(parts, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, " ")
}
