package report

import (
	"html"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/counter"
)

// languagePages are every page type, with a county that has data and one
// that has none.
var languagePages = []string{"index.html", "nasjonalt.html", "fylke/55.html", "fylke/11.html", "bibliotek/2030100.html",
	"bibliotek/2190200.html", "avtale/avis-2025.html", "avtale/avis-2024.html", "ordliste.html", "tilgjengelighet.html",
	"sammenligning/avisarkiv.html", "sammenligning/avisarkiv/2190200.html"}

// rawIdentifiers are what a reader must never see in a page's text: the
// COUNTER names (the glossary shows them, as code), platform ids that have a
// name, state and model ids, and counties by number.
var rawIdentifiers = append(slices.Clone(counter.Metrics), "avisarkiv", "credentials_broken", "not_ready",
	"base_population", "population", "price_nok", "Total_Item", "Fylke 55", "County 55", "county 55", "NOK 1")

var (
	dropped  = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<code>.*?</code>`)
	attrText = regexp.MustCompile(`(?:aria-label|alt|title)="([^"]*)"`)
	tag      = regexp.MustCompile(`(?s)<[^>]*>`)
	fmtVerb  = regexp.MustCompile(`%[sd]`)
)

// visibleText is what a reader of the page sees or hears: its text and the
// labels of its elements, without scripts and the glossary's code.
func visibleText(page string) string {
	var b strings.Builder
	for _, m := range attrText.FindAllStringSubmatch(page, -1) {
		b.WriteString(html.UnescapeString(m[1]) + "\n")
	}
	b.WriteString(html.UnescapeString(tag.ReplaceAllString(dropped.ReplaceAllString(page, " "), "\n")))
	return b.String()
}

// catalogTexts are the literal pieces of every text of a catalogue: a
// format's parts between its verbs, trimmed.
func catalogTexts(m messages) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for _, part := range fmtVerb.Split(s, -1) {
			if p := strings.Trim(part, " .,:;()–"); len([]rune(p)) >= 4 {
				out[p] = true
			}
		}
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			add(v.String())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		}
	}
	walk(reflect.ValueOf(m))
	return out
}

// TestPagesSpeakOneLanguage walks every page type in each language and
// fails on a text that only another language's catalogue has, or on a raw
// identifier.
func TestPagesSpeakOneLanguage(t *testing.T) {
	own := map[Lang]map[string]bool{}
	for lang, m := range catalog {
		own[lang] = catalogTexts(m)
	}
	for _, lang := range []Lang{"nb", "nn", "en"} {
		t.Run(string(lang), func(t *testing.T) {
			var foreign []string
			for other, texts := range own {
				if other == lang {
					continue
				}
				for s := range texts {
					if !own[lang][s] {
						foreign = append(foreign, s)
					}
				}
			}
			site := buildHostileSite(t, lang)
			for _, p := range languagePages {
				b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				text := visibleText(string(b))
				for _, s := range foreign {
					if containsWord(text, s) {
						t.Errorf("%s: %q is another language's", p, s)
					}
				}
				for _, id := range rawIdentifiers {
					if containsWord(text, id) {
						t.Errorf("%s: raw identifier %q", p, id)
					}
				}
			}
		})
	}
}

// containsWord reports whether s occurs in text as whole words.
func containsWord(text, s string) bool {
	re := regexp.MustCompile(`(^|[^\p{L}\p{N}_])` + regexp.QuoteMeta(s) + `($|[^\p{L}\p{N}_])`)
	return re.MatchString(text)
}
