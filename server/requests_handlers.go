package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bibliotek24/bibstat/internal/mail"
)

// accessPage is the data of the access requests' pages; Title, User and
// CSRF are what the portal's "head" template reads.
type accessPage struct {
	Title, CSRF, Error, Notice string
	User                       User
	Libraries                  []LibraryInfo
	Name, Email, Library       string // the form as sent, to fill it again
	Token                      string
	Pending, Decided           []Request
}

// errLink is shown for a link that is wrong, used or expired.
const errLink = "Lenken er ugyldig, brukt eller utløpt. Be om tilgang på nytt."

func (s *Server) accessForm(w http.ResponseWriter, r *http.Request) {
	s.renderAccess(w, r, http.StatusOK, "req-form", accessPage{Title: "Be om tilgang"})
}

// accessRequest takes a request: checks it, mails the confirmation link.
func (s *Server) accessRequest(w http.ResponseWriter, r *http.Request) {
	a := s.cfg.Access
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	d := accessPage{Title: "Be om tilgang"}
	if err := r.ParseForm(); err != nil {
		d.Error = "Ugyldig skjema."
		s.renderAccess(w, r, http.StatusBadRequest, "req-form", d)
		return
	}
	d.Name, d.Email, d.Library = strings.TrimSpace(r.PostForm.Get("name")), strings.ToLower(strings.TrimSpace(r.PostForm.Get("email"))), r.PostForm.Get("library")
	ip := s.clientIP(r)
	byAddr, byMail := a.throttles(s.cfg.Now)
	if wait := byAddr.Reserve("ip:" + ip); wait > 0 {
		s.accessTooMany(w, r, d, wait)
		return
	}
	lib, msg := s.checkRequest(r.Context(), d.Name, d.Email, d.Library)
	if msg != "" {
		d.Error = msg
		s.renderAccess(w, r, http.StatusBadRequest, "req-form", d)
		return
	}
	if wait := byMail.Reserve("mail:" + d.Email); wait > 0 {
		s.accessTooMany(w, r, d, wait)
		return
	}
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		// Links built from the request's Host could point anywhere.
		s.log.Error("access request: server.base_url is not set; no link can be mailed")
		s.renderAccess(w, r, http.StatusServiceUnavailable, "req-form", accessPage{Title: "Be om tilgang", Error: "Tjenesten er ikke satt opp for forespørsler."})
		return
	}
	now := s.cfg.Now()
	token, hash := newToken()
	req := Request{ID: fmt.Sprintf("%x", randomBytes(8)), Name: d.Name, Email: d.Email, Library: lib.ID, State: ReqUnconfirmed,
		Created: now.UTC(), TokenHash: hash, Expires: now.Add(a.LinkTTL).UTC()}
	send := true
	err := a.update(now, func(rs *[]Request) error {
		i := slices.IndexFunc(*rs, func(o Request) bool {
			return o.Email == req.Email && (o.State == ReqUnconfirmed || o.State == ReqPending)
		})
		switch {
		case i >= 0 && (*rs)[i].State == ReqPending:
			send = false // it waits for an admin already
		case i >= 0:
			req.ID = (*rs)[i].ID
			(*rs)[i] = req // a new link replaces the old
		default:
			*rs = append(*rs, req)
		}
		return nil
	})
	if err == nil && send {
		err = a.audit(AuditEvent{Time: now.UTC(), Event: "requested", Request: req.ID, Email: req.Email, Library: req.Library, IP: ip})
	}
	if err == nil && send {
		err = a.Mailer.Send(r.Context(), confirmMail(req, lib, base+"/access/confirm?token="+token, a.LinkTTL))
		if err != nil {
			// No link reached anyone: the request is dropped, to be asked again.
			_ = a.update(now, func(rs *[]Request) error {
				*rs = slices.DeleteFunc(*rs, func(o Request) bool { return o.ID == req.ID && o.State == ReqUnconfirmed })
				return nil
			})
		}
	}
	if err != nil {
		s.log.Error("access request", "request", req.ID, "error", err)
		s.renderAccess(w, r, http.StatusServiceUnavailable, "req-form", accessPage{Title: "Be om tilgang",
			Error: "Forespørselen kunne ikke sendes nå. Prøv igjen senere."})
		return
	}
	s.log.Info("access requested", "request", req.ID, "library", string(req.Library), "ip", ip)
	s.renderAccess(w, r, http.StatusOK, "req-done", accessPage{Title: "Be om tilgang", Notice: fmt.Sprintf(
		"Takk. Vi har sendt en lenke til %s. Åpne den innen %s for å bekrefte adressen; deretter vurderer Bibliotek24 forespørselen.",
		req.Email, hoursText(a.LinkTTL))})
}

// checkRequest checks a request's fields and returns its library, or
// what is wrong in words for the form.
func (s *Server) checkRequest(ctx context.Context, name, email, library string) (LibraryInfo, string) {
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return LibraryInfo{}, "Skriv navnet ditt (høyst 100 tegn)."
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr != email || !userNameRE.MatchString(email) {
		return LibraryInfo{}, "Skriv e-postadressen din på jobben, f.eks. kari.nordmann@bergen.kommune.no."
	}
	if !s.cfg.Access.domainAllowed(email) {
		return LibraryInfo{}, "Adressen må være en kommunal eller fylkeskommunal e-postadresse (" + strings.Join(s.cfg.Access.Domains, ", ") + ")."
	}
	libs, err := s.geo.Libraries(ctx)
	if err != nil {
		s.log.Error("access request: libraries", "error", err)
	}
	if i := slices.IndexFunc(libs, func(l LibraryInfo) bool { return string(l.ID) == library }); i >= 0 {
		return libs[i], ""
	}
	return LibraryInfo{}, "Velg biblioteket ditt fra listen."
}

func (s *Server) accessTooMany(w http.ResponseWriter, r *http.Request, d accessPage, wait time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
	d.Error = fmt.Sprintf("For mange forespørsler. Prøv igjen om %s.", max(wait, time.Second).Round(time.Second))
	s.renderAccess(w, r, http.StatusTooManyRequests, "req-form", d)
}

// accessConfirmForm asks for a click: a GET changes nothing, so a mail
// scanner that opens the link confirms no one.
func (s *Server) accessConfirmForm(w http.ResponseWriter, r *http.Request) {
	s.renderAccess(w, r, http.StatusOK, "req-confirm", accessPage{Title: "Bekreft e-postadressen", Token: r.URL.Query().Get("token")})
}

func (s *Server) accessConfirm(w http.ResponseWriter, r *http.Request) {
	a := s.cfg.Access
	if !smallForm(w, r) {
		return
	}
	now := s.cfg.Now()
	var req Request
	err := a.update(now, func(rs *[]Request) error {
		i := byToken(*rs, r.PostForm.Get("token"), ReqUnconfirmed, now)
		if i < 0 {
			return errNoLink
		}
		(*rs)[i].State, (*rs)[i].TokenHash, (*rs)[i].Expires = ReqPending, "", time.Time{}
		req = (*rs)[i]
		return nil
	})
	if err == nil {
		err = a.audit(AuditEvent{Time: now.UTC(), Event: "confirmed", Request: req.ID, Email: req.Email, Library: req.Library, IP: s.clientIP(r)})
	}
	if s.linkFailed(w, r, err) {
		return
	}
	s.renderAccess(w, r, http.StatusOK, "req-done", accessPage{Title: "Bekreft e-postadressen",
		Notice: "Adressen er bekreftet. En administrator i Bibliotek24 vurderer forespørselen, og du får svar på e-post."})
}

var errNoLink = errors.New("no live link with that token")

// smallForm parses a posted form of at most 16 KiB; false: it answered 400.
func smallForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form", http.StatusBadRequest)
		return false
	}
	return true
}

// linkFailed answers a wrong, used or expired link (counting it against
// the address, as a guess) or a failure to record; it reports whether it did.
func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errNoLink):
		byAddr, _ := s.cfg.Access.throttles(s.cfg.Now)
		if wait := byAddr.Reserve("ip:" + s.clientIP(r)); wait > 0 {
			s.accessTooMany(w, r, accessPage{Title: "Be om tilgang"}, wait)
			return true
		}
		s.renderAccess(w, r, http.StatusBadRequest, "req-done", accessPage{Title: "Be om tilgang", Error: errLink})
	default:
		s.log.Error("access link", "error", err)
		s.renderAccess(w, r, http.StatusServiceUnavailable, "req-done", accessPage{Title: "Be om tilgang", Error: "Kunne ikke lagre. Prøv igjen senere."})
	}
	return true
}

func (s *Server) accessPasswordForm(w http.ResponseWriter, r *http.Request) {
	s.renderAccess(w, r, http.StatusOK, "req-password", accessPage{Title: "Velg passord", Token: r.URL.Query().Get("token")})
}

// accessPassword sets the approved account's first password.
func (s *Server) accessPassword(w http.ResponseWriter, r *http.Request) {
	a := s.cfg.Access
	if !smallForm(w, r) {
		return
	}
	token, pw := r.PostForm.Get("token"), r.PostForm.Get("password")
	d := accessPage{Title: "Velg passord", Token: token}
	if pw != r.PostForm.Get("password2") || checkPassword(pw) != nil {
		d.Error = "Passordene må være like og ha minst 12 tegn."
		s.renderAccess(w, r, http.StatusBadRequest, "req-password", d)
		return
	}
	release, ok := s.hashSlot()
	if !ok {
		s.tooMany(w, time.Second)
		return
	}
	defer release()
	now := s.cfg.Now()
	var req Request
	err := a.update(now, func(rs *[]Request) error {
		i := byToken(*rs, token, ReqApproved, now)
		if i < 0 {
			return errNoLink
		}
		if err := s.cfg.Users.SetPassword((*rs)[i].User, pw); err != nil {
			return err
		}
		(*rs)[i].TokenHash, (*rs)[i].Expires = "", time.Time{}
		req = (*rs)[i]
		return nil
	})
	if err == nil {
		err = a.audit(AuditEvent{Time: now.UTC(), Event: "password_set", Request: req.ID, Email: req.Email, Library: req.Library, IP: s.clientIP(r)})
	}
	if s.linkFailed(w, r, err) {
		return
	}
	s.log.Info("access: first password set", "user", req.User)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
