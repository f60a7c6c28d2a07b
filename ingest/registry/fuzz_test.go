package registry

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport: no document panics the importer, and whatever it proposes
// either writes into a config that loads, or is refused with an error.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	src, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := (&Importer{}).Import(context.Background(), data)
		if err != nil {
			return
		}
		cfg := parseConfig(t, src)
		out, err := Apply(src, Diff(res.Proposals, cfg.Platforms))
		if err == nil {
			parseConfig(t, out)
		}
	})
}
