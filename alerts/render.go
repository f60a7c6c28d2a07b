package alerts

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/mail"
)

// Digest is one e-mail: the alerts new to one recipient.
type Digest struct {
	Recipient string // "operator" or "library:<bibnr>": the key in State.Told
	To        string
	Lang      string
	Alerts    []Alert
	Message   mail.Message
}

// maxLines caps each section of a digest; the portal page has the rest.
const maxLines = 100

// section is one kind's part of a digest.
type section struct {
	Heading string
	Lines   []string
	More    string
	Link    string
	See     string
}

// Audience is who a digest is for, and how to address them.
type Audience struct {
	Lang    string
	Library string // "name (bibnr)" parts for a library; "" for the operator
	Bibnr   string
	Link    string // the portal page that shows the alerts
	// Links overrides Link for a kind (the requests' own admin page).
	Links map[Kind]string
	Loc   *time.Location
}

// Render writes alerts for a as a message to to. Vendor and stage text is
// put in as text: escaped in the HTML part, never a header.
func Render(to string, a Audience, alerts []Alert) mail.Message {
	w, ok := catalog[a.Lang]
	if !ok {
		w, a.Lang = catalog["nb"], "nb"
	}
	if a.Loc == nil {
		a.Loc = time.UTC
	}
	intro := w.Operator
	if a.Bibnr != "" {
		intro = fmt.Sprintf(w.Library, a.Library, a.Bibnr)
	}
	var secs []section
	for _, k := range kindOrder {
		link := a.Link
		if l, ok := a.Links[k]; ok {
			link = l
		}
		s := section{Heading: w.Headings[k], Link: link, See: fmt.Sprintf(w.See, link)}
		all := lines(w, k, alerts, a.Loc)
		if len(all) == 0 {
			continue
		}
		s.Lines = all[:min(len(all), maxLines)]
		if len(all) > maxLines {
			s.More = fmt.Sprintf(w.More, len(all)-maxLines)
		}
		secs = append(secs, s)
	}
	subject := fmt.Sprintf(w.Subject, len(alerts))
	if len(alerts) == 1 {
		subject = fmt.Sprintf(w.SubjectOne, 1)
	}
	var text strings.Builder
	text.WriteString(intro + "\n")
	for _, s := range secs {
		fmt.Fprintf(&text, "\n%s\n", s.Heading)
		for _, l := range s.Lines {
			fmt.Fprintf(&text, "- %s\n", l)
		}
		if s.More != "" {
			fmt.Fprintf(&text, "%s\n", s.More)
		}
		fmt.Fprintf(&text, "%s\n", s.See)
	}
	fmt.Fprintf(&text, "\n-- \n%s\n", w.Footer)
	var html strings.Builder
	if err := digestHTML.Execute(&html, map[string]any{"Lang": a.Lang, "Subject": subject, "Intro": intro, "Sections": secs,
		"Footer": w.Footer}); err != nil {
		html.Reset() // the template is fixed and its data strings: this does not happen, and the text part stands alone
	}
	return mail.Message{To: []string{to}, Subject: subject, Lang: a.Lang, Text: text.String(), HTML: html.String()}
}

// lines words the alerts of kind k, one line each, but a unit's missing
// months in one line, as runs of consecutive months: a credential that
// stopped a year ago is one line, not twelve.
func lines(w words, k Kind, alerts []Alert, loc *time.Location) []string {
	if k != KindMissing {
		var out []string
		for _, al := range alerts {
			if al.Kind == k {
				out = append(out, line(w, al, loc))
			}
		}
		return out
	}
	type key struct{ lib, platform, cred, report, reason string }
	var order []key
	months := map[key][]bibstat.Month{}
	for _, al := range alerts {
		m, err := bibstat.ParseMonth(al.Month)
		if al.Kind != k || err != nil {
			continue
		}
		kk := key{string(al.Library), al.Platform, al.Credential, al.Report, al.Reason}
		if _, ok := months[kk]; !ok {
			order = append(order, kk)
		}
		months[kk] = append(months[kk], m)
	}
	var out []string
	for _, kk := range order {
		ms := months[kk]
		slices.SortFunc(ms, func(a, b bibstat.Month) int { return cmp.Compare(a.String(), b.String()) })
		var runs []string
		for i := 0; i < len(ms); {
			j := i
			for j+1 < len(ms) && ms[j].Add(1) == ms[j+1] {
				j++
			}
			if j == i {
				runs = append(runs, ms[i].String())
			} else {
				runs = append(runs, ms[i].String()+" – "+ms[j].String())
			}
			i = j + 1
		}
		out = append(out, fmt.Sprintf(w.Missing, kk.lib, kk.platform, strings.Join(runs, ", "), strings.ToUpper(kk.report), w.States[kk.reason]))
	}
	return out
}

// line words one alert.
func line(w words, a Alert, loc *time.Location) string {
	reason := oneLine(a.Reason)
	if a.Code != 0 {
		reason += fmt.Sprintf(w.Code, a.Code)
	}
	at := a.At.In(loc).Format("2006-01-02 15:04")
	switch a.Kind {
	case KindRun:
		return fmt.Sprintf(w.Run, a.Stage, at, reason)
	case KindCredential:
		return fmt.Sprintf(w.Credential, a.Platform, a.Credential, a.Library, reason)
	case KindPlatform:
		return fmt.Sprintf(w.Platform, a.Platform, a.Nights, at, reason)
	case KindUpload:
		return fmt.Sprintf(w.Upload, a.Platform, oneLine(a.File), reason)
	case KindAccess:
		return fmt.Sprintf(w.Access, oneLine(a.Name), a.Email, a.Credential, at)
	default:
		return fmt.Sprintf(w.Missing, a.Library, a.Platform, a.Month, strings.ToUpper(a.Report), w.States[a.Reason])
	}
}

// oneLine keeps a vendor's text to one line of at most 300 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

var digestHTML = template.Must(template.New("digest").Parse(`<!doctype html><html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5">
<p>{{.Intro}}</p>
{{range .Sections}}<h2 style="font-size:1.1rem">{{.Heading}}</h2>
<ul>{{range .Lines}}<li>{{.}}</li>{{end}}</ul>{{if .More}}<p>{{.More}}</p>{{end}}
<p><a href="{{.Link}}">{{.See}}</a></p>
{{end}}<hr><p style="color:#555;font-size:.85rem">{{.Footer}}</p>
</body></html>
`))
