package main

import (
	"context"
	"errors"
)

func demoCommand() command {
	return command{name: "demo", summary: "run the whole pipeline offline on simulated vendors",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "demo", "", "Runs the whole pipeline offline.")
			fs.String("out", "bibstat-demo", "directory to write into")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			return errors.New("demo: in progress")
		}}
}
