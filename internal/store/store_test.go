package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/store/storetest"
)

func TestLocal(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

func TestReadAllLimit(t *testing.T) {
	s := store.NewMemory()
	ctx := context.Background()
	if err := s.Put(ctx, "k", strings.NewReader("0123456789")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadAll(ctx, s, "k", 10); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	var tooLarge *store.TooLargeError
	if _, err := store.ReadAll(ctx, s, "k", 9); !errors.As(err, &tooLarge) {
		t.Fatalf("over the limit: err = %v", err)
	}
}

func TestLocalRemoveStaleTemp(t *testing.T) {
	dir := t.TempDir()
	s, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "raw/a/object", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "raw", "a", ".tmp-123")
	fresh := filepath.Join(dir, "raw", "a", ".tmp-456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	n, err := s.RemoveStaleTemp(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("removed %d (err %v), want 1", n, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("the stale temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temporary file younger than the age was removed")
	}
	if b, err := store.ReadAll(ctx, s, "raw/a/object", 10); err != nil || string(b) != "kept" {
		t.Errorf("the object: %q, %v", b, err)
	}
}
