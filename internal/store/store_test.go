package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
