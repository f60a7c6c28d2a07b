package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bibliotek24/bibstat"
)

// Validate checks the whole configuration and returns every problem found,
// joined, section by section in the file's order.
func (c *Config) Validate() error {
	var p problems
	platforms := c.validatePlatforms(&p)
	libs := c.validateLibraries(&p)
	c.validateCredentials(&p, platforms, libs)
	c.Schedule.validate(&p)
	c.Store.validate(&p)
	c.Warehouse.validate(&p)
	c.Ledger.validate(&p)
	c.Server.validate(&p)
	c.Harvest.validate(&p)
	c.Mail.validate(&p)
	c.validateAlerts(&p)
	c.validateAccess(&p)
	c.AccessLogs.validate(&p)
	if len(p) > 0 {
		return fmt.Errorf("invalid config: %w", errors.Join(p...))
	}
	return nil
}

// problems collects what Validate found.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

var platformIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// validatePlatforms checks each platform and returns them by id.
func (c *Config) validatePlatforms(bad *problems) map[string]*Platform {
	platforms := map[string]*Platform{}
	for i := range c.Platforms {
		p := &c.Platforms[i]
		where := fmt.Sprintf("platforms[%d] (%s)", i, p.ID)
		if !platformIDRE.MatchString(p.ID) {
			bad.add("%s: id must be lower-case letters, digits, - or _", where)
		}
		if platforms[p.ID] != nil {
			bad.add("%s: duplicate platform id", where)
		}
		platforms[p.ID] = p
		if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad.add("%s: base_url %q is not an http(s) URL", where, p.BaseURL)
		} else if u.User != nil || u.RawQuery != "" {
			bad.add("%s: base_url must carry no credentials or query; put them in credentials", where)
		}
		if p.Release != "5" && p.Release != "5.1" {
			bad.add("%s: release %q: want \"5\" or \"5.1\"", where, p.Release)
		}
		if p.Spacing < 0 {
			bad.add("%s: spacing must not be negative", where)
		}
		if v, ok := strings.CutPrefix(p.PreferSource, "upload/"); p.PreferSource != "" && p.PreferSource != "sushi" && p.PreferSource != "upload" &&
			(!ok || bibstat.CheckSegment(v) != nil) {
			bad.add("%s: prefer_source %q: want \"sushi\", \"upload\" or \"upload/VENDOR\"", where, p.PreferSource)
		}
		if p.CountSource != "" && p.CountSource != CountCounter && p.CountSource != CountAccessLog {
			bad.add("%s: count_source %q: want %q or %q", where, p.CountSource, CountCounter, CountAccessLog)
		}
		for _, r := range p.Reports {
			if _, err := bibstat.ParseReportID(string(r)); err != nil {
				bad.add("%s: %v", where, err)
			}
		}
		if p.Consortium != nil {
			for _, s := range []Secret{p.Consortium.RequestorID, p.Consortium.APIKey} {
				if err := s.Check(); err != nil {
					bad.add("%s: consortium: %v", where, err)
				}
			}
		}
	}
	return platforms
}

// validateLibraries checks each library and returns the set of bibnrs.
func (c *Config) validateLibraries(bad *problems) map[string]bool {
	libs := map[string]bool{}
	for i, l := range c.Libraries {
		if _, err := bibstat.ParseLibraryID(l.Bibnr); err != nil || strings.TrimSpace(l.Bibnr) != l.Bibnr || len(l.Bibnr) != 7 {
			bad.add("libraries[%d]: bibnr %q: want 7 digits", i, l.Bibnr)
		}
		if libs[l.Bibnr] {
			bad.add("libraries[%d]: duplicate bibnr %s", i, l.Bibnr)
		}
		libs[l.Bibnr] = true
		if l.Municipality != "" && (len(l.Municipality) != 4 || strings.Trim(l.Municipality, "0123456789") != "") {
			bad.add("libraries[%d] (%s): municipality %q: want 4 digits", i, l.Bibnr, l.Municipality)
		}
		if l.Contact != "" && !bareAddress(l.Contact) {
			bad.add("libraries[%d] (%s): contact %q: want a bare address such as post@bergen.kommune.no", i, l.Bibnr, l.Contact)
		}
		if l.Lang != "" && !validLang(l.Lang) {
			bad.add("libraries[%d] (%s): lang %q: want nb, nn or en", i, l.Bibnr, l.Lang)
		}
	}
	return libs
}

// validateCredentials checks each credential against the platforms and libraries.
func (c *Config) validateCredentials(bad *problems, platforms map[string]*Platform, libs map[string]bool) {
	creds := map[string]bool{}
	for i, cr := range c.Credentials {
		where := fmt.Sprintf("credentials[%d] (%s/%s)", i, cr.Platform, cr.CredentialID())
		if platforms[cr.Platform] == nil {
			bad.add("%s: unknown platform %q", where, cr.Platform)
		}
		if !libs[cr.Library] {
			bad.add("%s: unknown library %q", where, cr.Library)
		}
		if err := bibstat.CheckSegment(cr.CredentialID()); err != nil {
			bad.add("%s: id: %v", where, err)
		}
		key := cr.Platform + "/" + cr.CredentialID()
		if creds[key] {
			bad.add("%s: duplicate credential id on the platform", where)
		}
		creds[key] = true
		if cr.CustomerID == "" {
			bad.add("%s: customer_id is required", where)
		}
		if err := cr.RequestorID.Check(); err != nil {
			bad.add("%s: requestor_id: %v", where, err)
		}
		if err := cr.APIKey.Check(); err != nil {
			bad.add("%s: api_key: %v", where, err)
		}
	}
}

func (s *Schedule) validate(bad *problems) {
	if _, err := cron.ParseStandard(s.Cron); err != nil {
		bad.add("schedule: cron %q: %v", s.Cron, err)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		bad.add("schedule: timezone %q: %v", s.Timezone, err)
	}
	if s.Start != "" {
		if _, err := bibstat.ParseMonth(s.Start); err != nil {
			bad.add("schedule: start: %v", err)
		}
	}
	if s.RefreshMonths < 0 || s.RefreshMonths > 36 {
		bad.add("schedule: refresh_months %d: want 0 to 36", s.RefreshMonths)
	}
}

// maxStoreTimeout is the longest store.timeout: longer, and a frozen
// server would hold a night's harvest hostage rather than fail it.
const maxStoreTimeout = Duration(10 * time.Minute)

func (s *Store) validate(bad *problems) {
	if s.Timeout <= 0 || s.Timeout > maxStoreTimeout {
		bad.add("store: timeout %s: want more than 0 and at most 10m", s.Timeout.D())
	}
	switch s.Kind {
	case "local":
		if s.Dir == "" {
			bad.add("store: dir is required for kind local")
		}
	case "s3":
		if s.Bucket == "" {
			bad.add("store: bucket is required for kind s3")
		}
		if s.Endpoint != "" {
			if u, err := url.Parse(s.Endpoint); err != nil || u.Host == "" || u.User != nil {
				bad.add("store: endpoint %q is not a URL without credentials", s.Endpoint)
			}
		}
		for _, sec := range []Secret{s.AccessKeyID, s.SecretAccessKey} {
			if err := sec.Check(); err != nil {
				bad.add("store: %v", err)
			}
		}
	default:
		bad.add("store: kind %q: want local or s3", s.Kind)
	}
}

func (w *Warehouse) validate(bad *problems) {
	if w.Path == "" {
		bad.add("warehouse: path is required")
	}
	if w.Threads < 0 {
		bad.add("warehouse: threads must not be negative")
	}
}

func (l *Ledger) validate(bad *problems) {
	if l.Path == "" {
		bad.add("ledger: path is required")
	}
}

func (s *Server) validate(bad *problems) {
	switch s.Lang {
	case "nb", "nn", "en":
	default:
		bad.add("server: lang %q: want nb, nn or en", s.Lang)
	}
	if s.SiteDir == "" || s.Users == "" || s.RunLog == "" {
		bad.add("server: site_dir, users and run_log are required")
	}
	if _, err := s.Proxies(); err != nil {
		bad.add("%v", err)
	}
	if err := s.MetricsToken.Check(); err != nil {
		bad.add("server: metrics_token: %v", err)
	}
	if s.MetricsListen != "" && s.MetricsListen == s.Listen {
		bad.add("server: metrics_listen must differ from listen (it serves /metrics to anyone)")
	}
}

func (a *AccessLogs) validate(bad *problems) {
	if a.Retention < 0 {
		bad.add("access_logs: retention must not be negative")
	}
	if a.Inbox != "" && a.Config == "" {
		bad.add("access_logs: inbox needs config (the access-log file naming its sources)")
	}
}

func (h *Harvest) validate(bad *problems) {
	if h.Spacing < 0 || h.Timeout < 0 {
		bad.add("harvest: spacing and timeout must not be negative")
	}
}
