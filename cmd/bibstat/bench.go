package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// benchFunc runs one named benchmark, printing key=value lines to e.stdout.
type benchFunc func(ctx context.Context, e *env, args []string) error

// benches lists the benchmarks `bibstat bench NAME` runs.
func benches() map[string]benchFunc {
	return map[string]benchFunc{
		"parse":     benchParse,
		"report":    benchReport,
		"transform": benchTransform,
		"harvest":   benchHarvest,
		"national":  benchNational,
	}
}

func benchCommand() command {
	return command{name: "bench", summary: "run a named benchmark and print key=value lines",
		run: func(ctx context.Context, e *env, args []string) error {
			names := slices.Sorted(maps.Keys(benches()))
			if len(args) == 0 || strings.HasPrefix(args[0], "-") {
				fs := newFlags(e, "bench", "NAME [flags]", "Runs a benchmark: "+strings.Join(names, ", ")+".")
				if err := parseFlags(fs, args); err != nil {
					return err
				}
				return &usageError{msg: "bench: no NAME given; one of " + strings.Join(names, ", ")}
			}
			b, ok := benches()[args[0]]
			if !ok {
				return &usageError{msg: fmt.Sprintf("bench: unknown benchmark %q; one of %s", args[0], strings.Join(names, ", "))}
			}
			return b(ctx, e, args[1:])
		}}
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
