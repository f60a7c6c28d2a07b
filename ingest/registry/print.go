package registry

import (
	"fmt"
	"io"
	"strings"
)

// Print writes the diff for a person: one line per platform with its
// status, then the fields it would write or change, what it requires and
// its notes; warnings and a count last.
func Print(w io.Writer, entries []Entry, warnings []string) {
	count := map[Status]int{}
	for _, e := range entries {
		count[e.Status]++
		p := e.Platform
		head := fmt.Sprintf("%s %s: %s", e.Status, p.ID, p.Name)
		switch e.Status {
		case Skipped:
			fmt.Fprintf(w, "%s: %s\n", head, e.Problem)
			continue
		case Unchanged:
			fmt.Fprintln(w, head)
			continue
		}
		fmt.Fprintln(w, head)
		if e.Status == New {
			fmt.Fprintf(w, "    base_url: %s\n    release: %q\n", p.BaseURL, p.Release)
			if p.PlatformParam != "" {
				fmt.Fprintf(w, "    platform_param: %s\n", p.PlatformParam)
			}
		}
		for _, c := range e.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", c.Field, orNone(c.Old), orNone(c.New))
		}
		fmt.Fprintf(w, "    requires: %s\n", strings.Join(e.Requires, ", "))
		for _, n := range e.Notes {
			fmt.Fprintf(w, "    note: %s\n", n)
		}
	}
	for _, s := range warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	fmt.Fprintf(w, "%d from the registry: %d new, %d changed, %d unchanged, %d without a usable SUSHI service\n",
		len(entries), count[New], count[Changed], count[Unchanged], count[Skipped])
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
