package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bibliotek24/bibstat/internal/mail"
)

// adminRequests lists the requests waiting for a decision, then the last
// decided ones.
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	u, se, ok := s.currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if u.Role != RoleAdmin {
		http.Error(w, "Ingen tilgang.", http.StatusForbidden)
		return
	}
	s.requestsPage(w, r, http.StatusOK, u, se, "")
}

// requestsPage writes the admin's requests page, with msg when the last
// decision could not be made. It is written in place, not redirected to
// with the message in the URL: a link could then put any words there.
func (s *Server) requestsPage(w http.ResponseWriter, r *http.Request, status int, u User, se Session, msg string) {
	d := accessPage{Title: "Tilgangsforespørsler", User: u, CSRF: se.CSRF, Error: msg}
	rs, err := s.cfg.Access.list()
	if err != nil {
		d.Error = err.Error()
	}
	for _, q := range rs {
		switch q.State {
		case ReqPending:
			d.Pending = append(d.Pending, q)
		case ReqApproved, ReqRefused:
			if len(d.Decided) < 50 {
				d.Decided = append(d.Decided, q)
			}
		}
	}
	s.renderAccess(w, r, status, "req-admin", d)
}

// adminDecide approves (as the library's or its county's account) or
// refuses a pending request, records it and mails the answer.
func (s *Server) adminDecide(w http.ResponseWriter, r *http.Request) {
	a := s.cfg.Access
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	u, se, ok := s.currentUser(r)
	if !ok || u.Role != RoleAdmin {
		http.Error(w, "Ingen tilgang.", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil || !validCSRF(se, r.PostForm.Get("csrf")) {
		http.Error(w, "invalid form token", http.StatusForbidden)
		return
	}
	id, action := r.PathValue("id"), r.PostForm.Get("action")
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	role := Role(r.PostForm.Get("role"))
	fail := func(msg string) { s.requestsPage(w, r, http.StatusConflict, u, se, msg) }
	switch {
	case action == "refuse" && (reason == "" || utf8.RuneCountInString(reason) > 500):
		fail("Skriv en begrunnelse (høyst 500 tegn): den sendes til den som spurte.")
		return
	case action == "approve" && role != RoleLibrary && role != RoleCounty:
		fail("Velg bibliotek- eller fylkestilgang.")
		return
	case action != "approve" && action != "refuse":
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	now := s.cfg.Now()
	token, hash := newToken()
	req, err := s.decide(r.Context(), id, u.Name, action, role, reason, hash, now)
	if err != nil {
		s.log.Info("access decision refused", "request", id, "by", u.Name, "error", err)
		if errors.Is(err, ErrUserExists) {
			fail("Det finnes allerede en bruker med denne adressen.")
			return
		}
		fail("Kunne ikke avgjøre forespørselen: " + err.Error())
		return
	}
	ev := AuditEvent{Time: now.UTC(), Event: req.State, Request: req.ID, Email: req.Email, Library: req.Library, By: u.Name,
		Role: req.Role, County: req.County, Reason: req.Reason, IP: s.clientIP(r)}
	if err := a.audit(ev); err != nil {
		s.log.Error("access decision: audit", "request", req.ID, "error", err)
		fail("Avgjørelsen er lagret, men ikke ført i revisjonsloggen: " + err.Error())
		return
	}
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	var m mail.Message
	if req.State == ReqApproved {
		m = approvedMail(req, base+"/access/password?token="+token, a.LinkTTL)
	} else {
		m = refusedMail(req)
	}
	if err := a.Mailer.Send(r.Context(), m); err != nil {
		s.log.Error("access decision: mail", "request", req.ID, "error", err)
		fail("Avgjørelsen er lagret, men e-posten til " + req.Email + " kunne ikke sendes: " + err.Error())
		return
	}
	s.log.Info("access decided", "request", req.ID, "decision", req.State, "by", u.Name)
	http.Redirect(w, r, "/admin/requests", http.StatusSeeOther)
}

var errNotPending = errors.New("no pending request with that id")

// decide records the decision on the pending request id: refused with
// reason, or approved as role, when the account is made (without a
// password; hash is the password link's) and the request says so.
func (s *Server) decide(ctx context.Context, id, by, action string, role Role, reason, hash string, now time.Time) (Request, error) {
	a := s.cfg.Access
	var req Request
	err := a.update(now, func(rs *[]Request) error {
		i := slices.IndexFunc(*rs, func(q Request) bool { return q.ID == id && q.State == ReqPending })
		if i < 0 {
			return errNotPending
		}
		q := &(*rs)[i]
		q.Decided, q.By = now.UTC(), by
		if action == "refuse" {
			q.State, q.Reason = ReqRefused, reason
			req = *q
			return nil
		}
		nu := User{Name: q.Email, Role: role}
		if role == RoleLibrary {
			nu.Library = q.Library
		} else if c, ok := s.geo.County(ctx, q.Library); ok {
			nu.County = c
		} else {
			return fmt.Errorf("the county of library %s is not known", q.Library)
		}
		if _, err := s.cfg.Users.Add(nu, "", now); err != nil {
			return err
		}
		q.State, q.Role, q.County, q.User = ReqApproved, role, nu.County, nu.Name
		q.TokenHash, q.Expires = hash, now.Add(a.LinkTTL).UTC()
		req = *q
		return nil
	})
	return req, err
}

// hoursText says a link's lifetime in Norwegian.
func hoursText(d time.Duration) string {
	if h := int(d.Hours()); h >= 1 {
		if h == 1 {
			return "1 time"
		}
		return fmt.Sprintf("%d timer", h)
	}
	return fmt.Sprintf("%d minutter", int(d.Minutes()))
}

const mailFooter = "\n-- \nBibStat, Bibliotek24. Denne e-posten er sendt automatisk.\n"

func confirmMail(q Request, lib LibraryInfo, link string, ttl time.Duration) mail.Message {
	return mail.Message{To: []string{q.Email}, Lang: "nb", Subject: "Bekreft e-postadressen din for BibStat",
		Text: fmt.Sprintf("Hei %s,\n\nnoen, forhåpentligvis du, har bedt om tilgang til BibStat for %s (%s) med denne adressen. "+
			"Bekreft adressen ved å åpne lenken innen %s:\n\n%s\n\nHar du ikke bedt om dette, kan du se bort fra e-posten.\n"+mailFooter,
			q.Name, lib.Name, lib.ID, hoursText(ttl), link)}
}

func approvedMail(q Request, link string, ttl time.Duration) mail.Message {
	scope := "bibliotek " + string(q.Library)
	if q.Role == RoleCounty {
		scope = "fylke " + q.County + " og bibliotekene der"
	}
	return mail.Message{To: []string{q.Email}, Lang: "nb", Subject: "Tilgangen din til BibStat er godkjent",
		Text: fmt.Sprintf("Hei %s,\n\nforespørselen din er godkjent: du får se statistikken for %s. Brukernavnet ditt er %s.\n\n"+
			"Velg passord innen %s:\n\n%s\n"+mailFooter, q.Name, scope, q.User, hoursText(ttl), link)}
}

func refusedMail(q Request) mail.Message {
	return mail.Message{To: []string{q.Email}, Lang: "nb", Subject: "Forespørselen din om tilgang til BibStat er avslått",
		Text: fmt.Sprintf("Hei %s,\n\nforespørselen din om tilgang til BibStat for bibliotek %s er avslått.\n\nBegrunnelse: %s\n\n"+
			"Svar på denne e-posten om du har spørsmål.\n"+mailFooter, q.Name, q.Library, q.Reason)}
}

// renderAccess writes one of the access pages in the portal's look.
func (s *Server) renderAccess(w http.ResponseWriter, r *http.Request, status int, name string, d accessPage) {
	if d.Libraries == nil && name == "req-form" {
		d.Libraries, _ = s.geo.Libraries(r.Context())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render", "page", name, "error", err)
	}
}

// The access pages share the portal's head and foot ("pages").
var _ = template.Must(pages.New("req-form").Parse(`{{template "head" .}}<h1>Be om tilgang til BibStat</h1>
<p>For ansatte i folkebibliotek, fylkesbibliotek og skolebibliotek. Bruk e-postadressen din på jobben; du får en lenke for å bekrefte den, og Bibliotek24 godkjenner tilgangen.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/access">
<p><label>Navn<br><input name="name" value="{{.Name}}" maxlength="100" autocomplete="name" required></label></p>
<p><label>E-post på jobben<br><input name="email" type="email" value="{{.Email}}" autocomplete="email" required></label></p>
<p><label>Bibliotek<br><select name="library" required><option value="">Velg …</option>
{{range .Libraries}}<option value="{{.ID}}"{{if eq (print .ID) $.Library}} selected{{end}}>{{.Name}} ({{.ID}})</option>{{end}}</select></label></p>
<p><button>Send forespørsel</button></p></form>
<p><a href="/login">Til innlogging</a></p>{{template "foot" .}}`))

var _ = template.Must(pages.New("req-done").Parse(`{{template "head" .}}<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}{{if .Notice}}<p>{{.Notice}}</p>{{end}}
<p><a href="/login">Til innlogging</a></p>{{template "foot" .}}`))

var _ = template.Must(pages.New("req-confirm").Parse(`{{template "head" .}}<h1>Bekreft e-postadressen</h1>
<form method="post" action="/access/confirm"><input type="hidden" name="token" value="{{.Token}}">
<p><button>Bekreft adressen og send forespørselen</button></p></form>{{template "foot" .}}`))

var _ = template.Must(pages.New("req-password").Parse(`{{template "head" .}}<h1>Velg passord</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/access/password"><input type="hidden" name="token" value="{{.Token}}">
<p><label>Passord (minst 12 tegn)<br><input name="password" type="password" autocomplete="new-password" minlength="12" required></label></p>
<p><label>Gjenta passordet<br><input name="password2" type="password" autocomplete="new-password" minlength="12" required></label></p>
<p><button>Lagre passord</button></p></form>{{template "foot" .}}`))

var _ = template.Must(pages.New("req-admin").Parse(`{{template "head" .}}<h1>Tilgangsforespørsler</h1>
<p><a href="/admin">Tilbake til drift</a></p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<h2>Venter på avgjørelse</h2>
<table><thead><tr><th>Mottatt</th><th>Navn</th><th>E-post</th><th>Bibliotek</th><th>Godkjenn</th><th>Avslå</th></tr></thead><tbody>
{{range .Pending}}<tr><td>{{.Created.Format "2006-01-02 15:04"}}</td><td>{{.Name}}</td><td>{{.Email}}</td><td>{{.Library}}</td>
<td><form method="post" action="/admin/requests/{{.ID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="action" value="approve">
<select name="role"><option value="library">bibliotektilgang</option><option value="county">fylkestilgang</option></select> <button>Godkjenn</button></form></td>
<td><form method="post" action="/admin/requests/{{.ID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="action" value="refuse">
<input name="reason" maxlength="500" placeholder="begrunnelse" required> <button>Avslå</button></form></td></tr>
{{else}}<tr><td colspan="6">Ingen forespørsler venter.</td></tr>{{end}}</tbody></table>
<h2>Siste avgjørelser</h2>
<table><thead><tr><th>Avgjort</th><th>Av</th><th>E-post</th><th>Bibliotek</th><th>Utfall</th><th>Tilgang eller begrunnelse</th></tr></thead><tbody>
{{range .Decided}}<tr><td>{{.Decided.Format "2006-01-02 15:04"}}</td><td>{{.By}}</td><td>{{.Email}}</td><td>{{.Library}}</td><td>{{.State}}</td>
<td>{{if .Reason}}{{.Reason}}{{else}}{{.Role}} {{.County}}{{end}}</td></tr>
{{else}}<tr><td colspan="6">Ingen ennå.</td></tr>{{end}}</tbody></table>{{template "foot" .}}`))
