package main

import (
	"context"

	"github.com/bibliotek24/bibstat/internal/cli"
)

func ingestLogsCommand() command {
	return command{name: "ingest-logs", summary: "count COUNTER usage from the consortium's own access logs (proxy, single sign-on)",
		run: func(ctx context.Context, e *env, args []string) error {
			return &cli.UsageError{Msg: "ingest-logs: not built yet"}
		}}
}
