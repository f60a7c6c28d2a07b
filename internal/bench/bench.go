package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/bibliotek24/bibstat/internal/cli"
)

// Env is where a benchmark writes its key=value lines and its log.
type Env struct {
	Stdout io.Writer
	Log    *slog.Logger
}

// benchFunc runs one named benchmark, printing key=value lines to e.Stdout.
type benchFunc func(ctx context.Context, e Env, args []string) error

// benches lists the benchmarks Run knows.
func benches() map[string]benchFunc {
	return map[string]benchFunc{
		"parse":     benchParse,
		"report":    benchReport,
		"transform": benchTransform,
		"harvest":   benchHarvest,
		"national":  benchNational,
		"logs":      benchLogs,
	}
}

// Names lists the benchmarks, sorted.
func Names() []string { return slices.Sorted(maps.Keys(benches())) }

// Run runs the benchmark name with its flags in args; an unknown name is a
// cli.UsageError.
func Run(ctx context.Context, e Env, name string, args []string) error {
	b, ok := benches()[name]
	if !ok {
		return &cli.UsageError{Msg: fmt.Sprintf("bench: unknown benchmark %q; one of %s", name, strings.Join(Names(), ", "))}
	}
	return b(ctx, e, args)
}

// peakRSSMB is the process's peak resident set (VmHWM) in MiB, or -1.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return -1
}

// loadavg is the system's one-minute load average, "" where unknown.
func loadavg() string {
	if l := loadAverage(); l != "unknown" {
		return strings.Fields(l)[0]
	}
	return ""
}

// printLoad writes the load averages when the benchmark began and now:
// other processes' load shows in every figure.
func printLoad(w io.Writer, before string) {
	fmt.Fprintf(w, "load_average_before=%s\nload_average=%s\n", before, loadAverage())
}

// loadAverage is the system's load averages over 1, 5 and 15 minutes, as
// /proc/loadavg gives them, or "unknown": a benchmark on a busy machine
// says so.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// startCPUProfile profiles the CPU into file until stop is called; with
// file "" it does nothing.
func startCPUProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
