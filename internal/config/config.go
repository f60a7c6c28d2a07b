package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
)

// Config is the whole configuration file.
type Config struct {
	Platforms   []Platform   `yaml:"platforms"`
	Credentials []Credential `yaml:"credentials"`
	Libraries   []Library    `yaml:"libraries"`
	Schedule    Schedule     `yaml:"schedule"`
	Store       Store        `yaml:"store"`
	Warehouse   Warehouse    `yaml:"warehouse"`
	Ledger      Ledger       `yaml:"ledger"`
	Harvest     Harvest      `yaml:"harvest"`
	Server      Server       `yaml:"server"`
	Mail        Mail         `yaml:"mail"`
	Alerts      Alerts       `yaml:"alerts"`
	Access      Access       `yaml:"access"`
	AccessLogs  AccessLogs   `yaml:"access_logs"`
}

// AccessLogs is where the consortium's own proxy and single sign-on logs
// arrive and what is kept of them. Everything here is outside the archive:
// an original log holds real user ids (README, "Personal data").
type AccessLogs struct {
	// Config is the access-log file: sources and platforms (see
	// ingest/accesslog); none means no access logs.
	Config string `yaml:"config"`
	// Inbox is a local folder; a log dropped in Inbox/<source>/ is read as
	// that source by `ingest-logs --inbox` and each night.
	Inbox string `yaml:"inbox"`
	// Key is the pseudonym key file (0600); default accesslog.key beside
	// the ledger.
	Key string `yaml:"key"`
	// Originals keeps each original log until Retention has passed; default
	// accesslog-originals beside the key.
	Originals string `yaml:"originals"`
	// Retention is how long an original is kept; zero means 30 days.
	Retention Duration `yaml:"retention"`
}

// Platform is one vendor SUSHI service.
type Platform struct {
	ID      string `yaml:"id"`       // key segment, e.g. "avisarkiv"
	Name    string `yaml:"name"`     // display name
	BaseURL string `yaml:"base_url"` // SUSHI base, without /r51
	Release string `yaml:"release"`  // "5" or "5.1"
	// Spacing is the least time between two requests to the platform's
	// host; zero means Harvest.Spacing.
	Spacing Duration `yaml:"spacing"`
	// Host groups platforms served by one vendor host for politeness; empty
	// means the base URL's host.
	Host string `yaml:"host"`
	// Reports to harvest; empty means ["pr"].
	Reports []bibstat.ReportID `yaml:"reports"`
	// PlatformParam is sent as the "platform" parameter when the vendor needs it.
	PlatformParam string `yaml:"platform_param"`
	// Consortium is the consortium's own credential, for /members.
	Consortium *ConsortiumCredential `yaml:"consortium"`
	// PreferSource names the source that counts when a harvest and an
	// upload (or uploads under two vendor ids) hold the same usage of the
	// same release: "sushi", "upload", or "upload/VENDOR". Empty: the
	// newest counts. The warehouse's rule is in transform's doc.
	PreferSource string `yaml:"prefer_source"`
	// CountSource names the class of source whose usage counts:
	// CountCounter (the vendor's COUNTER reports, harvested or uploaded;
	// the default) or CountAccessLog (the consortium's own logins). The
	// other is kept for comparison, never added. The warehouse's rule is
	// in transform's doc.
	CountSource string `yaml:"count_source"`
}

// The values of Platform.CountSource; empty means CountCounter.
const (
	CountCounter   = "counter"
	CountAccessLog = "access-log"
)

// ConsortiumCredential is the consortium's credential on a platform.
type ConsortiumCredential struct {
	CustomerID  string `yaml:"customer_id"`
	RequestorID Secret `yaml:"requestor_id"`
	APIKey      Secret `yaml:"api_key"`
}

// Credential is one library's access to one platform.
type Credential struct {
	Platform string `yaml:"platform"`
	Library  string `yaml:"library"` // bibnr
	// ID is unique within the platform; empty means the library number.
	ID            string `yaml:"id"`
	CustomerID    string `yaml:"customer_id"`
	RequestorID   Secret `yaml:"requestor_id"`
	APIKey        Secret `yaml:"api_key"`
	PlatformParam string `yaml:"platform_param"`
	// Disabled keeps the entry but harvests nothing with it.
	Disabled bool `yaml:"disabled"`
}

// CredentialID is ID or, when empty, the library number.
func (c Credential) CredentialID() string {
	if c.ID != "" {
		return c.ID
	}
	return c.Library
}

// Library is a member library.
type Library struct {
	Bibnr        string `yaml:"bibnr"`
	Name         string `yaml:"name"`
	Municipality string `yaml:"municipality"` // municipality number, never derived from bibnr
	// Contact is the library's address for alerts (a shared mailbox, not
	// a person); "" tells the operator only.
	Contact string `yaml:"contact"`
	Lang    string `yaml:"lang"` // the library's language for e-mail: nb, nn or en (default server.lang)
}

// Schedule is when the nightly harvest runs and what it covers.
type Schedule struct {
	Cron     string `yaml:"cron"`     // robfig/cron five-field spec
	Timezone string `yaml:"timezone"` // IANA zone, e.g. Europe/Oslo
	// Start is the first month to backfill, YYYY-MM.
	Start string `yaml:"start"`
	// RefreshMonths are re-harvested every night (vendors restate them).
	RefreshMonths int `yaml:"refresh_months"`
}

// Store is the object store: a local directory or S3.
type Store struct {
	Kind            string `yaml:"kind"` // "local" or "s3"
	Dir             string `yaml:"dir"`  // local
	Endpoint        string `yaml:"endpoint"`
	Region          string `yaml:"region"`
	Bucket          string `yaml:"bucket"`
	Prefix          string `yaml:"prefix"`
	PathStyle       bool   `yaml:"path_style"`
	AccessKeyID     Secret `yaml:"access_key_id"`
	SecretAccessKey Secret `yaml:"secret_access_key"`
	// Timeout bounds one S3 operation, retries included, so that a server
	// that takes connections and never answers stops a harvest in seconds.
	Timeout Duration `yaml:"timeout"`
}

// Warehouse is the DuckDB warehouse.
type Warehouse struct {
	Path          string `yaml:"path"`
	MemoryLimit   string `yaml:"memory_limit"`
	Threads       int    `yaml:"threads"`
	TempDirectory string `yaml:"temp_directory"`
}

// Ledger is the harvest ledger journal.
type Ledger struct {
	Path string `yaml:"path"`
}

// Harvest tunes the harvester.
type Harvest struct {
	Spacing   Duration `yaml:"spacing"`    // default per-host spacing
	Timeout   Duration `yaml:"timeout"`    // per request
	UserAgent string   `yaml:"user_agent"` // sent to vendors
}

// Server is what "bibstat serve" runs beside the schedule: the portal (the
// report site per user), the SUSHI server, /healthz and /metrics, and the
// nightly pipeline's outputs. Relative paths are read from the config
// file's directory.
type Server struct {
	Listen   string `yaml:"listen"`   // e.g. 127.0.0.1:8080; "" runs the schedule without HTTP
	BaseURL  string `yaml:"base_url"` // public URL shown to libraries as their SUSHI endpoint
	SiteDir  string `yaml:"site_dir"` // where the nightly report site is written
	Lang     string `yaml:"lang"`     // report language: nb, nn or en
	Users    string `yaml:"users"`    // the accounts file ("bibstat users")
	RunLog   string `yaml:"run_log"`  // one JSON line per nightly stage
	Mappings string `yaml:"mappings"` // vendor mapping directory for the upload inbox; "" skips the inbox
	// TrustedProxies are the reverse proxies (addresses or CIDR prefixes)
	// whose Forwarded / X-Forwarded-For headers name the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MetricsToken lets a scraper read /metrics with "Authorization:
	// Bearer <token>"; without it only an admin session may.
	MetricsToken Secret `yaml:"metrics_token"`
	// MetricsListen is a second address, for the internal network, that
	// serves /metrics to anyone who reaches it; "" for none.
	MetricsListen string `yaml:"metrics_listen"`
}

// Proxies parses TrustedProxies; a bare address is its own /32 or /128.
func (s Server) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range s.TrustedProxies {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("server: trusted_proxies: %q is not an address or prefix", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Duration is a time.Duration written as "3s", "500ms".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: want e.g. 3s or 500ms", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default is the configuration every file starts from.
func Default() Config {
	return Config{
		Schedule:  Schedule{Cron: "0 2 * * *", Timezone: "Europe/Oslo", RefreshMonths: 3},
		Store:     Store{Kind: "local", Dir: "archive", Timeout: Duration(25 * time.Second)}, // store.DefaultS3Timeout
		Warehouse: Warehouse{Path: "warehouse.duckdb"},
		Ledger:    Ledger{Path: "ledger.jsonl"},
		Harvest:   Harvest{Spacing: Duration(3 * time.Second), Timeout: Duration(5 * time.Minute), UserAgent: "BibStat (Bibliotek24)"},
		Server:    Server{Listen: "127.0.0.1:8080", SiteDir: "site", Lang: "nb", Users: "users.json", RunLog: "runs.jsonl"},
		Mail:      defaultMail(),
		Alerts:    defaultAlerts(),
		Access:    defaultAccess(),
	}
}

// Parse reads a configuration over Default. Unknown keys are errors that
// name the key and line. Parse does not Validate.
func Parse(r io.Reader) (Config, error) {
	cfg := Default()
	b, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("parse config: %s", strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "), "\n  ", "; "))
	}
	return cfg, nil
}

// Platform returns the platform with id.
func (c *Config) Platform(id string) (*Platform, bool) {
	for i := range c.Platforms {
		if c.Platforms[i].ID == id {
			return &c.Platforms[i], true
		}
	}
	return nil, false
}

// Library returns the library with bibnr.
func (c *Config) Library(bibnr string) (*Library, bool) {
	for i := range c.Libraries {
		if c.Libraries[i].Bibnr == bibnr {
			return &c.Libraries[i], true
		}
	}
	return nil, false
}

// SpacingFor is the platform's spacing or the harvest default.
func (c *Config) SpacingFor(p *Platform) time.Duration {
	if p.Spacing > 0 {
		return p.Spacing.D()
	}
	return c.Harvest.Spacing.D()
}

// HostFor is the politeness host of p: Host or the base URL's host.
func HostFor(p *Platform) string {
	if p.Host != "" {
		return p.Host
	}
	if u, err := url.Parse(p.BaseURL); err == nil {
		return u.Host
	}
	return p.BaseURL
}

// ReportsFor is the platform's reports, default ["pr"].
func ReportsFor(p *Platform) []bibstat.ReportID {
	if len(p.Reports) == 0 {
		return []bibstat.ReportID{"pr"}
	}
	return p.Reports
}
