//go:build !linux

package ingest

// background does nothing where threads have no priorities of their own.
func background() {}
