package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a reference to a secret value: "env:NAME" or "file:/path".
// Its String is the reference; Resolve reads the value.
type Secret string

// ErrSecretLiteral is returned for a secret written into the file itself.
var ErrSecretLiteral = errors.New(`secret must be a reference "env:NAME" or "file:/path", not the value itself`)

// Check validates the reference without reading it.
func (s Secret) Check() error {
	switch {
	case s == "":
		return nil
	case strings.HasPrefix(string(s), "env:"):
		if name := strings.TrimPrefix(string(s), "env:"); name == "" || strings.ContainsAny(name, " =\t") {
			return fmt.Errorf("secret %q: bad environment variable name", s)
		}
		return nil
	case strings.HasPrefix(string(s), "file:"):
		if strings.TrimPrefix(string(s), "file:") == "" {
			return fmt.Errorf("secret %q: no file name", s)
		}
		return nil
	}
	return ErrSecretLiteral
}

// Resolve reads the secret's value. An empty reference resolves to "".
// Errors name the reference, never the value.
func (s Secret) Resolve() (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	switch {
	case s == "":
		return "", nil
	case strings.HasPrefix(string(s), "env:"):
		name := strings.TrimPrefix(string(s), "env:")
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("resolve secret %s: environment variable %s is not set", s, name)
		}
		return v, nil
	default:
		path := strings.TrimPrefix(string(s), "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("resolve secret %s: %w", s, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("resolve secret %s: file is empty", s)
		}
		return v, nil
	}
}

// String is the reference, safe to print.
func (s Secret) String() string { return string(s) }

// LogValue logs the reference only.
func (s Secret) LogValue() slog.Value { return slog.StringValue(string(s)) }
