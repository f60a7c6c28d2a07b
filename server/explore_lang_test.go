package server

import (
	"html"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestExploreLanguages walks the explorer and the agreements page in each
// language for another language's words and for raw COUNTER names in the
// text a reader sees (attributes and URLs may carry ids).
func TestExploreLanguages(t *testing.T) {
	ts := exploreFixture(t)
	admin, oslo := login(t, ts.URL, "admin"), login(t, ts.URL, "oslo")
	tags := regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	raw := regexp.MustCompile(`\b[A-Z][a-z]+_[A-Z][A-Za-z_]+\b`)
	for lang, words := range exploreCatalog {
		own := map[string]bool{}
		for _, s := range phrases(words) {
			own[s] = true
		}
		for _, page := range []struct {
			path string
			c    *http.Cookie
		}{{"/utforsk?national=1&county=46&library=2030100", admin}, {"/utforsk?platform=bogus", oslo}, {"/avtaler", oslo}} {
			_, _, body := fetch(t, ts.URL, page.path+"&lang="+string(lang), page.c)
			if !strings.Contains(page.path, "?") {
				_, _, body = fetch(t, ts.URL, page.path+"?lang="+string(lang), page.c)
			}
			text := html.UnescapeString(tags.ReplaceAllString(body, " "))
			if ids := raw.FindAllString(text, -1); len(ids) > 0 {
				t.Errorf("%s %s shows raw identifiers %v", lang, page.path, ids)
			}
			for other, ow := range exploreCatalog {
				if other == lang {
					continue
				}
				for _, s := range phrases(ow) {
					if !own[s] && containsWords(text, s) {
						t.Errorf("%s %s has %s words: %q", lang, page.path, other, s)
					}
				}
			}
		}
	}
}

// phrases are the longest literal parts of a catalogue's texts, to look for.
func phrases(w exploreWords) []string {
	var out []string
	v := reflect.ValueOf(w)
	for i := range v.NumField() {
		parts := regexp.MustCompile(`%[a-z]`).Split(v.Field(i).String(), -1)
		slices.SortFunc(parts, func(a, b string) int { return len(b) - len(a) })
		if p := strings.TrimSpace(parts[0]); len(p) >= 8 {
			out = append(out, p)
		}
	}
	return out
}

// containsWords: s is in text, not as the start of a longer word.
func containsWords(text, s string) bool {
	for i := strings.Index(text, s); i >= 0; {
		r, _ := utf8.DecodeRuneInString(text[i+len(s):])
		if !unicode.IsLetter(r) {
			return true
		}
		j := strings.Index(text[i+1:], s)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
