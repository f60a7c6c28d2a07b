package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Bounds on vendor text, in runes.
const (
	maxName = 120
	maxNote = 300
)

// clean makes vendor text safe for a config file: valid UTF-8, no control
// or format characters (bidi overrides included), nothing YAML refuses,
// every run of white space one space, at most max runes.
func clean(s string, max int) string {
	var out []rune
	space := false
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), r == unicode.ReplacementChar,
			r == 0xFFFE, r == 0xFFFF: // YAML refuses these two non-characters
			continue
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, r)
	}
	if len(out) > max {
		out = append(out[:max-1], '…')
	}
	return string(out)
}

// folds are the letters NFD does not take apart.
var folds = strings.NewReplacer("æ", "ae", "ø", "o", "œ", "oe", "ß", "ss", "ð", "d", "þ", "th", "ł", "l", "đ", "d", "&", " and ")

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a platform id (the config's a-z, 0-9, - and _, at most 64)
// from a name; "" when nothing is left.
func slug(name string) string {
	s := folds.Replace(strings.ToLower(name))
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	s = strings.Trim(nonSlug.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > 60 { // room for a -N suffix
		s = strings.TrimRight(s[:60], "-")
	}
	return s
}

// baseURL is a registry SUSHI url as the config's base_url: http(s) with a
// host, no credentials, query or fragment, without a trailing /reports or
// /r51 (the harvest adds them), without a trailing slash.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("SUSHI url %q is not an http(s) URL with a host", clean(raw, maxNote))
	}
	if u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("SUSHI url of %s carries credentials or a query; set base_url by hand", u.Host)
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/reports")
	p = strings.TrimSuffix(strings.TrimRight(p, "/"), "/r51")
	u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
	return u.String(), nil
}

// linkURL checks a URL the registry links to before it is fetched.
func linkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("link %q is not an http(s) URL with a host", clean(raw, maxNote))
	}
	return u.String(), nil
}
