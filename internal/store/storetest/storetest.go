package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// Run runs the suite against stores made by newStore; each subtest gets a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// suite is every test a store must pass, each on its own fresh store.
var suite = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"PutGetByteExact", testPutGetByteExact},
	{"NonSeekableReader", testNonSeekableReader},
	{"EmptyObject", testEmptyObject},
	{"Overwrite", testOverwrite},
	{"GetMissing", testGetMissing},
	{"ListPrefixSorted", testListPrefixSorted},
	{"Delete", testDelete},
	{"KeysCannotEscape", testKeysCannotEscape},
	{"FailedPutLeavesNothing", testFailedPutLeavesNothing},
	{"ReadersSeeWholeObjects", testReadersSeeWholeObjects},
	{"CancelledContext", testCancelledContext},
}

func testPutGetByteExact(t *testing.T, s store.Store) {
	data := RandomBytes(t, 3<<20+17) // a few MiB, not a round size
	mustPut(t, s, "raw/a/b.json", data)
	if got := mustGet(t, s, "raw/a/b.json"); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
	}
}

func testNonSeekableReader(t *testing.T, s store.Store) {
	ctx := context.Background()
	data := RandomBytes(t, 2<<20+5)
	// io.MultiReader hides Seek and ReadAt, as a network body would.
	if err := s.Put(ctx, "raw/stream", io.MultiReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "raw/stream"); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
	}
}

func testEmptyObject(t *testing.T, s store.Store) {
	mustPut(t, s, "raw/empty", nil)
	if got := mustGet(t, s, "raw/empty"); len(got) != 0 {
		t.Fatalf("got %d bytes", len(got))
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	mustPut(t, s, "k/v", []byte("one"))
	mustPut(t, s, "k/v", []byte("two"))
	if got := string(mustGet(t, s, "k/v")); got != "two" {
		t.Fatalf("got %q", got)
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.Get(ctx, "no/such/key")
	if !errors.Is(err, bibstat.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testListPrefixSorted(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, k := range []string{"raw/b/2", "raw/a/1", "raw/a/2", "rawx/1", "parsed/a/1", "raw/ab"} {
		mustPut(t, s, k, []byte(k))
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"raw/", []string{"raw/a/1", "raw/a/2", "raw/ab", "raw/b/2"}},
		{"raw/a", []string{"raw/a/1", "raw/a/2", "raw/ab"}},
		{"raw/a/", []string{"raw/a/1", "raw/a/2"}},
		{"raw", []string{"raw/a/1", "raw/a/2", "raw/ab", "raw/b/2", "rawx/1"}},
		{"nothing/", nil},
		{"", []string{"parsed/a/1", "raw/a/1", "raw/a/2", "raw/ab", "raw/b/2", "rawx/1"}},
	}
	for _, c := range cases {
		got, err := s.List(ctx, c.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("List(%q) = %v, want %v", c.prefix, got, c.want)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustPut(t, s, "d/x", []byte("x"))
	if err := s.Delete(ctx, "d/x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d/x"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := s.Get(ctx, "d/x"); !errors.Is(err, bibstat.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testKeysCannotEscape(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, k := range []string{"../x", "a/../../x", "/abs", "a//b", "a/./b", "", "a\\..\\b", "a/", "."} {
		if err := s.Put(ctx, k, bytes.NewReader([]byte("x"))); !errors.Is(err, bibstat.ErrBadKey) {
			t.Errorf("Put(%q) err = %v, want ErrBadKey", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, bibstat.ErrBadKey) {
			t.Errorf("Get(%q) err = %v, want ErrBadKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, bibstat.ErrBadKey) {
			t.Errorf("Delete(%q) err = %v, want ErrBadKey", k, err)
		}
	}
}

func testFailedPutLeavesNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	err := s.Put(ctx, "half/written", io.MultiReader(bytes.NewReader([]byte("start")), errReader{}))
	if err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	keys, err := s.List(ctx, "half/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("a failed Put left %v", keys)
	}
	// Nor does it damage the object it was to replace.
	mustPut(t, s, "half/kept", []byte("old"))
	if err := s.Put(ctx, "half/kept", io.MultiReader(bytes.NewReader([]byte("new")), errReader{})); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if got := string(mustGet(t, s, "half/kept")); got != "old" {
		t.Fatalf("after a failed overwrite got %q, want %q", got, "old")
	}
}

func testReadersSeeWholeObjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	const size = 256 << 10
	versions := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	mustPut(t, s, "atomic/k", versions[0])
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 20; i++ {
			if err := s.Put(ctx, "atomic/k", bytes.NewReader(versions[i%2])); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for reads := 0; ; reads++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if reads == 0 {
				t.Log("the writer finished before the first read")
			}
			return
		default:
		}
		got := mustGet(t, s, "atomic/k")
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("read %d bytes that are neither version: a partial or mixed object", len(got))
		}
	}
}

func testCancelledContext(t *testing.T, s store.Store) {
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cctx, "c/x", bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := s.Get(ctx, "c/x"); !errors.Is(err, bibstat.ErrNotFound) {
		t.Fatalf("after a cancelled Put: err = %v, want ErrNotFound", err)
	}
}

// RandomBytes is n random bytes, which no store can compress or dedupe.
func RandomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("reader broke") }

func mustPut(t *testing.T, s store.Store, key string, b []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(b)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	b, err := store.ReadAll(context.Background(), s, key, 1<<30)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}
