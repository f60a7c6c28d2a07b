package report

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Putter is what publishing needs of the object store.
type Putter interface {
	Put(ctx context.Context, key string, r io.Reader) error
}

// Publish copies a built site from dir into the object store under
// bibstat.ReportsPrefix. Each object is put whole (the store's Put is
// atomic); pages go last so that no page is visible before the downloads
// and assets it links to.
func Publish(ctx context.Context, dir string, dst Putter) (int, error) {
	var assetsFirst, pages []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".html") {
			pages = append(pages, rel)
		} else {
			assetsFirst = append(assetsFirst, rel)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", dir, err)
	}
	n := 0
	for _, rel := range append(assetsFirst, pages...) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return n, fmt.Errorf("publish %s: %w", rel, err)
		}
		err = dst.Put(ctx, bibstat.ReportsPrefix+filepath.ToSlash(rel), f)
		f.Close()
		if err != nil {
			return n, fmt.Errorf("publish %s: %w", rel, err)
		}
		n++
	}
	return n, nil
}
