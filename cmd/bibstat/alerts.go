package main

import (
	"context"
	"errors"
)

// alertsCommand is registered here so that its owner can fill it in without
// touching the command list.
func alertsCommand() command {
	return command{name: "alerts", summary: "(not yet available)",
		run: func(ctx context.Context, e *env, args []string) error {
			return errors.New("alerts: not yet available")
		}}
}
