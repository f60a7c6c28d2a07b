package alerts

import (
	"cmp"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/config"
)

// Kind is what an alert is about.
type Kind string

// The kinds of alerts, in the order a digest lists them.
const (
	KindRun        Kind = "run_failed"        // a stage of the night failed
	KindCredential Kind = "credential_broken" // a vendor refuses a credential
	KindPlatform   Kind = "platform_failing"  // a platform failed N nights in a row
	KindUpload     Kind = "upload_rejected"   // a file in the inbox was rejected
	KindMissing    Kind = "month_missing"     // a month not harvested by its due day
	KindAccess     Kind = "access_pending"    // staff wait for an account on /admin/requests
)

var kindOrder = []Kind{KindRun, KindCredential, KindPlatform, KindUpload, KindMissing, KindAccess}

// Alert is one thing that needs a person. ID is its identity across
// nights: a digest holds the alerts whose ID its recipient was not told.
type Alert struct {
	ID         string
	Kind       Kind
	Library    bibstat.LibraryID // whose it is; "" for the operator's alone
	Platform   string
	Credential string
	Month      string
	Report     string
	Stage      string    // KindRun
	File       string    // KindUpload
	Name       string    // KindAccess: who asks
	Email      string    // KindAccess
	Reason     string    // the vendor's or the stage's words, never a secret
	Code       int       // the COUNTER exception, if any
	Nights     int       // KindPlatform
	At         time.Time // when it happened (the run, the first failing night)
}

// Run is one stage of a night as the run log records it (server.Run).
type Run struct {
	Kind    string
	Start   time.Time
	End     time.Time
	Outcome string // ok, failed, canceled
	Detail  string
}

// Upload is a file the inbox rejected.
type Upload struct {
	Key    string // its reason note in the store
	Vendor string
	File   string
	Reason string
}

// AccessRequest is a confirmed request for a portal account that waits
// for an admin's decision (server.Request).
type AccessRequest struct {
	ID, Name, Email string
	Library         bibstat.LibraryID
	Created         time.Time
}

// Inputs is what the alerts are worked out from.
type Inputs struct {
	Config   *config.Config
	Ledger   []ledger.Entry
	Runs     []Run // newest first, as the run log gives them
	Uploads  []Upload
	Requests []AccessRequest
	Now      time.Time
}

// runWindow is how long a failed stage stays an alert: long enough to be
// told after a night or two without mail, short enough to be forgotten.
const runWindow = 7 * 24 * time.Hour

// Find returns what needs a person now, sorted by kind, and records the
// latest harvest in st's platform streaks (once per harvest run).
func Find(in Inputs, st *State) []Alert {
	var out []Alert
	for _, r := range in.Runs {
		if r.Outcome == "failed" && in.Now.Sub(r.Start) <= runWindow {
			out = append(out, Alert{ID: "run/" + r.Kind + "/" + r.Start.UTC().Format(time.RFC3339Nano), Kind: KindRun,
				Stage: r.Kind, Reason: r.Detail, At: r.Start})
		}
	}
	libOf := map[string]bibstat.LibraryID{} // platform/credential → library
	for _, c := range in.Config.Credentials {
		libOf[c.Platform+"/"+c.CredentialID()] = bibstat.LibraryID(c.Library)
	}
	broken := brokenCredentials(in.Ledger, libOf)
	out = append(out, broken...)
	out = append(out, st.platformStreaks(in)...)
	for _, u := range in.Uploads {
		out = append(out, Alert{ID: "upload/" + u.Key, Kind: KindUpload, Platform: u.Vendor, File: u.File, Reason: u.Reason})
	}
	out = append(out, missingMonths(in, broken)...)
	for _, q := range in.Requests {
		// Library stays "": the operator decides, the library is not told.
		out = append(out, Alert{ID: "access/" + q.ID, Kind: KindAccess, Name: q.Name, Email: q.Email,
			Credential: string(q.Library), At: q.Created})
	}
	slices.SortStableFunc(out, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)),
			cmp.Compare(a.Library, b.Library), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Credential, b.Credential),
			cmp.Compare(a.Month, b.Month), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// brokenCredentials is one alert per credential the vendor refuses. Its
// ID carries the credential's fingerprint: a changed key that is refused
// again is news, the same key refused another night is not.
func brokenCredentials(entries []ledger.Entry, libOf map[string]bibstat.LibraryID) []Alert {
	latest := map[string]ledger.Entry{}
	for _, e := range entries {
		if e.State != bibstat.StateCredentialsBroken {
			continue
		}
		k := e.Platform + "/" + e.Credential
		if old, ok := latest[k]; !ok || e.UpdatedAt.After(old.UpdatedAt) {
			latest[k] = e
		}
	}
	var out []Alert
	for k, e := range latest {
		lib := e.Library
		if lib == "" {
			lib = libOf[k]
		}
		out = append(out, Alert{ID: "credential/" + k + "/" + e.CredFP, Kind: KindCredential, Library: lib, Platform: e.Platform,
			Credential: e.Credential, Reason: e.LastError, Code: e.Code, At: e.UpdatedAt})
	}
	return out
}

// missingMonths is one alert per credential and month whose usage is not
// in by the due day of the next month: never harvested, or still failed,
// not ready, queued or throttled. A broken credential's months are its
// one credential alert, not one alert each.
func missingMonths(in Inputs, broken []Alert) []Alert {
	cfg := in.Config
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		loc = time.UTC
	}
	now := in.Now.In(loc)
	isBroken := map[string]bool{}
	for _, b := range broken {
		isBroken[b.Platform+"/"+b.Credential] = true
	}
	state := map[bibstat.Unit]bibstat.State{}
	for _, e := range in.Ledger {
		state[e.Unit()] = e.State
	}
	from, to := ingest.Window(cfg, ingest.PlanOptions{Now: now})
	var out []Alert
	for _, m := range bibstat.MonthsBetween(from, to) {
		next := m.Add(1)
		if now.Before(time.Date(next.Year, next.Mon, cfg.Alerts.DueDay, 0, 0, 0, 0, loc)) {
			continue
		}
		for _, c := range cfg.Credentials {
			p, ok := cfg.Platform(c.Platform)
			if c.Disabled || !ok || isBroken[c.Platform+"/"+c.CredentialID()] {
				continue
			}
			for _, r := range config.ReportsFor(p) {
				u := bibstat.Unit{Platform: c.Platform, Credential: c.CredentialID(), Report: r, Month: m}
				s, seen := state[u]
				if seen && !missing(s) {
					continue
				}
				// Reason is the state, "" for never harvested: the digest words it.
				out = append(out, Alert{ID: "missing/" + u.String(), Kind: KindMissing, Library: bibstat.LibraryID(c.Library),
					Platform: c.Platform, Credential: c.CredentialID(), Month: m.String(), Report: string(r), Reason: string(s)})
			}
		}
	}
	return out
}

// missing reports whether a unit in state s has not given its month's usage.
func missing(s bibstat.State) bool {
	switch s {
	case bibstat.StateFailed, bibstat.StateNotReady, bibstat.StateQueued, bibstat.StateThrottled, "":
		return true
	}
	return false
}

// answered reports whether a unit in state s got an answer from the
// vendor about its usage (a refused credential is the vendor answering).
func answered(s bibstat.State) bool {
	switch s {
	case bibstat.StateFailed, bibstat.StateQueued, bibstat.StateThrottled:
		return false
	}
	return true
}
