package registry

import (
	"github.com/bibliotek24/bibstat/internal/config"
)

// Status is how a proposal compares with the config.
type Status string

const (
	New       Status = "new"
	Changed   Status = "changed"
	Unchanged Status = "unchanged"
	Skipped   Status = "skipped" // no usable SUSHI service: nothing to write
)

// Change is one field that differs: the config's value and the registry's.
type Change struct {
	Field, Old, New string
}

// Entry is a proposal against the config.
type Entry struct {
	Proposal
	Status  Status
	Changes []Change // for Changed
}

// Diff compares proposals with the config's platforms. A proposal matches
// the platform with its id, else the one with its base URL and platform
// parameter (the operator may have named it otherwise; the config's id is
// then kept; a config without the parameter matches any); each platform is matched at most once. Only what the
// registry says is compared: a platform_param it does not give is not a
// change.
func Diff(ps []Proposal, have []config.Platform) []Entry {
	out := make([]Entry, len(ps))
	taken := make([]bool, len(have))
	match := make([]int, len(ps))
	for i, p := range ps {
		out[i] = Entry{Proposal: p}
		match[i] = -1
		if !p.OK() {
			continue
		}
		for j, h := range have {
			if !taken[j] && h.ID == p.Platform.ID {
				match[i], taken[j] = j, true
				break
			}
		}
	}
	for i, p := range ps {
		if !p.OK() || match[i] >= 0 {
			continue
		}
		for j, h := range have {
			if !taken[j] && sameService(h, p.Platform) {
				match[i], taken[j] = j, true
				break
			}
		}
	}
	for i := range out {
		e := &out[i]
		switch {
		case !e.OK():
			e.Status = Skipped
		case match[i] < 0:
			e.Status = New
		default:
			h := have[match[i]]
			e.Platform.ID = h.ID
			e.Changes = changes(h, e.Platform)
			e.Status = Unchanged
			if len(e.Changes) > 0 {
				e.Status = Changed
			}
		}
	}
	return out
}

// sameService: the same base URL (as the harvest reads it) and platform
// parameter, or none yet in the config (the registry then adds it).
func sameService(h, p config.Platform) bool {
	hb, err := baseURL(h.BaseURL)
	return err == nil && hb == p.BaseURL && (h.PlatformParam == p.PlatformParam || h.PlatformParam == "")
}

func changes(h, p config.Platform) []Change {
	var cs []Change
	add := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{field, old, new})
		}
	}
	add("name", h.Name, p.Name)
	if hb, err := baseURL(h.BaseURL); err != nil || hb != p.BaseURL {
		add("base_url", h.BaseURL, p.BaseURL)
	}
	add("release", h.Release, p.Release)
	if p.PlatformParam != "" {
		add("platform_param", h.PlatformParam, p.PlatformParam)
	}
	return cs
}
