package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// Loaded is a validated configuration and the folder its relative paths
// are read from, so that every command finds the same archive, warehouse
// and ledger whatever its working directory.
type Loaded struct {
	Config
	// Dir is the absolute folder of the config file (the working
	// directory for the defaults).
	Dir string
}

// DefaultFile is the config file a command reads when none is named:
// $BIBSTAT_CONFIG, else bibstat.yaml.
func DefaultFile() string {
	if p := os.Getenv("BIBSTAT_CONFIG"); p != "" {
		return p
	}
	return "bibstat.yaml"
}

// Load reads, parses and validates the file at path; its relative paths
// are read from the file's folder. An empty path gives the defaults, read
// from the working directory.
func Load(path string) (*Loaded, error) {
	if path == "" {
		return InDir(".")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Loaded{Config: cfg, Dir: filepath.Dir(abs)}, nil
}

// InDir is the default configuration with its relative paths read from
// dir: the demo's layout under its --out, or the portal's --dir.
func InDir(dir string) (*Loaded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return &Loaded{Config: Default(), Dir: abs}, nil
}

// Path resolves p from Dir; "" stays "" and an absolute path is kept.
func (l *Loaded) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.Dir, p)
}
