package bibstat

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Sidecar describes one raw object: where it came from, what it was, and
// what became of it. It is stored beside the object (key + SidecarSuffix)
// and never holds a secret: URLs are stored with credentials removed.
type Sidecar struct {
	Key         string    `json:"key"`
	Source      string    `json:"source"` // "sushi", "upload" or SourceAccessLog
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

// SourceAccessLog is the source of usage counted from the consortium's own
// access logs (package ingest/accesslog).
const SourceAccessLog = "access-log"

// Loadable reports whether the object's rows belong in the facts: a usable
// report, possibly empty or partial. Access-log units load too, as units
// of their own source: the warehouse's rule of choice (platforms[].count_source)
// decides per platform whether they or the vendor's reports count, never
// both. The ledger, the harvest's coverage and the upload plans read only
// their own sources' sidecars (raw/sushi/, raw/upload/), so an access-log
// unit never passes for the vendor's month there.
func (s *Sidecar) Loadable() bool {
	return s.State.Loadable()
}

// MaxSidecarBytes bounds a sidecar read back from the store. An upload's
// sidecars list every rejected row of its file, so they can be large; a
// harvest's are a few hundred bytes.
const MaxSidecarBytes = 4 << 20

// EncodeSidecar is the one encoding of a sidecar, indented JSON, as every
// sidecar in the archive is written: the same sidecar gives the same bytes.
func EncodeSidecar(s Sidecar) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode sidecar %s: %w", s.Key, err)
	}
	return b, nil
}

// DecodeSidecar reads one sidecar from r, of at most MaxSidecarBytes.
func DecodeSidecar(r io.Reader) (Sidecar, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSidecarBytes+1))
	if err != nil {
		return Sidecar{}, fmt.Errorf("decode sidecar: %w", err)
	}
	if len(b) > MaxSidecarBytes {
		return Sidecar{}, fmt.Errorf("decode sidecar: larger than %d bytes", MaxSidecarBytes)
	}
	var s Sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		return Sidecar{}, fmt.Errorf("decode sidecar: %w", err)
	}
	return s, nil
}
