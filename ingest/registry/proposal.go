package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/bibliotek24/bibstat/internal/config"
)

// Proposal is one platform entry proposed from a registry record.
type Proposal struct {
	// Platform holds what the registry says: ID (a slug of the name), Name,
	// BaseURL, Release and, when the record gives it, PlatformParam.
	Platform config.Platform
	// RegistryID is the registry's id of the platform (or of the
	// sushi-service, for a record that is only that).
	RegistryID string
	// Requires lists the parameters the service needs, of customer_id,
	// requestor_id, api_key and platform.
	Requires []string
	// Notes are the record's remarks, cleaned: what each parameter is,
	// rate limits, IP authentication, expiring credentials, migrations.
	Notes []string
	// Problem says why there is nothing to write: no usable SUSHI service.
	Problem string
}

// OK reports whether the proposal can become a config entry.
func (p Proposal) OK() bool { return p.Problem == "" }

// resolved is one of a platform's sushi services, read or not.
type resolved struct {
	svc  service
	link string // where it was read from, for messages
	err  error
}

var token = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// release maps the registry's counter_release to the config's, "" for one
// the harvest does not speak (R4).
func release(r string) string {
	r = strings.TrimSpace(r)
	switch {
	case r == "5.1" || strings.HasPrefix(r, "5.1."):
		return "5.1"
	case r == "5" || r == "5.0" || strings.HasPrefix(r, "5.0."):
		return "5"
	}
	return ""
}

// propose makes the proposal for a platform from its services: the newest
// release that could be read wins, the others are noted.
func propose(pl platformRecord, services []resolved) Proposal {
	p := Proposal{RegistryID: clean(pl.ID, 64)}
	p.Platform.Name = clean(pl.Name, maxName)
	if p.Platform.Name == "" {
		p.Platform.Name = clean(pl.Abbrev, maxName)
	}
	p.Platform.ID = slug(p.Platform.Name)
	if p.Platform.ID == "" {
		p.Platform.ID = "registry-" + slug(p.RegistryID)
	}
	var best *service
	var problems []string
	for i := range services {
		r := &services[i]
		if r.err == nil {
			_, r.err = baseURL(r.svc.URL)
		}
		switch rel := release(r.svc.CounterRelease); {
		case r.err != nil:
			problems = append(problems, r.err.Error())
		case rel == "":
			problems = append(problems, fmt.Sprintf("sushi service for release %q is not one bibstat harvests", clean(r.svc.CounterRelease, 16)))
		case best == nil || rel > release(best.CounterRelease):
			best = &r.svc
		}
	}
	if best == nil {
		p.Problem = "no SUSHI service in the registry record"
		if len(problems) > 0 {
			p.Problem = "no usable SUSHI service: " + strings.Join(problems, "; ")
		}
		return p
	}
	p.Notes = append(p.Notes, problems...)
	if pl.ContentProvider != "" {
		p.Notes = append(p.Notes, "provider: "+clean(pl.ContentProvider, maxName))
	}
	fill(&p, best)
	return p
}

// proposeService makes the proposal for a record that is only a
// sushi-service: it names no platform, so the name is the service's host.
func proposeService(s service) Proposal {
	if release(s.CounterRelease) == "" {
		return Proposal{RegistryID: clean(s.ID, 64), Problem: fmt.Sprintf("sushi service for release %q is not one bibstat harvests", clean(s.CounterRelease, 16))}
	}
	p := Proposal{RegistryID: clean(s.ID, 64)}
	fill(&p, &s)
	if p.OK() {
		u, _ := url.Parse(p.Platform.BaseURL)
		p.Platform.Name = u.Hostname()
		p.Platform.ID = slug(u.Hostname())
		p.Notes = append([]string{"the record is a sushi-service alone and names no platform: set name and id by hand"}, p.Notes...)
	}
	return p
}

// fill sets the SUSHI details of p from s.
func fill(p *Proposal, s *service) {
	base, err := baseURL(s.URL)
	if err != nil {
		p.Problem = err.Error()
		return
	}
	p.Platform.BaseURL, p.Platform.Release = base, release(s.CounterRelease)
	p.Requires = []string{"customer_id"} // every COUNTER_SUSHI report request has one
	note := func(what, info string) {
		if info = clean(info, maxNote); info != "" {
			p.Notes = append(p.Notes, what+": "+info)
		}
	}
	note("customer_id", s.CustomerIDInfo)
	for _, f := range []flagged{
		{"requestor_id", s.RequestorIDRequired, s.RequestorIDInfo},
		{"api_key", s.APIKeyRequired, s.APIKeyInfo},
		{"platform", s.PlatformAttrRequired, s.PlatformSpecificInfo},
	} {
		switch {
		case f.on == nil:
			p.Notes = append(p.Notes, "the record does not say whether "+f.name+" is required")
		case *f.on:
			p.Requires = append(p.Requires, f.name)
		}
		note(f.name, f.info)
	}
	if yes(s.PlatformAttrRequired) && token.MatchString(strings.TrimSpace(s.PlatformSpecificInfo)) {
		p.Platform.PlatformParam = strings.TrimSpace(s.PlatformSpecificInfo)
	}
	for _, f := range []flagged{
		{"credentials expire automatically", s.CredentialsAutoExpire, s.CredentialsAutoExpireInfo},
		{"request volume limits", s.RequestVolumeLimitsApplied, s.RequestVolumeLimitsInfo},
		{"IP address authorisation", s.IPAddressAuthorization, s.IPAddressAuthorizationInfo},
		{"customisations in place", s.CustomizationsInPlace, s.CustomizationsInfo},
	} {
		if yes(f.on) {
			p.Notes = append(p.Notes, strings.TrimSuffix(f.name+": "+clean(f.info, maxNote), ": "))
		}
	}
	for _, m := range s.Migrations {
		p.Notes = append(p.Notes, clean("migrated from "+m.DataHostOriginalName+" on "+m.MigrationDate, maxNote))
	}
}

// flagged is one of a service's yes/no fields with its explanation.
type flagged struct {
	name string
	on   *bool
	info string
}

func yes(b *bool) bool { return b != nil && *b }
