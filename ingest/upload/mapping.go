package upload

import (
	"io"

	"github.com/bibliotek24/bibstat/mapping"
)

// The mapping format lives in package mapping, where the warehouse reads
// uploaded files again through their archived mappings on a rebuild; its
// names are repeated here for the callers of uploads.
type (
	Mapping      = mapping.Mapping
	MappingError = mapping.Error
	Reject       = mapping.Reject
	Result       = mapping.Result
	ReadOptions  = mapping.ReadOptions
	Limits       = mapping.Limits
)

// Release is the release stamped on rows read through a mapping.
const Release = mapping.Release

// DefaultLimits are used for any zero field of Limits.
var DefaultLimits = mapping.DefaultLimits

// ParseMapping reads a mapping from r (mapping.Parse).
func ParseMapping(r io.Reader, name string) (*Mapping, error) { return mapping.Parse(r, name) }

// LoadMappings reads every mapping in dir, keyed by vendor (mapping.LoadDir).
func LoadMappings(dir string) (map[string]*Mapping, error) { return mapping.LoadDir(dir) }
