package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with b, mode perm, through a synced temporary file
// beside it (named ".NAME.tmp-*") renamed over it; the folder is synced too
// where the file system allows it, for the rename's durability.
func Write(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // not every file system syncs a folder; the file itself is synced
		d.Close()
	}
	return nil
}
