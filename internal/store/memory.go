package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/bibliotek24/bibstat"
)

// Memory keeps objects in a map; for tests and benchmarks.
type Memory struct {
	mu   sync.RWMutex
	objs map[string][]byte
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{objs: map[string][]byte{}} }

func (m *Memory) Put(ctx context.Context, key string, r io.Reader) error {
	if err := bibstat.CheckKey(key); err != nil {
		return err
	}
	b, err := io.ReadAll(ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	m.mu.Lock()
	m.objs[key] = b
	m.mu.Unlock()
	return nil
}

func (m *Memory) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := bibstat.CheckKey(key); err != nil {
		return nil, err
	}
	m.mu.RLock()
	b, ok := m.objs[key]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, bibstat.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *Memory) List(ctx context.Context, prefix string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := bibstat.CheckKey(key); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.objs, key)
	m.mu.Unlock()
	return nil
}
