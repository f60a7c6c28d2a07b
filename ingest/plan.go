package ingest

import (
	"fmt"
	"sort"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/config"
)

// PlanOptions narrow a harvest.
type PlanOptions struct {
	Platform string // only this platform id; "" for all
	Library  string // only this bibnr; "" for all
	// From and To bound the months; zero From means the schedule's start
	// (or twelve months back), zero To the last complete month before Now.
	From, To bibstat.Month
	// Now is the clock, in the schedule's time zone.
	Now time.Time
}

// Plan lists the jobs a harvest of cfg covers: every enabled credential ×
// its platform's reports × every month in range, the newest months first.
// Months within the schedule's refresh window are marked Refresh. A
// credential whose secrets cannot be resolved is left out, and its
// *NotPlannedError returned among the others: one broken entry never
// stops the rest.
func Plan(cfg *config.Config, o PlanOptions) ([]Job, bibstat.Month, bibstat.Month, []error) {
	from, to := Window(cfg, o)
	refreshFrom := to.Add(-(cfg.Schedule.RefreshMonths - 1))
	if cfg.Schedule.RefreshMonths <= 0 {
		refreshFrom = to.Add(1)
	}
	months := bibstat.MonthsBetween(from, to)
	var errs []error
	type credJobs struct {
		cred    sushi.Credential
		reports []bibstat.ReportID
		host    string
		spacing time.Duration
	}
	var creds []credJobs
	for _, c := range cfg.Credentials {
		if c.Disabled || (o.Platform != "" && c.Platform != o.Platform) || (o.Library != "" && c.Library != o.Library) {
			continue
		}
		p, ok := cfg.Platform(c.Platform)
		if !ok {
			errs = append(errs, &NotPlannedError{Units: len(months),
				Err: fmt.Errorf("credential %s/%s: unknown platform", c.Platform, c.CredentialID())})
			continue
		}
		sc, err := Credential(p, c)
		if err != nil {
			errs = append(errs, &NotPlannedError{Units: len(months) * len(config.ReportsFor(p)), Err: err})
			continue
		}
		creds = append(creds, credJobs{cred: sc, reports: config.ReportsFor(p), host: config.HostFor(p), spacing: cfg.SpacingFor(p)})
	}
	sort.SliceStable(creds, func(i, j int) bool {
		if creds[i].cred.Platform != creds[j].cred.Platform {
			return creds[i].cred.Platform < creds[j].cred.Platform
		}
		return creds[i].cred.ID < creds[j].cred.ID
	})
	var jobs []Job
	for i := len(months) - 1; i >= 0; i-- {
		m := months[i]
		for _, c := range creds {
			for _, r := range c.reports {
				jobs = append(jobs, Job{Unit: bibstat.Unit{Platform: c.cred.Platform, Credential: c.cred.ID, Report: r, Month: m},
					Cred: c.cred, Refresh: !m.Before(refreshFrom), Host: c.host, Spacing: c.spacing})
			}
		}
	}
	return jobs, from, to, errs
}

// NotPlannedError is a credential left out of a harvest, with the number
// of units that therefore could not run: the harvest must say so rather
// than look like a night with nothing to do.
type NotPlannedError struct {
	Units int
	Err   error
}

func (e *NotPlannedError) Error() string { return e.Err.Error() }
func (e *NotPlannedError) Unwrap() error { return e.Err }

// Window is the months a harvest covers by default.
func Window(cfg *config.Config, o PlanOptions) (from, to bibstat.Month) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	to = o.To
	if to.IsZero() {
		to = bibstat.MonthOf(now).Add(-1)
	}
	from = o.From
	if from.IsZero() {
		if s, err := bibstat.ParseMonth(cfg.Schedule.Start); err == nil && cfg.Schedule.Start != "" {
			from = s
		} else {
			from = to.Add(-11)
		}
	}
	return from, to
}

// Credential resolves a configured credential's secrets into a SUSHI
// credential. Errors name the reference, never a value.
func Credential(p *config.Platform, c config.Credential) (sushi.Credential, error) {
	lib, err := bibstat.ParseLibraryID(c.Library)
	if err != nil {
		return sushi.Credential{}, fmt.Errorf("credential %s/%s: %w", c.Platform, c.CredentialID(), err)
	}
	req, err := c.RequestorID.Resolve()
	if err != nil {
		return sushi.Credential{}, fmt.Errorf("credential %s/%s: requestor_id: %w", c.Platform, c.CredentialID(), err)
	}
	key, err := c.APIKey.Resolve()
	if err != nil {
		return sushi.Credential{}, fmt.Errorf("credential %s/%s: api_key: %w", c.Platform, c.CredentialID(), err)
	}
	param := c.PlatformParam
	if param == "" {
		param = p.PlatformParam
	}
	return sushi.Credential{ID: c.CredentialID(), Platform: p.ID, Library: lib, BaseURL: p.BaseURL, Release: p.Release,
		CustomerID: c.CustomerID, RequestorID: req, APIKey: key, PlatformParam: param}, nil
}

// ConsortiumCredential resolves a platform's consortium credential.
func ConsortiumCredential(p *config.Platform) (sushi.Credential, error) {
	if p.Consortium == nil {
		return sushi.Credential{}, fmt.Errorf("platform %s: no consortium credential configured", p.ID)
	}
	req, err := p.Consortium.RequestorID.Resolve()
	if err != nil {
		return sushi.Credential{}, fmt.Errorf("platform %s: consortium requestor_id: %w", p.ID, err)
	}
	key, err := p.Consortium.APIKey.Resolve()
	if err != nil {
		return sushi.Credential{}, fmt.Errorf("platform %s: consortium api_key: %w", p.ID, err)
	}
	return sushi.Credential{ID: "consortium", Platform: p.ID, BaseURL: p.BaseURL, Release: p.Release,
		CustomerID: p.Consortium.CustomerID, RequestorID: req, APIKey: key, PlatformParam: p.PlatformParam}, nil
}
