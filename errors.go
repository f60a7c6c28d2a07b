package bibstat

import "errors"

// Sentinel errors shared by every stage. Wrap them with context; test with errors.Is.
var (
	// ErrBadKey: an object key or key segment that could escape its prefix or is malformed.
	ErrBadKey = errors.New("bad object key")
	// ErrNotFound: no object, unit or record of that name.
	ErrNotFound = errors.New("not found")
	// ErrUnknownReport: not a COUNTER report or standard view id.
	ErrUnknownReport = errors.New("unknown COUNTER report id")
	// ErrStoreUnavailable: the object store cannot be reached; the caller stops cleanly.
	ErrStoreUnavailable = errors.New("object store unavailable")
)
