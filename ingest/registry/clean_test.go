package registry

import (
	"strings"
	"testing"
	"testing/quick"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Access Engineering", 100, "Access Engineering"},
		{"  two\r\n\tlines  ", 100, "two lines"},
		{"bell\a nul\x00 bidi\u202eoverride", 100, "bell nul bidioverride"},
		{"bad \xff utf-8", 100, "bad utf-8"},
		{"line\u2028sep", 100, "line sep"},
		{"non\ufffecharacter\uffff", 100, "noncharacter"},
		{strings.Repeat("a", 20), 10, strings.Repeat("a", 9) + "…"},
		{strings.Repeat("a", 10), 10, strings.Repeat("a", 10)},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestCleanAlwaysSafe: whatever a vendor writes, what reaches a config
// comment or value is valid UTF-8 on one line, without control or format
// characters, bounded, and reads back from YAML as itself.
func TestCleanAlwaysSafe(t *testing.T) {
	safe := func(s string) bool {
		got := clean(s, maxNote)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > maxNote || strings.TrimSpace(got) != got {
			return false
		}
		for _, r := range got {
			if r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
				return false
			}
		}
		var back map[string]string
		err := yaml.Unmarshal([]byte("v: "+scalar("name", got)+" # "+got), &back)
		return err == nil && back["v"] == got
	}
	if err := quick.Check(safe, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"\n# injected: key\n", "\ufffe\uffff", "a\u0085b", "\u200b\ufeff", strings.Repeat("é\n", 1000)} {
		if !safe(s) {
			t.Errorf("clean(%q) = %q is not safe", s, clean(s, maxNote))
		}
	}
}

func TestSlugAndBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"Access Engineering":       "access-engineering",
		"Lydbokhylla Ærø & Søndre": "lydbokhylla-aero-and-sondre",
		"  Ünïcødé — Ltd. (2024) ": "unicode-ltd-2024",
		"日本語":                      "",
		strings.Repeat("abc ", 30): strings.TrimRight(strings.Repeat("abc-", 15), "-"),
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://c5sushi.mpsinsight.com/c5sushi/services":      "https://c5sushi.mpsinsight.com/c5sushi/services",
		"https://c5sushi.mpsinsight.com/c5sushi/services/r51/": "https://c5sushi.mpsinsight.com/c5sushi/services",
		"HTTPS://Example.org/counter/r51/reports/":             "https://example.org/counter",
		"https://example.org/counter/r5/":                      "https://example.org/counter/r5",
		"https://example.org/sushi/reports":                    "https://example.org/sushi",
		"https://example.org/#frag":                            "https://example.org",
		"ftp://example.org/sushi":                              "",
		"https:///nohost":                                      "",
		"https://u:p@example.org/":                             "",
		"https://example.org/?token=x":                         "",
		"":                                                     "",
	} {
		got, err := baseURL(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("baseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
