package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleParsesAndValidates(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Platforms) != 2 || len(cfg.Credentials) != 3 || cfg.Schedule.Timezone != "Europe/Oslo" {
		t.Fatalf("parsed %+v", cfg)
	}
	if got := cfg.SpacingFor(&cfg.Platforms[1]); got != 5*time.Second {
		t.Errorf("leksikon spacing %v", got)
	}
	if cfg.Credentials[0].CredentialID() != "2030100" {
		t.Errorf("credential id defaults to the library: %q", cfg.Credentials[0].CredentialID())
	}
}

// TestExampleS3 reads the example's commented S3 store as an operator
// who uncomments it would, so that every key it documents exists.
func TestExampleS3(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\nstore:")
	block, _, ok2 := strings.Cut(rest, "\nwarehouse:")
	if !ok || !ok2 {
		t.Fatal("no store section in the example")
	}
	s3 := "store:\n"
	for _, line := range strings.Split(block, "\n") {
		if v, ok := strings.CutPrefix(line, "  # "); ok {
			s3 += "  " + v + "\n"
		}
	}
	cfg, err := Parse(strings.NewReader(base + s3))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Kind != "s3" || cfg.Store.Bucket == "" || cfg.Store.Timeout.D() != 25*time.Second {
		t.Errorf("uncommented store %+v", cfg.Store)
	}
}

func TestDefault(t *testing.T) {
	d := Default()
	if d.Schedule.Cron != "0 2 * * *" || d.Schedule.Timezone != "Europe/Oslo" || d.Harvest.Spacing.D() != 3*time.Second || d.Schedule.RefreshMonths != 3 ||
		d.Store.Timeout.D() != 25*time.Second {
		t.Fatalf("defaults %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("the default config must be valid: %v", err)
	}
}

const base = `
platforms:
  - id: p1
    name: P1
    base_url: https://p1.example/sushi
    release: "5.1"
libraries:
  - bibnr: "2030100"
    name: Oslo
    municipality: "0301"
credentials:
  - platform: p1
    library: "2030100"
    customer_id: c1
    api_key: env:P1_KEY
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top key", base + "shedule:\n  cron: x\n", []string{"line 16", "shedule"}},
		{"unknown nested key", strings.Replace(base, "    release: \"5.1\"", "    release: \"5.1\"\n    spacin: 3s", 1), []string{"line 7", "spacin"}},
		{"bad duration", strings.Replace(base, "    release: \"5.1\"", "    release: \"5.1\"\n    spacing: fast", 1), []string{"line 7", "fast"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want string
	}{
		{"ok", func(s string) string { return s }, ""},
		{"literal secret", func(s string) string { return strings.Replace(s, "env:P1_KEY", "sk-live-123", 1) }, "not the value itself"},
		{"unknown platform", func(s string) string { return strings.Replace(s, "  - platform: p1", "  - platform: p2", 1) }, `unknown platform "p2"`},
		{"unknown library", func(s string) string {
			return strings.Replace(s, `    library: "2030100"`, `    library: "2030101"`, 1)
		}, "unknown library"},
		{"bad release", func(s string) string { return strings.Replace(s, `release: "5.1"`, `release: "4"`, 1) }, "release"},
		{"bad bibnr", func(s string) string { return strings.Replace(s, `  - bibnr: "2030100"`, `  - bibnr: "203010"`, 1) }, "7 digits"},
		{"credentials in url", func(s string) string {
			return strings.Replace(s, "https://p1.example/sushi", "https://p1.example/sushi?api_key=x", 1)
		}, "no credentials or query"},
		{"bad cron", func(s string) string { return s + "schedule:\n  cron: \"61 * * * *\"\n" }, "cron"},
		{"bad zone", func(s string) string { return s + "schedule:\n  timezone: Europe/Atlantis\n" }, "timezone"},
		{"s3 without bucket", func(s string) string { return s + "store:\n  kind: s3\n" }, "bucket"},
		{"store timeout", func(s string) string { return s + "store:\n  timeout: 10m\n" }, ""},
		{"store timeout zero", func(s string) string { return s + "store:\n  timeout: 0s\n" }, "store: timeout 0s"},
		{"store timeout negative", func(s string) string { return s + "store:\n  timeout: -1s\n" }, "store: timeout -1s"},
		{"store timeout too long", func(s string) string { return s + "store:\n  timeout: 10m1s\n" }, "store: timeout 10m1s"},
		{"count_source access-log", func(s string) string {
			return strings.Replace(s, `release: "5.1"`, "release: \"5.1\"\n    count_source: access-log", 1)
		}, ""},
		{"count_source counter", func(s string) string {
			return strings.Replace(s, `release: "5.1"`, "release: \"5.1\"\n    count_source: counter", 1)
		}, ""},
		{"unknown count_source", func(s string) string {
			return strings.Replace(s, `release: "5.1"`, "release: \"5.1\"\n    count_source: logins", 1)
		}, `platforms[0] (p1): count_source "logins"`},
		{"missing customer", func(s string) string { return strings.Replace(s, "    customer_id: c1\n", "", 1) }, "customer_id is required"},
		{"proxies", func(s string) string { return s + "server:\n  trusted_proxies: [127.0.0.1/32, \"::1\", 10.1.2.3]\n" }, ""},
		{"bad proxy", func(s string) string { return s + "server:\n  trusted_proxies: [proxy.example]\n" }, "trusted_proxies"},
		{"literal metrics token", func(s string) string { return s + "server:\n  metrics_token: abc123\n" }, "metrics_token"},
		{"metrics on the public listener", func(s string) string {
			return s + "server:\n  listen: 127.0.0.1:8080\n  metrics_listen: 127.0.0.1:8080\n"
		}, "metrics_listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc.edit(base), tc.want) })
	}
}

// checkValidate parses yaml and checks that Validate accepts it (want "")
// or refuses it with an error that says want.
func checkValidate(t *testing.T, yaml, want string) {
	t.Helper()
	cfg, err := Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestCredentialsSecretResolution(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	os.WriteFile(path, []byte("from-file-secret\n"), 0o600)
	t.Setenv("BIBSTAT_TEST_KEY", "from-env-secret")
	tests := []struct {
		ref     Secret
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"env:BIBSTAT_TEST_KEY", "from-env-secret", false},
		{Secret("file:" + path), "from-file-secret", false},
		{"env:BIBSTAT_TEST_MISSING", "", true},
		{Secret("file:" + filepath.Join(dir, "nope")), "", true},
		{"plain-secret-value", "", true},
	}
	for _, tc := range tests {
		got, err := tc.ref.Resolve()
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %q, %v", tc.ref, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "plain-secret-value") {
			t.Errorf("error leaks the literal: %v", err)
		}
	}
}

func TestProxies(t *testing.T) {
	got, err := Server{TrustedProxies: []string{"10.0.0.0/8", "192.168.1.7", "::1", "10.1.2.3/16"}}.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
}
