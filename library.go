package bibstat

import (
	"fmt"
	"strings"
)

// LibraryID is a Norwegian library number (biblioteknummer, bibnr): seven
// digits, the first 2 for public and county libraries, 3 for upper-secondary
// schools. The digits after the first once held a municipality number, but
// municipalities were renumbered since: never derive a municipality from it.
type LibraryID string

// ParseLibraryID accepts "2030100", "NO-2030100" or "ISIL:NO-2030100".
func ParseLibraryID(s string) (LibraryID, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "ISIL:"), "isil:")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "NO-"), "no-")
	if len(t) != 7 || t[0] < '1' || t[0] > '9' {
		return "", fmt.Errorf("library number %q: want 7 digits", s)
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("library number %q: want 7 digits", s)
		}
	}
	return LibraryID(t), nil
}

// ISIL is the library's ISIL, "NO-" followed by the library number.
func (l LibraryID) ISIL() string { return "NO-" + string(l) }
