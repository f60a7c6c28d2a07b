package config

import (
	"net/mail"
	"path/filepath"
	"strings"
	"time"
)

// Mail is the SMTP server BibStat sends through: the alert digests and
// the access requests' links and answers. No host means no mail is sent.
type Mail struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 587
	// StartTLS refuses to send unless the server offers STARTTLS; switch
	// it off only for a relay on the same host.
	StartTLS bool     `yaml:"starttls"`
	User     string   `yaml:"user"`
	Password Secret   `yaml:"password"`
	From     string   `yaml:"from"` // "BibStat <bibstat@bibliotek24.no>"
	Timeout  Duration `yaml:"timeout"`
}

// Enabled reports whether mail is configured.
func (m Mail) Enabled() bool { return m.Host != "" }

// Alerts is what "bibstat alerts" and the nightly run tell people.
type Alerts struct {
	// Operator is the consortium's address that gets every alert.
	Operator string `yaml:"operator"`
	// Lang is the operator's language: nb, nn or en (default server.lang).
	Lang string `yaml:"lang"`
	// DueDay is the day of the next month by which a month's usage is
	// expected; a month still not harvested then is missing. Default 28.
	DueDay int `yaml:"due_day"`
	// FailingNights is how many nights in a row a platform must fail
	// before the operator is told. Default 3.
	FailingNights int `yaml:"failing_nights"`
	// State records what was told to whom, so that each digest holds only
	// what is new; "" is alerts.json beside the ledger.
	State string `yaml:"state"`
}

// Access is who may ask for a portal account on the login page.
type Access struct {
	// Domains are the e-mail domains staff may ask from (municipal and
	// county domains); an address at a domain or any subdomain of one
	// counts. None: the portal takes no requests.
	Domains []string `yaml:"domains"`
	// LinkTTL is how long a confirmation or password link works.
	LinkTTL Duration `yaml:"link_ttl"`
	// Requests is the requests file, Audit the decisions' log.
	Requests string `yaml:"requests"`
	Audit    string `yaml:"audit"`
}

// Enabled reports whether the portal takes access requests.
func (a Access) Enabled() bool { return len(a.Domains) > 0 }

func defaultMail() Mail { return Mail{Port: 587, StartTLS: true, Timeout: Duration(30 * time.Second)} }

func defaultAlerts() Alerts { return Alerts{DueDay: 28, FailingNights: 3} }

func defaultAccess() Access {
	return Access{LinkTTL: Duration(24 * time.Hour), Requests: "access-requests.json", Audit: "access-audit.jsonl"}
}

// AlertLang is the operator's language: Alerts.Lang or the server's.
func (c *Config) AlertLang() string {
	if c.Alerts.Lang != "" {
		return c.Alerts.Lang
	}
	return c.Server.Lang
}

// AlertState is the digest state's file: Alerts.State, or alerts.json
// beside the ledger, whose states it records the telling of.
func (l *Loaded) AlertState() string {
	if l.Alerts.State != "" {
		return l.Path(l.Alerts.State)
	}
	return filepath.Join(filepath.Dir(l.Path(l.Ledger.Path)), "alerts.json")
}

// LibraryLang is a library's language: its own or the server's.
func (c *Config) LibraryLang(l *Library) string {
	if l.Lang != "" {
		return l.Lang
	}
	return c.Server.Lang
}

func validLang(s string) bool { return s == "nb" || s == "nn" || s == "en" }

// bareAddress reports whether s is an address with no display name.
func bareAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

func (m *Mail) validate(bad *problems) {
	if !m.Enabled() {
		if m.User != "" || m.Password != "" || m.From != "" {
			bad.add("mail: host is required when user, password or from is set")
		}
		return
	}
	if strings.ContainsAny(m.Host, " /:@") {
		bad.add("mail: host %q: want a host name or address, without a port", m.Host)
	}
	if m.Port <= 0 || m.Port > 65535 {
		bad.add("mail: port %d: want 1 to 65535", m.Port)
	}
	if err := m.Password.Check(); err != nil {
		bad.add("mail: password: %v", err)
	}
	if (m.User == "") != (m.Password == "") {
		bad.add("mail: user and password go together")
	}
	if a, err := mail.ParseAddress(m.From); err != nil || strings.ContainsAny(m.From, "\r\n") || a == nil {
		bad.add("mail: from %q: want an address such as \"BibStat <bibstat@bibliotek24.no>\"", m.From)
	}
	if m.Timeout < 0 {
		bad.add("mail: timeout must not be negative")
	}
}

func (c *Config) validateAlerts(bad *problems) {
	a := &c.Alerts
	if a.Operator != "" && !bareAddress(a.Operator) {
		bad.add("alerts: operator %q: want a bare address such as drift@bibliotek24.no", a.Operator)
	}
	if a.Operator != "" && !c.Mail.Enabled() {
		bad.add("alerts: operator is set but mail has no host to send through")
	}
	if a.Operator != "" && c.Server.BaseURL == "" {
		bad.add("alerts: server.base_url is required: every alert links to the portal page that shows it")
	}
	if a.Lang != "" && !validLang(a.Lang) {
		bad.add("alerts: lang %q: want nb, nn or en", a.Lang)
	}
	if a.DueDay < 1 || a.DueDay > 28 {
		bad.add("alerts: due_day %d: want 1 to 28 (a day every month has)", a.DueDay)
	}
	if a.FailingNights < 1 || a.FailingNights > 60 {
		bad.add("alerts: failing_nights %d: want 1 to 60", a.FailingNights)
	}
}

func (c *Config) validateAccess(bad *problems) {
	a := &c.Access
	for i, d := range a.Domains {
		if d != strings.ToLower(d) || strings.Count(d, ".") < 1 || strings.ContainsAny(d, " @/") || strings.HasPrefix(d, ".") {
			bad.add("access: domains[%d] %q: want a lower-case domain such as bergen.kommune.no", i, d)
		}
	}
	if !a.Enabled() {
		return
	}
	if !c.Mail.Enabled() {
		bad.add("access: domains are set but mail has no host: requests are confirmed by a mailed link")
	}
	if c.Server.BaseURL == "" {
		bad.add("access: server.base_url is required: the mailed links point at the portal")
	}
	if a.LinkTTL < Duration(5*time.Minute) || a.LinkTTL > Duration(30*24*time.Hour) {
		bad.add("access: link_ttl %s: want 5m to 720h", a.LinkTTL.D())
	}
	if a.Requests == "" || a.Audit == "" {
		bad.add("access: requests and audit are required")
	}
}
