package registry

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"github.com/bibliotek24/bibstat/internal/config"
)

func TestApplyShapes(t *testing.T) {
	entry := Entry{Status: New, Proposal: Proposal{RegistryID: "r1", Requires: []string{"customer_id"}, Notes: []string{"x: y"},
		Platform: config.Platform{ID: "ny", Name: "Ny: plattform #1", BaseURL: "https://ny.example/sushi", Release: "5.1"}}}
	newLines := "  # from the COUNTER Registry, id r1\n  # requires: customer_id\n  # x: y\n  - id: ny\n    name: 'Ny: plattform #1'\n    base_url: https://ny.example/sushi\n    release: \"5.1\"\n"
	tests := []struct {
		name, src, want string
		err             error
	}{
		{"empty file", "", "platforms:\n" + newLines, nil},
		{"no platforms", "# only a comment\nharvest:\n  spacing: 3s\n", "# only a comment\nharvest:\n  spacing: 3s\nplatforms:\n" + newLines, nil},
		{"platforms: []", "platforms: []   # none yet\nharvest:\n  spacing: 3s\n", "platforms:   # none yet\n" + newLines + "harvest:\n  spacing: 3s\n", nil},
		{"platforms: null", "platforms:\nharvest:\n  spacing: 3s\n", "platforms:\n" + newLines + "harvest:\n  spacing: 3s\n", nil},
		{"unindented list, CRLF", "platforms:\r\n- id: a\r\n  name: A\r\n  base_url: https://a.example\r\n  release: \"5\"\r\n",
			"platforms:\r\n- id: a\r\n  name: A\r\n  base_url: https://a.example\r\n  release: \"5\"\r\n" + strings.ReplaceAll(strings.ReplaceAll(newLines, "\n  ", "\n"), "\n", "\r\n")[2:], nil},
		{"flow list", "platforms: [{id: a, name: A, base_url: 'https://a.example', release: '5'}]\n", "", ErrEditByHand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply([]byte(tt.src), []Entry{entry})
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestApplyChanges(t *testing.T) {
	src := "platforms:\n  - id: a   # ours\n    name: \"Old \\\"A\\\"\"   # quoted\n    base_url: 'https://old.example/x'\n    release: 5 # plain\n"
	e := Entry{Status: Changed, Proposal: Proposal{Platform: config.Platform{ID: "a"}}, Changes: []Change{
		{"name", `Old "A"`, "Ærlig A"}, {"base_url", "https://old.example/x", "https://new.example/x"},
		{"release", "5", "5.1"}, {"platform_param", "", "aa"},
	}}
	got, err := Apply([]byte(src), []Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	want := "platforms:\n  - id: a   # ours\n    platform_param: aa\n    name: Ærlig A   # quoted\n    base_url: https://new.example/x\n    release: \"5.1\" # plain\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// A value Apply cannot place is refused, not half-written.
	bad := "platforms:\n  - id: a\n    name: >\n      folded\n      name\n    base_url: https://a.example\n    release: \"5\"\n"
	if _, err := Apply([]byte(bad), []Entry{e}); !errors.Is(err, ErrEditByHand) {
		t.Errorf("folded name: %v, want ErrEditByHand", err)
	}
	// Nor is an edit that leaves an invalid config.
	e.Changes = []Change{{"release", "5", "6"}}
	if _, err := Apply([]byte(src), []Entry{e}); err == nil || !strings.Contains(err.Error(), "would not load") {
		t.Errorf("invalid result: %v", err)
	}
}

// TestApplyKeepsVendorText: whatever the vendor calls a platform or writes
// in its notes, the entry Apply writes reads back with exactly the cleaned
// name, no extra keys, and every line of the old file still there.
func TestApplyKeepsVendorText(t *testing.T) {
	src := readFixture(t, "config.yaml")
	prop := func(name, note string) bool {
		p := Proposal{RegistryID: clean(note, 64), Requires: []string{"customer_id"}, Notes: []string{clean(note, maxNote)},
			Platform: config.Platform{ID: "vendor", Name: clean(name, maxName), BaseURL: "https://v.example/sushi", Release: "5"}}
		out, err := Apply(src, []Entry{{Proposal: p, Status: New}})
		if err != nil {
			t.Logf("name %q note %q: %v", name, note, err)
			return false
		}
		cfg := parseConfig(t, out)
		got, ok := cfg.Platform("vendor")
		return ok && got.Name == p.Platform.Name && len(cfg.Platforms) == 3 && keepsLines(string(src), string(out))
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 500}); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"\n- id: evil\n", "'", `"`, "a: b", "# c", "&anchor", "*alias", "!!int 5", "", "[x]", "{x: 1}"} {
		if !prop(s, s) {
			t.Errorf("%q is not kept", s)
		}
	}
}

// keepsLines reports whether every line of old is in new, in order.
func keepsLines(old, new string) bool {
	rest := strings.Split(new, "\n")
	for _, l := range strings.Split(old, "\n") {
		i := slices.Index(rest, l)
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
	return true
}
