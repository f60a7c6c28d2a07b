package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/mail"
	"github.com/bibliotek24/bibstat/internal/mail/mailtest"
)

// sent is one message as the requester's mailbox shows it.
type sent struct{ to, subject, text string }

// mailbox is where the access mails go: a recorder, or a real SMTP server.
type mailbox interface {
	Mailer
	messages(t *testing.T) []sent
}

type recorder struct {
	mu   sync.Mutex
	msgs []sent
	fail atomic.Bool
}

func (r *recorder) Send(_ context.Context, m mail.Message) error {
	if r.fail.Load() {
		return os.ErrDeadlineExceeded
	}
	if _, err := m.Build("bibstat@bibliotek24.example", time.Now()); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, sent{m.To[0], m.Subject, m.Text})
	return nil
}

func (r *recorder) messages(*testing.T) []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.msgs...)
}

type mailpitBox struct {
	*mail.SMTP
	mp *mailtest.Mailpit
}

func (b mailpitBox) messages(t *testing.T) []sent {
	var out []sent
	for _, m := range b.mp.Messages(t) {
		out = append(out, sent{m.To[0], m.Subject, m.Text})
	}
	return out
}

// clock is a settable clock for link expiry.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// startRequests runs the portal with access requests at kommune.example
// and vlfk.example, mailing through box.
func startRequests(t *testing.T, box mailbox) (*live, *clock) {
	t.Helper()
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	l := startLive(t, func(c *Config) {
		c.Now, c.BaseURL = clk.now, "https://bibstat.example.no"
		c.Access = &Access{Domains: []string{"kommune.example", "vlfk.example"}, LinkTTL: time.Hour, Mailer: box,
			Requests: filepath.Join(filepath.Dir(c.Users.Path()), "access-requests.json"),
			Audit:    filepath.Join(filepath.Dir(c.Users.Path()), "access-audit.jsonl")}
	})
	return l, clk
}

var linkRE = regexp.MustCompile(`https://bibstat\.example\.no(/access/[a-z]+)\?token=([A-Za-z0-9_-]+)`)

// lastLink is the path and token of the newest link mailed to to.
func lastLink(t *testing.T, box mailbox, to string) (string, string, sent) {
	t.Helper()
	msgs := box.messages(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].to == to {
			if m := linkRE.FindStringSubmatch(msgs[i].text); m != nil {
				return m[1], m[2], msgs[i]
			}
			return "", "", msgs[i]
		}
	}
	t.Fatalf("no mail to %s", to)
	return "", "", sent{}
}

func ask(t *testing.T, l *live, name, email, lib string) (int, string) {
	t.Helper()
	resp, body := l.do(t, "POST", "/access", url.Values{"name": {name}, "email": {email}, "library": {lib}}, nil)
	return resp.StatusCode, body
}

// csrfOfPage reads the form token from an admin page.
func csrfOfPage(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in\n%s", body)
	}
	return m[1]
}

// requestIDs are the request ids on the admin page, in order.
func requestIDs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`action="/admin/requests/([0-9a-f]+)"`).FindAllStringSubmatch(body, -1) {
		if len(out) == 0 || out[len(out)-1] != m[1] {
			out = append(out, m[1])
		}
	}
	return out
}

func readAudit(t *testing.T, l *live) []AuditEvent {
	t.Helper()
	f, err := os.Open(l.cfg.Access.Audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []AuditEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// requestFlow: ask, confirm by the mailed link, approve as the county in
// /admin, set the password by the mailed link, log in; a second request
// is refused with its reason mailed back. Every step is in the audit log.
func requestFlow(t *testing.T, box mailbox) {
	l, _ := startRequests(t, box)
	if code, body := ask(t, l, "Kari <Nordmann>", "kari.nordmann@oslo.kommune.example", "2030100"); code != 200 || !strings.Contains(body, "Vi har sendt en lenke") {
		t.Fatalf("ask: %d\n%s", code, body)
	}
	path, token, m := lastLink(t, box, "kari.nordmann@oslo.kommune.example")
	if path != "/access/confirm" || !strings.Contains(m.text, "Hei Kari <Nordmann>") || !strings.Contains(m.text, "Oslo bibliotek (2030100)") {
		t.Fatalf("confirmation mail %q:\n%s", m.subject, m.text)
	}
	// Opening the link (a GET, as a mail scanner does) confirms nothing.
	if resp, body := l.do(t, "GET", path+"?token="+token, nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `value="`+token+`"`) {
		t.Fatalf("confirm page: %d", resp.StatusCode)
	}
	admin := login(t, l.base, "admin")
	if _, body := l.do(t, "GET", "/admin/requests", nil, admin); len(requestIDs(body)) != 0 {
		t.Fatal("an unconfirmed request waits in /admin")
	}
	if resp, body := l.do(t, "POST", path, url.Values{"token": {token}}, nil); resp.StatusCode != 200 || !strings.Contains(body, "bekreftet") {
		t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := l.do(t, "POST", path, url.Values{"token": {token}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a used link: %d, want 400", resp.StatusCode)
	}

	_, body := l.do(t, "GET", "/admin", nil, admin)
	if !strings.Contains(body, `href="/admin/requests"`) {
		t.Error("/admin does not link to the requests")
	}
	_, body = l.do(t, "GET", "/admin/requests", nil, admin)
	ids := requestIDs(body)
	if len(ids) != 1 || !strings.Contains(body, "Kari &lt;Nordmann&gt;") || strings.Contains(body, "Kari <Nordmann>") {
		t.Fatalf("pending requests %v in\n%s", ids, body)
	}
	csrf := csrfOfPage(t, body)
	// No decision without the session's form token, nor by a library user.
	if resp, _ := l.do(t, "POST", "/admin/requests/"+ids[0], url.Values{"action": {"approve"}, "role": {"county"}}, admin); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("decision without csrf: %d", resp.StatusCode)
	}
	if resp, _ := l.do(t, "POST", "/admin/requests/"+ids[0], url.Values{"action": {"approve"}, "role": {"county"}, "csrf": {csrf}}, login(t, l.base, "oslo")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("decision by a library user: %d", resp.StatusCode)
	}
	if resp, _ := l.do(t, "POST", "/admin/requests/"+ids[0], url.Values{"action": {"approve"}, "role": {"county"}, "csrf": {csrf}}, admin); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/requests" {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := l.cfg.Users.Get("kari.nordmann@oslo.kommune.example")
	if err != nil || u.Role != RoleCounty || u.County != "03" || u.PasswordHash != "" {
		t.Fatalf("account %+v, %v: want county 03 without a password yet", u, err)
	}
	path, token, m = lastLink(t, box, "kari.nordmann@oslo.kommune.example")
	if path != "/access/password" || !strings.Contains(m.subject, "godkjent") {
		t.Fatalf("approval mail %q:\n%s", m.subject, m.text)
	}
	const pw = "a long enough password"
	if resp, _ := l.do(t, "POST", path, url.Values{"token": {token}, "password": {pw}, "password2": {pw}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
	if code, c := l.login(t, "kari.nordmann@oslo.kommune.example", pw); code != http.StatusSeeOther || c == nil {
		t.Fatalf("login with the new password: %d", code)
	}
	if resp, _ := l.do(t, "POST", path, url.Values{"token": {token}, "password": {pw + "x"}, "password2": {pw + "x"}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the password link twice: %d", resp.StatusCode)
	}

	// A refusal mails its reason back.
	ask(t, l, "Ola", "ola@bergen.kommune.example", "3060201")
	path, token, _ = lastLink(t, box, "ola@bergen.kommune.example")
	l.do(t, "POST", path, url.Values{"token": {token}}, nil)
	_, body = l.do(t, "GET", "/admin/requests", nil, admin)
	ids = requestIDs(body)
	if resp, body := l.do(t, "POST", "/admin/requests/"+ids[0], url.Values{"action": {"refuse"}, "reason": {" "}, "csrf": {csrf}}, admin); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Skriv en begrunnelse") {
		t.Fatalf("refuse without a reason: %d", resp.StatusCode)
	}
	if _, body := l.do(t, "GET", "/admin/requests?error=Logg+inn+p%C3%A5+evil.example", nil, admin); strings.Contains(body, "evil.example") {
		t.Fatal("the page shows words from its URL")
	}
	if resp, _ := l.do(t, "POST", "/admin/requests/"+ids[0], url.Values{"action": {"refuse"}, "reason": {"Bruk skolens felles konto <b>"}, "csrf": {csrf}}, admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refuse: %d", resp.StatusCode)
	}
	if _, _, m = lastLink(t, box, "ola@bergen.kommune.example"); !strings.Contains(m.subject, "avslått") || !strings.Contains(m.text, "Begrunnelse: Bruk skolens felles konto <b>") {
		t.Fatalf("refusal mail %q:\n%s", m.subject, m.text)
	}
	if _, err := l.cfg.Users.Get("ola@bergen.kommune.example"); err == nil {
		t.Fatal("a refused request made an account")
	}

	var events []string
	for _, ev := range readAudit(t, l) {
		events = append(events, ev.Event+":"+ev.Email+":"+ev.By)
	}
	want := "requested:kari.nordmann@oslo.kommune.example: confirmed:kari.nordmann@oslo.kommune.example: approved:kari.nordmann@oslo.kommune.example:admin " +
		"password_set:kari.nordmann@oslo.kommune.example: requested:ola@bergen.kommune.example: confirmed:ola@bergen.kommune.example: refused:ola@bergen.kommune.example:admin"
	if strings.Join(events, " ") != want {
		t.Errorf("audit log\n got %s\nwant %s", strings.Join(events, " "), want)
	}
	for _, p := range []string{l.cfg.Access.Requests, l.cfg.Access.Audit} {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), token) || strings.Contains(string(b), pw) {
			t.Errorf("%s holds a link token or the password", p)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (names and addresses)", p, fi.Mode().Perm())
		}
	}
}

func TestRequestFlow(t *testing.T) { requestFlow(t, &recorder{}) }

// TestRequestFlowThroughMailpit is the same flow with every link read
// back from a real SMTP server.
func TestRequestFlowThroughMailpit(t *testing.T) {
	mp := mailtest.Start(t, mailtest.Options{})
	requestFlow(t, mailpitBox{SMTP: &mail.SMTP{Host: mp.Host, Port: mp.SMTPPort, From: "BibStat <bibstat@bibliotek24.example>"}, mp: mp})
}

func TestRequestRefusesOtherDomainsAndBadInput(t *testing.T) {
	box := &recorder{}
	l, _ := startRequests(t, box)
	for _, tc := range []struct{ name, email, lib, want string }{
		{"Kari", "kari@gmail.example", "2030100", "kommunal"},
		{"Kari", "kari@evilkommune.example", "2030100", "kommunal"},
		{"Kari", "kari@kommune.example.evil.example", "2030100", "kommunal"},
		{"Kari", "Kari <kari@oslo.kommune.example>", "2030100", "e-postadressen"},
		{"Kari", "kari+x@oslo.kommune.example", "2030100", "e-postadressen"},
		{"Kari", "kari@oslo.kommune.example\r\nBcc: x@y.example", "2030100", "e-postadressen"},
		{"", "kari@oslo.kommune.example", "2030100", "navnet"},
		{"Kari\x00", "kari@oslo.kommune.example", "2030100", "navnet"},
		{"Kari", "kari@oslo.kommune.example", "9999999", "biblioteket"},
	} {
		code, body := ask(t, l, tc.name, tc.email, tc.lib)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%q %q %q: %d, want 400 saying %q", tc.name, tc.email, tc.lib, code, tc.want)
		}
	}
	if n := len(box.messages(t)); n != 0 {
		t.Fatalf("%d mails sent for refused requests", n)
	}
	if code, _ := ask(t, l, "Kari", "kari@vlfk.example", "3060201"); code != 200 {
		t.Fatalf("an address at a listed domain itself: %d", code)
	}
}

func TestRequestThrottledPerEmailAndAddress(t *testing.T) {
	box := &recorder{}
	l, _ := startRequests(t, box)
	for i := range 2 {
		if code, _ := ask(t, l, "Kari", "kari@oslo.kommune.example", "2030100"); code != 200 {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	if code, _ := ask(t, l, "Kari", "kari@oslo.kommune.example", "2030100"); code != http.StatusTooManyRequests {
		t.Fatalf("a third request for one address: %d, want 429", code)
	}
	if n := len(box.messages(t)); n != 2 {
		t.Fatalf("%d mails to one address, want 2", n)
	}
	// Other addresses from the same client, until the address's own limit.
	got429 := false
	for i := range 12 {
		code, _ := ask(t, l, "Kari", "k"+strings.Repeat("x", i)+"@oslo.kommune.example", "2030100")
		if code == http.StatusTooManyRequests {
			got429 = true
			break
		}
	}
	if !got429 {
		t.Fatal("one client address asked for 15 accounts unhindered")
	}
}

func TestRequestLinksExpire(t *testing.T) {
	box := &recorder{}
	l, clk := startRequests(t, box)
	ask(t, l, "Kari", "kari@oslo.kommune.example", "2030100")
	path, token, _ := lastLink(t, box, "kari@oslo.kommune.example")
	clk.advance(time.Hour + time.Second)
	if resp, body := l.do(t, "POST", path, url.Values{"token": {token}}, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "utløpt") {
		t.Fatalf("an expired link: %d", resp.StatusCode)
	}
	b, _ := os.ReadFile(l.cfg.Access.Requests)
	if strings.Contains(string(b), "kari@oslo.kommune.example") {
		t.Error("an expired unconfirmed request keeps the person's address")
	}
}

func TestRequestMailFailureDropsTheRequest(t *testing.T) {
	box := &recorder{}
	box.fail.Store(true)
	l, _ := startRequests(t, box)
	if code, _ := ask(t, l, "Kari", "kari@oslo.kommune.example", "2030100"); code != http.StatusServiceUnavailable {
		t.Fatalf("mail down: %d, want 503", code)
	}
	b, _ := os.ReadFile(l.cfg.Access.Requests)
	if strings.Contains(string(b), "kari@") {
		t.Error("a request whose link was never mailed is kept")
	}
}

func TestRequestPagesOffWithoutAccess(t *testing.T) {
	l := startLive(t, nil)
	if resp, _ := l.do(t, "GET", "/access", nil, nil); resp.StatusCode == http.StatusOK {
		t.Fatal("/access is served without access requests configured")
	}
	if _, body := l.do(t, "GET", "/login", nil, nil); strings.Contains(body, `href="/access"`) {
		t.Error("the login page links to requests that are off")
	}
}
