package main

import (
	"context"
	"errors"
)

// explainCommand is registered here so that its owner can fill it in without
// touching the command list.
func explainCommand() command {
	return command{name: "explain", summary: "(not yet available)",
		run: func(ctx context.Context, e *env, args []string) error {
			return errors.New("explain: not yet available")
		}}
}
