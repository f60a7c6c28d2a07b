package bibstat

// State is what became of a harvest unit or raw object; the ledger keeps
// the latest per unit.
type State string

// The states of a unit. See DESIGN.md "The harvest unit".
const (
	StateOK                State = "ok"                 // a report with usage
	StateZero              State = "zero"               // 3030 or an empty report: final, nothing to load
	StateNotReady          State = "not_ready"          // 3031: retry over days
	StateQueued            State = "queued"             // 1011/202: retry in minutes
	StateThrottled         State = "throttled"          // 1010/1020/429/503: pause the whole host
	StateCredentialsBroken State = "credentials_broken" // 2000–2020, 401/403: stop until the credential changes
	StateUnsupported       State = "unsupported"        // 3000 or 404: the platform does not offer the report
	StatePartial           State = "partial"            // 3040: loaded, flagged
	StateFailed            State = "failed"             // anything else, with the error
)

// worstFirst is the one order of how bad a state is, worst first. It is
// the order of what the unit asks of us: first the states an operator must
// act on (a broken credential stops all its units; a failure may give up),
// then those the harvest retries by itself (throttled and queued within
// the run, not_ready over days), then the final ones short of full usage
// (unsupported: none will come; partial: loaded, flagged; zero: none
// there), and ok last. A grid cell shows its worst state, and a response
// with several exceptions takes the state of the worst.
var worstFirst = [...]State{
	StateCredentialsBroken, StateFailed,
	StateThrottled, StateQueued, StateNotReady,
	StateUnsupported, StatePartial, StateZero,
	StateOK,
}

// States returns every state, worst first.
func States() []State {
	out := worstFirst
	return out[:]
}

// Severity ranks s: higher is worse, ok is 0. A state that is none of the
// known ones, such as "" for a unit never harvested, is worse than all of
// them: nothing is known of it.
func (s State) Severity() int {
	for i, st := range worstFirst {
		if st == s {
			return len(worstFirst) - 1 - i
		}
	}
	return len(worstFirst)
}

// Worse returns the worse of a and b, a when they are as bad.
func Worse(a, b State) State {
	if b.Severity() > a.Severity() {
		return b
	}
	return a
}

// Loadable reports whether a unit in this state has rows for the facts.
func (s State) Loadable() bool { return s == StateOK || s == StateZero || s == StatePartial }
