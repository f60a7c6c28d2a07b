package bibstat

import "time"

// Sidecar describes one raw object: where it came from, what it was, and
// what became of it. It is stored beside the object (key + SidecarSuffix)
// and never holds a secret: URLs are stored with credentials removed.
type Sidecar struct {
	Key         string    `json:"key"`
	Source      string    `json:"source"` // "sushi" or "upload"
	Platform    string    `json:"platform"`
	Credential  string    `json:"credential,omitempty"`
	Library     LibraryID `json:"library,omitempty"`
	Report      ReportID  `json:"report,omitempty"`
	Month       string    `json:"month,omitempty"` // YYYY-MM of the unit
	URL         string    `json:"url,omitempty"`   // redacted: no api_key, no requestor_id
	Status      int       `json:"status,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	HarvestedAt time.Time `json:"harvested_at"`
	State       State     `json:"state"`
	Error       string    `json:"error,omitempty"`
	Release     string    `json:"release,omitempty"`
	Rows        int64     `json:"rows"`
	// ParsedKey names the Parquet of the parsed rows, when the object held usage.
	ParsedKey     string `json:"parsed_key,omitempty"`
	ParserVersion int    `json:"parser_version,omitempty"`
	// Upload says who uploaded a file and how it was read (Source "upload").
	Upload *UploadInfo `json:"upload,omitempty"`
}

// UploadInfo is what an uploaded file's sidecar adds to a harvest's. An
// uploaded file is archived once and its rows split into one unit per
// (vendor, report, library, month); each unit's sidecar carries this too.
type UploadInfo struct {
	File         string   `json:"file"`              // raw key of the byte-exact file
	Name         string   `json:"name"`              // the file's name as uploaded
	By           string   `json:"by"`                // who uploaded it
	Mapping      string   `json:"mapping,omitempty"` // raw key of the mapping YAML used; "" for COUNTER files
	RejectedRows []string `json:"rejected_rows,omitempty"`
}

// Loadable reports whether the object's rows belong in the facts: a usable
// report, possibly empty or partial.
func (s *Sidecar) Loadable() bool {
	return s.State.Loadable()
}

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

// Loadable reports whether a unit in this state has rows for the facts.
func (s State) Loadable() bool { return s == StateOK || s == StateZero || s == StatePartial }
