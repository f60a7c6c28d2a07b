// Package accesslogsim generates synthetic access logs with their exact
// expected COUNTER counts: patrons of several libraries in sessions on two
// platforms, with double clicks, robots, lines that are no usage and
// malformed lines. The truth is computed from how the log was made, not by
// counting it, so it can check accesslog's counting.
package accesslogsim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
)

// ConfigYAML declares the generated logs' source and platforms.
const ConfigYAML = `sources:
  - name: proxy
    kind: combined
    fields: {user: authuser, library: extra1, session: ident}
platforms:
  - id: avisarkiv
    hosts: [www.avisarkiv.no]
    data_type: Newspaper_or_Newsletter
    rules:
      - {kind: search, path: '^/search\?'}
      - {kind: request, path: '^/article/(?P<item>[0-9]+)/pdf$'}
      - {kind: investigation, path: '^/article/(?P<item>[0-9]+)$'}
  - id: ebokhylla
    hosts: [bok.example.no]
    data_type: Book
    rules:
      - {kind: search, path: '^/sok\?'}
      - {kind: request, path: '^/les/(?P<item>(?P<title>B[0-9]+)-K[0-9]+)$'}
      - {kind: investigation, path: '^/bok/(?P<item>(?P<title>B[0-9]+))$'}
`

// Options shape a generated log.
type Options struct {
	Seed      uint64
	Libraries []bibstat.LibraryID
	Users     int       // patrons per library
	Sessions  int       // sessions in all
	Start     time.Time // the first hour; sessions fall in the Hours after it
	Hours     int
	// Noise, each per session on average: double clicks, robot lines,
	// lines that are no usage, malformed lines.
	Doubles, Robots, Ignored, Bad float64
}

// Default is a small world over a month boundary.
func Default() Options {
	return Options{Seed: 1, Libraries: []bibstat.LibraryID{"2030100", "2180000", "3000512"}, Users: 40, Sessions: 400,
		Start: time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC), Hours: 72, Doubles: 1, Robots: 0.5, Ignored: 0.5, Bad: 0.2}
}

// Truth is what counting the log must give.
type Truth struct {
	Units                               map[accesslog.UnitKey]accesslog.Counts
	Lines, Events, Robots, Ignored, Bad int64
}

type line struct {
	t    time.Time
	text string
}

// Generate writes the log to w in time order (an hour at a time, so memory
// is bounded by an hour's lines) and returns its truth.
func Generate(w io.Writer, o Options) (Truth, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 2))
	tr := Truth{Units: map[accesslog.UnitKey]accesslog.Counts{}}
	perHour := make([]int, o.Hours)
	for range o.Sessions {
		perHour[rng.IntN(o.Hours)]++
	}
	var hour []line
	for h := range o.Hours {
		hour = hour[:0]
		start := o.Start.Add(time.Duration(h) * time.Hour)
		used := map[string]bool{} // a patron has one session an hour
		for s := range perHour[h] {
			lib := o.Libraries[rng.IntN(len(o.Libraries))]
			user := fmt.Sprintf("kort%s-%03d", lib, rng.IntN(o.Users))
			if used[user] {
				continue
			}
			used[user] = true
			sid := "-"
			if rng.IntN(2) == 0 {
				sid = fmt.Sprintf("S%d-%d", h, s)
			}
			hour = session(rng, &tr, o, hour, start, lib, user, sid)
		}
		slices.SortStableFunc(hour, func(a, b line) int { return a.t.Compare(b.t) })
		for _, l := range hour {
			if _, err := io.WriteString(w, l.text+"\n"); err != nil {
				return tr, err
			}
		}
		tr.Lines += int64(len(hour))
	}
	return tr, nil
}

// session adds one patron session's lines within the hour at start and
// counts its truth. Clicks are 61–120 s apart, so a real click is never a
// double click of another (nor is one made so by a double click's noise,
// 1–29 s before a click); the first is a minute into the hour, so sessions
// in adjacent hours never meet within 30 s either.
func session(rng *rand.Rand, tr *Truth, o Options, out []line, start time.Time, lib bibstat.LibraryID, user, sid string) []line {
	t := start.Add(time.Minute)
	seen := map[string]bool{}
	n := 1 + rng.IntN(20)
	agent := patronAgents[rng.IntN(len(patronAgents))]
	for range n {
		t = t.Add(time.Duration(61+rng.IntN(60)) * time.Second)
		p, kind, url, item, title := pick(rng)
		out = append(out, line{t, combined(t, sid, user, url, 200, agent, lib)})
		tr.Events++
		u := accesslog.UnitKey{Platform: p, Library: lib, Month: bibstat.MonthOf(t)}
		c := tr.Units[u]
		once := func(k string, i int) {
			if !seen[k] {
				seen[k] = true
				c[i]++
			}
		}
		switch kind {
		case accesslog.Search:
			c[0]++
		case accesslog.Investigation, accesslog.Request:
			c[1]++
			once("ii"+p+item, 2)
			if title != "" {
				once("ti"+p+title, 3)
			}
			if kind == accesslog.Request {
				c[4]++
				once("ir"+p+item, 5)
				if title != "" {
					once("tr"+p+title, 6)
				}
			}
		}
		tr.Units[u] = c
		if rng.Float64() < o.Doubles/10 {
			d := t.Add(-time.Duration(1+rng.IntN(29)) * time.Second)
			out = append(out, line{d, combined(d, sid, user, url, 200, agent, lib)})
			tr.Events++
		}
	}
	return noise(rng, tr, o, out, t, lib, user, sid)
}

// noise adds the session's robot, non-usage and malformed lines.
func noise(rng *rand.Rand, tr *Truth, o Options, out []line, t time.Time, lib bibstat.LibraryID, user, sid string) []line {
	for rng.Float64() < o.Robots/2 {
		_, _, url, _, _ := pick(rng)
		out = append(out, line{t, combined(t, "-", "-", url, 200, robotAgents[rng.IntN(len(robotAgents))], "-")})
		tr.Robots++
	}
	for rng.Float64() < o.Ignored/2 {
		_, _, url, _, _ := pick(rng)
		ignored := []string{
			combined(t, sid, user, url, 404, patronAgents[0], lib),
			combined(t, sid, user, "https://www.avisarkiv.no/static/app.js", 200, patronAgents[0], lib),
			combined(t, sid, user, "https://ukjent.example.com/article/1", 200, patronAgents[0], lib),
		}
		out = append(out, line{t, ignored[rng.IntN(len(ignored))]})
		tr.Ignored++
	}
	for rng.Float64() < o.Bad/2 {
		_, _, url, _, _ := pick(rng)
		good := combined(t, sid, user, url, 200, patronAgents[0], lib)
		bad := []string{
			good[:len(good)/2],
			strings.Replace(good, "/20", "/XX", 1),
			combined(t, sid, user, url, 200, patronAgents[0], "-"),
			combined(t, sid, user, url, 200, patronAgents[0], "Oslo"),
			combined(t, "-", "-", url, 200, patronAgents[0], lib),
		}
		out = append(out, line{t, bad[rng.IntN(len(bad))]})
		tr.Bad++
	}
	return out
}

// pick chooses a platform and an event on it.
func pick(rng *rand.Rand) (platform string, kind accesslog.Kind, url, item, title string) {
	if rng.IntN(2) == 0 {
		a := fmt.Sprint(1000 + rng.IntN(60))
		switch rng.IntN(3) {
		case 0:
			return "avisarkiv", accesslog.Search, fmt.Sprintf("https://www.avisarkiv.no/search?q=ord%d", rng.IntN(5)), "", ""
		case 1:
			return "avisarkiv", accesslog.Investigation, "https://www.avisarkiv.no/article/" + a, a, ""
		}
		return "avisarkiv", accesslog.Request, "https://www.avisarkiv.no/article/" + a + "/pdf", a, ""
	}
	b := fmt.Sprintf("B%d", rng.IntN(15))
	switch rng.IntN(3) {
	case 0:
		return "ebokhylla", accesslog.Search, fmt.Sprintf("https://bok.example.no/sok?q=tittel%d", rng.IntN(5)), "", ""
	case 1:
		return "ebokhylla", accesslog.Investigation, "https://bok.example.no/bok/" + b, b, b
	}
	it := fmt.Sprintf("%s-K%d", b, rng.IntN(8))
	return "ebokhylla", accesslog.Request, "https://bok.example.no/les/" + it, it, b
}

var patronAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
}

var robotAgents = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"python-requests/2.31.0",
	"Wget/1.21.4",
}

// combined is one line in the combined format, in Oslo winter time, the
// user in authuser, the session id in ident and the library after the agent.
func combined(t time.Time, sid, user, url string, status int, agent string, lib bibstat.LibraryID) string {
	oslo := t.In(time.FixedZone("", 3600))
	return fmt.Sprintf(`10.1.2.3 %s %s [%s] "GET %s HTTP/1.1" %d 5120 "-" "%s" %s`,
		sid, user, oslo.Format("02/Jan/2006:15:04:05 -0700"), url, status, agent, lib)
}
