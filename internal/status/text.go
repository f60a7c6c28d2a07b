package status

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
)

// stateMarks are the one-letter codes of the text matrix; "" is a unit
// never harvested. "0" is zero only: a failed unit is "F" and listed
// below the matrix with its reason.
var stateMarks = map[bibstat.State]string{
	"": "-", bibstat.StateCredentialsBroken: "C", bibstat.StateFailed: "F", bibstat.StateThrottled: "t",
	bibstat.StateQueued: "q", bibstat.StateNotReady: "n", bibstat.StateUnsupported: "u", bibstat.StatePartial: "p",
	bibstat.StateZero: "0", bibstat.StateOK: ".",
}

// mark is the code of a cell's worst state.
func mark(c ledger.GridCell) string {
	st, ok := c.Worst()
	if !ok {
		return " "
	}
	if m, ok := stateMarks[st]; ok {
		return m
	}
	return "?"
}

// stateName is how the text names a state; "" is never harvested.
func stateName(st bibstat.State) string {
	if st == "" {
		return Never
	}
	return string(st)
}

// WriteText writes the report as "bibstat status" prints it: the totals,
// the matrix of each cell's worst state, then the failed units with their
// reason and the other units missing or not final, at most limit of each.
func (rep Report) WriteText(w io.Writer, limit int) error {
	bw := bufio.NewWriter(w)
	rep.writeText(bw, limit)
	return bw.Flush()
}

func (rep Report) writeText(w io.Writer, limit int) {
	fmt.Fprintf(w, "ledger %s", rep.Ledger)
	if rep.From != "" {
		fmt.Fprintf(w, ", months %s to %s", rep.From, rep.To)
	}
	fmt.Fprintln(w)
	g := rep.Grid()
	var parts []string
	total := 0
	for _, st := range append([]bibstat.State{""}, bibstat.States()...) {
		n := g.Totals[st]
		total += n
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", stateName(st), n))
		}
	}
	fmt.Fprintf(w, "units: %d  %s\n", total, strings.Join(parts, " "))
	if len(g.Rows) == 0 {
		fmt.Fprintln(w, "nothing harvested yet")
	} else {
		printMatrix(w, g)
		rep.printProblems(w, limit)
	}
	rep.printUnmapped(w, limit)
}

// printMatrix prints one line per library × platform, one mark per month.
func printMatrix(w io.Writer, g ledger.Grid) {
	fmt.Fprintf(w, "\nmatrix (%s to %s): . ok  0 zero  p partial  n not_ready  q queued  t throttled  u unsupported  C credentials_broken  F failed  - never\n", g.Months[0], g.Months[len(g.Months)-1])
	complete := 0
	for _, r := range g.Rows {
		var line strings.Builder
		good := true
		for _, c := range r.Cells {
			mk := mark(c)
			if mk != "." && mk != "0" {
				good = false
			}
			line.WriteString(mk)
		}
		if good {
			complete++
			if len(g.Rows) > 200 {
				continue // a large matrix lists only incomplete rows
			}
		}
		fmt.Fprintf(w, "  %-8s %-16s %s\n", r.Library, r.Platform, line.String())
	}
	if len(g.Rows) > 200 {
		fmt.Fprintf(w, "  (%d complete library × platform rows not shown; --library or --platform to see them)\n", complete)
	}
	fmt.Fprintf(w, "complete: %d of %d library × platform rows\n", complete, len(g.Rows))
}

// maxReason is how much of a reason a text line shows; --json has it whole.
const maxReason = 160

// printProblems lists the failed units with their reason, then the other
// units that are missing or not final, at most limit of each.
func (rep Report) printProblems(w io.Writer, limit int) {
	var failed, other []string
	nf, no := 0, 0
	for _, c := range rep.Cells {
		for _, p := range c.Problems {
			if p.State == bibstat.StateFailed {
				nf++
				if len(failed) < limit {
					failed = append(failed, fmt.Sprintf("  %s %s %s %s: %s", c.Library, c.Platform, p.Report, c.Month, truncate(p.Reason, maxReason)))
				}
				continue
			}
			no++
			if len(other) >= limit {
				continue
			}
			next := ""
			if p.NextAttempt != nil {
				next = " next " + p.NextAttempt.Format("2006-01-02 15:04Z")
			}
			other = append(other, fmt.Sprintf("  %s %s %s/%s %s: %s%s — %s", c.Library, c.Platform, p.Credential, p.Report, c.Month,
				stateName(p.State), next, truncate(p.Reason, maxReason)))
		}
	}
	printList(w, "failed", nf, failed)
	printList(w, "missing or not final", no, other)
}

func printList(w io.Writer, title string, n int, lines []string) {
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s: %d units\n%s\n", title, n, strings.Join(lines, "\n"))
	if n > len(lines) {
		fmt.Fprintf(w, "  … and %d more (--limit, or --json for all)\n", n-len(lines))
	}
}

// truncate cuts s to at most n runes on one line, marking the cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
