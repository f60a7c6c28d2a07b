package testtool

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binary finds the program name on PATH, in GOBIN or in GOPATH/bin. When
// it is missing the test is skipped, or fails if the environment variable
// require is "1" (as make test sets it); install names the script that
// installs it.
func Binary(t testing.TB, name, install, require string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range goBinDirs() {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := name + " not found on PATH or in $(go env GOPATH)/bin; install it with " + install
	if os.Getenv(require) == "1" {
		t.Fatal(msg + " (" + require + "=1, so this is a failure)")
	}
	t.Skip(msg + " (set " + require + "=1 to make this a failure)")
	return ""
}

// goBinDirs are where `go install` puts programs: GOBIN, else each
// GOPATH's bin, as the go command reports them and as this build knew them.
func goBinDirs() []string {
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if gobin := strings.TrimSpace(lines[0]); gobin != "" {
				dirs = append(dirs, gobin)
			}
			for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	for _, p := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	return dirs
}
