package bench

import (
	"context"

	"github.com/bibliotek24/bibstat/internal/cli"
)

// benchLogs counts usage from a generated access log.
func benchLogs(ctx context.Context, e Env, args []string) error {
	return &cli.UsageError{Msg: "bench logs: not built yet"}
}
