package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bibliotek24/bibstat/internal/atomicfile"
)

// State is the digest state: what was told to whom, and each platform's
// run of failing nights. It is kept beside the ledger (see doc.go).
type State struct {
	// Told is, per recipient, the alerts told and when. An alert that is
	// no longer open is dropped, so that it is told again if it returns.
	Told map[string]map[string]time.Time `json:"told"`
	// Platforms are the platforms failing now, by id.
	Platforms map[string]*Streak `json:"platforms,omitempty"`
}

// Streak is a platform's nights of failure in a row.
type Streak struct {
	Nights  int       `json:"nights"`
	Since   time.Time `json:"since"`    // the start of the first failing night
	LastRun time.Time `json:"last_run"` // the start of the last harvest counted
	Reason  string    `json:"reason,omitempty"`
}

// LoadState reads the state at path; a missing file is a first digest.
func LoadState(path string) (*State, error) {
	st := &State{Told: map[string]map[string]time.Time{}, Platforms: map[string]*Streak{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("read alert state %s: %w", path, err)
	}
	if st.Told == nil {
		st.Told = map[string]map[string]time.Time{}
	}
	if st.Platforms == nil {
		st.Platforms = map[string]*Streak{}
	}
	return st, nil
}

// Save replaces the state at path, synced.
func (s *State) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write alert state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write alert state: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write alert state: %w", err)
	}
	return nil
}

// told reports whether recipient was told of id.
func (s *State) told(recipient, id string) bool {
	_, ok := s.Told[recipient][id]
	return ok
}

// markTold records that recipient was told of ids at t.
func (s *State) markTold(recipient string, ids []string, t time.Time) {
	m := s.Told[recipient]
	if m == nil {
		m = map[string]time.Time{}
		s.Told[recipient] = m
	}
	for _, id := range ids {
		m[id] = t.UTC()
	}
}

// forget drops what is no longer open, for every recipient.
func (s *State) forget(open map[string]bool) {
	for r, m := range s.Told {
		for id := range m {
			if !open[id] {
				delete(m, id)
			}
		}
		if len(m) == 0 {
			delete(s.Told, r)
		}
	}
}

// slack allows for the clocks of the run log and the ledger lines, both
// taken on this host, to differ by rounding.
const slack = time.Second

// platformStreaks counts the latest harvest in each platform's streak,
// once per harvest run, and returns an alert for each platform that has
// failed FailingNights nights in a row. A platform failed a night when it
// had units that night and none of them got an answer from the vendor.
func (s *State) platformStreaks(in Inputs) []Alert {
	var night *Run
	for i := range in.Runs {
		if in.Runs[i].Kind == "harvest" && in.Runs[i].Outcome != "canceled" {
			night = &in.Runs[i]
			break
		}
	}
	known := map[string]bool{}
	for _, p := range in.Config.Platforms {
		known[p.ID] = true
	}
	for id := range s.Platforms {
		if !known[id] {
			delete(s.Platforms, id)
		}
	}
	if night != nil {
		tried, failed, reason := map[string]bool{}, map[string]bool{}, map[string]string{}
		for _, e := range in.Ledger {
			if e.UpdatedAt.Before(night.Start.Add(-slack)) || e.UpdatedAt.After(night.End.Add(slack)) {
				continue
			}
			tried[e.Platform] = true
			if answered(e.State) {
				failed[e.Platform] = false
				continue
			}
			if _, ok := failed[e.Platform]; !ok {
				failed[e.Platform] = true
			}
			reason[e.Platform] = e.LastError
		}
		for id := range tried {
			st := s.Platforms[id]
			switch {
			case st != nil && st.LastRun.Equal(night.Start):
				// This night is counted already.
			case failed[id]:
				if st == nil {
					st = &Streak{Since: night.Start}
					s.Platforms[id] = st
				}
				st.Nights++
				st.LastRun, st.Reason = night.Start, reason[id]
			default:
				delete(s.Platforms, id)
			}
		}
	}
	var out []Alert
	for id, st := range s.Platforms {
		if st.Nights >= in.Config.Alerts.FailingNights {
			out = append(out, Alert{ID: "platform/" + id + "/" + st.Since.UTC().Format(time.RFC3339Nano), Kind: KindPlatform,
				Platform: id, Nights: st.Nights, Reason: st.Reason, At: st.Since})
		}
	}
	return out
}
