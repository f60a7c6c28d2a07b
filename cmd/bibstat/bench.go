package main

import (
	"context"
	"strings"

	"github.com/bibliotek24/bibstat/internal/bench"
	"github.com/bibliotek24/bibstat/internal/cli"
)

func benchCommand() command {
	return command{name: "bench", summary: "run a named benchmark and print key=value lines",
		run: func(ctx context.Context, e *env, args []string) error {
			names := strings.Join(bench.Names(), ", ")
			if len(args) == 0 || strings.HasPrefix(args[0], "-") {
				fs := cli.NewFlags(e.stdout, "bench", "NAME [flags]", "Runs a benchmark: "+names+".")
				if err := cli.Parse(fs, args); err != nil {
					return err
				}
				return &cli.UsageError{Msg: "bench: no NAME given; one of " + names}
			}
			return bench.Run(ctx, bench.Env{Stdout: e.stdout, Log: e.log}, args[0], args[1:])
		}}
}
