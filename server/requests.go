package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/mail"
)

// Access is the portal's access requests. Staff ask on /access with
// their name, work e-mail and library; the address must be at one of
// Domains and is confirmed by a link mailed to it; the request then waits
// on /admin/requests until an admin approves it (as the library's or its
// county's account) or refuses it with a reason, which is mailed back. An
// approval makes the account in the users file, without a password: the
// mail carries a link to set one. Links expire after LinkTTL. Every
// request, confirmation and decision is a line in the audit log.
type Access struct {
	Domains  []string      // e-mail domains (and their subdomains) that may ask
	LinkTTL  time.Duration // how long a mailed link works
	Mailer   Mailer
	Requests string // the requests file (names and addresses: mode 0600)
	Audit    string // the audit log, one JSON line per event

	mu     sync.Mutex // the requests file's read-modify-write
	once   sync.Once
	byAddr *Throttle // requests per client address
	byMail *Throttle // requests per e-mail address
}

// Mailer sends one message; mail.SMTP is the real one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

var _ Mailer = (*mail.SMTP)(nil)

// The states of a request.
const (
	ReqUnconfirmed = "unconfirmed" // its link is mailed, not yet followed
	ReqPending     = "pending"     // confirmed: waiting for an admin
	ReqApproved    = "approved"    // the account exists; its password link is mailed
	ReqRefused     = "refused"
)

// Request is one request for an account. Tokens are kept as hashes: the
// file lets no one confirm a request or set a password.
type Request struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Library   bibstat.LibraryID `json:"library"`
	State     string            `json:"state"`
	Created   time.Time         `json:"created"`
	TokenHash string            `json:"token_hash,omitempty"` // the link's token: confirm, then set the password
	Expires   time.Time         `json:"expires,omitzero"`     // the link's end
	Decided   time.Time         `json:"decided,omitzero"`
	By        string            `json:"by,omitempty"` // the admin who decided
	Role      Role              `json:"role,omitempty"`
	County    string            `json:"county,omitempty"`
	Reason    string            `json:"reason,omitempty"` // why it was refused
	User      string            `json:"user,omitempty"`   // the account made
}

type requestsFile struct {
	Requests []Request `json:"requests"`
}

// throttles returns the request throttles: two links per mailbox, ten
// requests per client address (a municipality's staff share one), then
// waits that double.
func (a *Access) throttles(now func() time.Time) (byAddr, byMail *Throttle) {
	a.once.Do(func() {
		a.byAddr = &Throttle{Free: 9, Base: time.Minute, Max: time.Hour, Now: now}
		a.byMail = &Throttle{Free: 1, Base: 10 * time.Minute, Max: 24 * time.Hour, Now: now}
	})
	return a.byAddr, a.byMail
}

// domainAllowed reports whether the address is at a configured domain or
// a subdomain of one ("bergen.kommune.no" under "kommune.no").
func (a *Access) domainAllowed(email string) bool {
	_, domain, ok := strings.Cut(email, "@")
	if !ok {
		return false
	}
	for _, d := range a.Domains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// update runs fn over the requests, under the lock, and saves them unless
// fn fails. Unconfirmed requests whose link expired are dropped: they
// hold a person's name and address for nothing.
func (a *Access) update(now time.Time, fn func(rs *[]Request) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	rs, err := a.load()
	if err != nil {
		return err
	}
	n := len(rs)
	rs = slices.DeleteFunc(rs, func(r Request) bool { return r.State == ReqUnconfirmed && now.After(r.Expires) })
	changed := slices.Clone(rs)
	if err := fn(&changed); err != nil {
		if len(rs) < n {
			err = errors.Join(err, a.save(rs)) // what expired goes even so
		}
		return err
	}
	return a.save(changed)
}

func (a *Access) save(rs []Request) error {
	b, err := json.MarshalIndent(requestsFile{Requests: rs}, "", "  ")
	if err != nil {
		return fmt.Errorf("write access requests: %w", err)
	}
	if err := writeFileAtomic(a.Requests, append(b, '\n')); err != nil {
		return fmt.Errorf("write access requests: %w", err)
	}
	return nil
}

// list returns the requests, newest first.
func (a *Access) list() ([]Request, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rs, err := a.load()
	slices.SortFunc(rs, func(x, y Request) int { return y.Created.Compare(x.Created) })
	return rs, err
}

func (a *Access) load() ([]Request, error) { return ReadRequests(a.Requests) }

// ReadRequests reads the requests file at path, as "bibstat alerts" does
// to tell the operator who waits; a missing file is no requests.
func ReadRequests(path string) ([]Request, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read access requests: %w", err)
	}
	var f requestsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read access requests %s: %w", path, err)
	}
	return f.Requests, nil
}

// AuditEvent is one line of the audit log.
type AuditEvent struct {
	Time    time.Time         `json:"time"`
	Event   string            `json:"event"` // requested, confirmed, approved, refused, password_set
	Request string            `json:"request"`
	Email   string            `json:"email"`
	Library bibstat.LibraryID `json:"library,omitempty"`
	By      string            `json:"by,omitempty"` // the admin, for decisions
	Role    Role              `json:"role,omitempty"`
	County  string            `json:"county,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	IP      string            `json:"ip,omitempty"`
}

// audit appends ev to the audit log, synced: a decision is not done until
// it is on record.
func (a *Access) audit(ev AuditEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.Audit), 0o755); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(a.Audit, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// newToken returns a link token and the hash the file keeps of it.
func newToken() (token, hash string) {
	token = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	return token, tokenHash(token)
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte("bibstat-access\x00" + token))
	return hex.EncodeToString(h[:])
}

// byToken finds the request whose live link is token, in state.
func byToken(rs []Request, token, state string, now time.Time) int {
	if token == "" {
		return -1
	}
	h := tokenHash(token)
	return slices.IndexFunc(rs, func(r Request) bool {
		return r.TokenHash == h && r.State == state && now.Before(r.Expires)
	})
}

// requestRoutes registers the access requests' pages when they are on.
func (s *Server) requestRoutes(mux *http.ServeMux) {
	if s.cfg.Access == nil {
		return
	}
	mux.HandleFunc("GET /access", s.accessForm)
	mux.HandleFunc("POST /access", s.accessRequest)
	mux.HandleFunc("GET /access/confirm", s.accessConfirmForm)
	mux.HandleFunc("POST /access/confirm", s.accessConfirm)
	mux.HandleFunc("GET /access/password", s.accessPasswordForm)
	mux.HandleFunc("POST /access/password", s.accessPassword)
	mux.HandleFunc("GET /admin/requests", s.adminRequests)
	mux.HandleFunc("POST /admin/requests/{id}", s.adminDecide)
}
