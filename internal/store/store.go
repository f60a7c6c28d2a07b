package store

import (
	"context"
	"io"
	"strconv"
)

// Store holds objects by key. Keys are checked with bibstat.CheckKey: a key
// that could escape the store's root is an error wrapping bibstat.ErrBadKey.
type Store interface {
	// Put stores the bytes of r under key, replacing any object there, atomically.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the object at key; a missing key wraps bibstat.ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every key that starts with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object at key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ReadAll returns the whole object at key, reading at most limit bytes; a
// larger object is an error rather than an unbounded allocation.
func ReadAll(ctx context.Context, s Store, key string, limit int64) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Key: key, Limit: limit}
	}
	return b, nil
}

// TooLargeError says an object was larger than the caller allowed.
type TooLargeError struct {
	Key   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return "object " + e.Key + " is larger than the limit of " + strconv.FormatInt(e.Limit, 10) + " bytes"
}
