package server

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/ingest/ledger"
)

// currentUser returns the logged-in, still active user of r.
func (s *Server) currentUser(r *http.Request) (User, Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return User{}, Session{}, false
	}
	se, ok := s.sessions.Get(c.Value)
	if !ok {
		return User{}, Session{}, false
	}
	u, err := s.cfg.Users.Get(se.User)
	if err != nil || !u.Active() || u.stamp() != se.Stamp {
		// Revoked, deleted, its password reset or its name given to a new
		// account since login: the session dies with what it was made for.
		s.sessions.Delete(c.Value)
		return User{}, Session{}, false
	}
	return u, se, true
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", pageData{Title: "Logg inn", AccessOpen: s.cfg.Access != nil})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, "login", pageData{Title: "Logg inn", Error: "Ugyldig skjema."})
		return
	}
	name, password := strings.TrimSpace(r.PostForm.Get("user")), r.PostForm.Get("password")
	ip := s.clientIP(r)
	release, ok := s.hashSlot()
	if !ok {
		s.log.Info("login refused: busy", "user", name, "ip", ip)
		s.tooMany(w, time.Second)
		return
	}
	defer release()
	// Typos lock out their own account only; guesses at names no account
	// has are throttled by the address they come from.
	key := "ip:" + ip
	if _, err := s.cfg.Users.Get(name); err == nil {
		key = "user:" + name
	}
	if wait := s.throttle.Reserve(key); wait > 0 {
		s.log.Info("login refused: locked", "user", name, "ip", ip, "wait", wait.Round(time.Second).String())
		s.tooMany(w, wait)
		return
	}
	u, err := s.cfg.Users.CheckPassword(name, password)
	if err != nil {
		s.log.Info("login failed", "user", name, "ip", ip)
		s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Logg inn", Error: "Feil brukernavn eller passord."})
		return
	}
	s.throttle.Succeed(key)
	// A fresh id at every login: a session id planted before login is useless.
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.Delete(old.Value)
	}
	id, _, err := s.sessions.New(u)
	if err != nil {
		s.log.Error("login: store session", "user", u.Name, "error", err)
		http.Error(w, "sessions unavailable", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.sessions.TTL.Seconds())})
	s.log.Info("login", "user", u.Name, "role", string(u.Role), "ip", ip)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// tooMany answers a refused login with 429 and when to try again.
func (s *Server) tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	s.render(w, http.StatusTooManyRequests, "login", pageData{Title: "Logg inn",
		Error: fmt.Sprintf("For mange forsøk. Prøv igjen om %s.", max(wait, time.Second).Round(time.Second))})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_, se, ok := s.currentUser(r)
	if ok {
		if err := r.ParseForm(); err != nil || !validCSRF(se, r.PostForm.Get("csrf")) {
			http.Error(w, "invalid form token", http.StatusForbidden)
			return
		}
		c, _ := r.Cookie(sessionCookie)
		s.sessions.Delete(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// siteFile serves one file of the report site to a user allowed to read it.
func (s *Server) siteFile(w http.ResponseWriter, r *http.Request) {
	res := Classify(r.URL.Path, r.URL.RawPath)
	if res.Kind == KindNone {
		http.NotFound(w, r)
		return
	}
	u, _, ok := s.currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if res.Path == "index.html" && u.Role != RoleAdmin {
		// The site's pages link to the global index; send others to their own.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !Allowed(r.Context(), s.geo, u, res) {
		s.log.Info("denied", "user", u.Name, "path", res.Path)
		http.Error(w, "Ingen tilgang.", http.StatusForbidden)
		return
	}
	// Access is decided again on what the path really is: a symlink in
	// the site is only as readable as its target.
	real, ok := s.realPath(res.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if real != res.Path {
		if rr := Classify("/"+real, ""); !Allowed(r.Context(), s.geo, u, rr) {
			s.log.Info("denied", "user", u.Name, "path", res.Path, "target", real)
			http.NotFound(w, r)
			return
		}
	}
	s.serveSite(w, r, real)
}

// realPath resolves every symlink of the site file rel and returns it
// relative to the site's own real directory; ok is false when it leads
// out of the site or does not exist.
func (s *Server) realPath(rel string) (string, bool) {
	site, err := filepath.EvalSymlinks(s.cfg.SiteDir)
	if err != nil {
		return "", false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(site, filepath.FromSlash(rel)))
	if err != nil {
		return "", false
	}
	out, err := filepath.Rel(site, real)
	if err != nil || out == ".." || strings.HasPrefix(out, ".."+string(filepath.Separator)) || filepath.IsAbs(out) {
		return "", false
	}
	return filepath.ToSlash(out), true
}

// contentTypes are the download types mime does not know everywhere.
var contentTypes = map[string]string{
	".csv":     "text/csv; charset=utf-8",
	".tsv":     "text/tab-separated-values; charset=utf-8",
	".parquet": "application/vnd.apache.parquet",
	".xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".html":    "text/html; charset=utf-8",
	".css":     "text/css; charset=utf-8",
	".js":      "text/javascript; charset=utf-8",
	".txt":     "text/plain; charset=utf-8",
}

// serveSite opens rel through an os.Root, so even a symlink planted in
// the site cannot lead outside it.
func (s *Server) serveSite(w http.ResponseWriter, r *http.Request, rel string) {
	root, err := os.OpenRoot(s.cfg.SiteDir)
	if err != nil {
		s.log.Error("open site", "error", err)
		http.Error(w, "site unavailable", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("open site file", "path", rel, "error", err)
		}
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if ct, ok := contentTypes[path.Ext(rel)]; ok {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, path.Base(rel), fi.ModTime(), f)
}

// siteHas reports whether the site has the file rel.
func (s *Server) siteHas(rel string) bool {
	root, err := os.OpenRoot(s.cfg.SiteDir)
	if err != nil {
		return false
	}
	defer root.Close()
	fi, err := root.Stat(rel)
	return err == nil && fi.Mode().IsRegular()
}

type link struct {
	Href, Text string
	Downloads  []link
}

type pageData struct {
	Title string
	User  User
	CSRF  string
	Error string
	// AccessOpen: staff may ask for an account (requests.go).
	AccessOpen bool
	// index
	Links      []link
	Explore    []link // the explorer and the user's agreements
	SUSHIBase  string
	CustomerID []string
	// admin
	Runs   []Run
	Matrix *matrix
	RunErr string
}

var downloadExts = []string{"csv", "xlsx", "tsv", "parquet"}

// index is the user's own start page: only what the user may open.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	u, se, ok := s.currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	d := pageData{Title: "BibStat", User: u, CSRF: se.CSRF, SUSHIBase: s.sushiBase(r)}
	_, _, words, _ := s.pageLang(r)
	d.Explore = []link{{Href: "/utforsk", Text: words.ExploreLink}, {Href: "/avtaler", Text: words.YourAgreements}}
	libs, err := s.geo.Libraries(r.Context())
	if err != nil {
		s.log.Error("index: libraries", "error", err)
	}
	withDownloads := func(page, stem string) link {
		l := link{Href: page, Text: page}
		for _, ext := range downloadExts {
			if name := stem + "." + ext; s.siteHas(name) {
				l.Downloads = append(l.Downloads, link{Href: name, Text: strings.ToUpper(ext)})
			}
		}
		return l
	}
	switch u.Role {
	case RoleAdmin:
		d.Links = append(d.Links, link{Href: "index.html", Text: "Hele rapportnettstedet"}, link{Href: "admin", Text: "Drift: kjørelogg og kompletthet"})
	case RoleCounty:
		l := withDownloads("fylke/"+u.County+".html", "fylke/fylke-"+u.County+"-bruk")
		l.Text = "Fylke " + u.County
		d.Links = append(d.Links, l)
	}
	for _, li := range libs {
		if u.Role == RoleAdmin || !CanSeeLibrary(r.Context(), s.geo, u, li.ID) {
			continue
		}
		l := withDownloads("bibliotek/"+string(li.ID)+".html", "bibliotek/"+string(li.ID)+"-bruk")
		l.Text = li.Name + " (" + string(li.ID) + ")"
		d.Links = append(d.Links, l)
		d.CustomerID = append(d.CustomerID, li.ID.ISIL())
	}
	if u.Role == RoleLibrary && len(d.CustomerID) == 0 {
		d.CustomerID = []string{u.Library.ISIL()}
	}
	s.render(w, http.StatusOK, "index", d)
}

func (s *Server) sushiBase(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// admin shows the run log and the completeness matrix.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	u, se, ok := s.currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if u.Role != RoleAdmin {
		http.Error(w, "Ingen tilgang.", http.StatusForbidden)
		return
	}
	d := pageData{Title: "Drift", User: u, CSRF: se.CSRF, AccessOpen: s.cfg.Access != nil}
	if s.cfg.RunLog != nil {
		runs, err := s.cfg.RunLog.Last(50)
		if err != nil {
			d.RunErr = err.Error()
		}
		d.Runs = runs
	}
	if s.cfg.LedgerPath != "" {
		entries, err := ledger.ReadAll(s.cfg.LedgerPath)
		if err != nil {
			d.Error = "Kunne ikke lese ledger: " + err.Error()
		}
		d.Matrix = buildMatrix(entries, 13)
	}
	s.render(w, http.StatusOK, "admin", d)
}

// matrix is the completeness view: library × platform rows, month columns,
// each cell the units by ledger state.
type matrix struct {
	Months []string
	Rows   []matrixRow
}

type matrixRow struct {
	Library, Platform string
	Cells             []matrixCell
}

type matrixCell struct {
	Text  string // e.g. "not_ready 1 · ok 2", worst first
	Class string // the worst state, for colour
}

func buildMatrix(entries []ledger.Entry, lastMonths int) *matrix {
	g := ledger.GridOf(entries, lastMonths)
	m := &matrix{Months: g.Months}
	for _, r := range g.Rows {
		row := matrixRow{Library: r.Library, Platform: r.Platform}
		for _, c := range r.Cells {
			cell := matrixCell{Class: "missing"}
			if worst, ok := c.Worst(); ok {
				cell.Class = string(worst)
			}
			var parts []string
			for _, sc := range c.States() {
				parts = append(parts, fmt.Sprintf("%s %d", sc.State, sc.N))
			}
			cell.Text = strings.Join(parts, " · ")
			row.Cells = append(row.Cells, cell)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render", "page", name, "error", err)
	}
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="nb"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title><style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;font-size:.85rem;text-align:left}
.ok{background:#dfd}.zero{background:#eee}.partial,.not_ready,.queued,.throttled{background:#ffd}
.failed,.credentials_broken,.unsupported{background:#fdd}.missing{background:#fff}.err{color:#a00}
header{display:flex;justify-content:space-between;align-items:center}
</style></head><body>
{{if .User.Name}}<header><p><a href="/">BibStat</a> · {{.User.Name}} ({{.User.Role}})</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Logg ut</button></form></header>{{end}}
<main>{{end}}
{{define "foot"}}</main></body></html>{{end}}
{{define "login"}}{{template "head" .}}<h1>Logg inn på BibStat</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<p><label>Brukernavn<br><input name="user" autocomplete="username" required></label></p>
<p><label>Passord<br><input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Logg inn</button></p></form>
{{if .AccessOpen}}<p>Ingen konto? <a href="/access">Be om tilgang</a></p>{{end}}{{template "foot" .}}{{end}}
{{define "index"}}{{template "head" .}}<h1>Din statistikk</h1>
<ul>{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a>{{if .Downloads}} — last ned: {{range $i, $d := .Downloads}}{{if $i}}, {{end}}<a href="{{$d.Href}}" download>{{$d.Text}}</a>{{end}}{{end}}</li>
{{else}}<li>Ingen rapporter ennå.</li>{{end}}</ul>
<ul>{{range .Explore}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul>
<h2>COUNTER SUSHI</h2>
<p>Koble ERM-systemet ditt til BibStat som en COUNTER R5.1 SUSHI-tjeneste:</p>
<dl><dt>Base-URL</dt><dd><code>{{.SUSHIBase}}</code> (release 5.1, stiene under <code>/r51/</code>)</dd>
<dt>customer_id</dt><dd>{{range $i, $c := .CustomerID}}{{if $i}}, {{end}}<code>{{$c}}</code>{{else}}bibliotekets ISIL, f.eks. <code>NO-2030100</code>{{end}}</dd>
<dt>requestor_id</dt><dd><code>{{.User.Name}}</code></dd>
<dt>api_key</dt><dd>en nøkkel fra Bibliotek24 (<code>bibstat users token {{.User.Name}}</code>)</dd></dl>
{{template "foot" .}}{{end}}
{{define "admin"}}{{template "head" .}}<h1>Drift</h1>
{{if .AccessOpen}}<p><a href="/admin/requests">Tilgangsforespørsler</a></p>{{end}}
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<h2>Kjørelogg</h2>{{if .RunErr}}<p class="err">{{.RunErr}}</p>{{end}}
<table><thead><tr><th>Type</th><th>Start</th><th>Slutt</th><th>Utfall</th><th>Detaljer</th></tr></thead><tbody>
{{range .Runs}}<tr class="{{if eq .Outcome "ok"}}ok{{else}}failed{{end}}"><td>{{.Kind}}</td><td>{{.Start.Format "2006-01-02 15:04:05Z07:00"}}</td><td>{{.End.Format "2006-01-02 15:04:05Z07:00"}}</td><td>{{.Outcome}}</td><td>{{.Detail}}</td></tr>
{{else}}<tr><td colspan="5">Ingen kjøringer registrert.</td></tr>{{end}}</tbody></table>
<h2>Kompletthet (bibliotek × plattform × måned, enheter etter tilstand)</h2>
{{with .Matrix}}<table><thead><tr><th>Bibliotek</th><th>Plattform</th>{{range .Months}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr><th>{{.Library}}</th><td>{{.Platform}}</td>{{range .Cells}}<td class="{{.Class}}">{{.Text}}</td>{{end}}</tr>
{{else}}<tr><td>Ledgeren er tom.</td></tr>{{end}}</tbody></table>{{end}}
{{template "foot" .}}{{end}}
`))
