package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/cli"
)

func inspectCommand() command {
	return command{name: "inspect", summary: "read COUNTER files and print what each holds, one JSON line per file",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "inspect", "FILE...",
				"Reads COUNTER reports (JSON, TSV, CSV, XLSX; R4, R5, R5.1) and prints one JSON object per file.\nExits 1 if any file cannot be read as COUNTER.")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() == 0 {
				return &cli.UsageError{Msg: "inspect: no FILE given (run 'bibstat inspect --help')"}
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			failed := false
			for _, name := range fs.Args() {
				res := counter.Inspect(ctx, name)
				if errors.Is(ctx.Err(), context.Canceled) {
					return ctx.Err()
				}
				failed = failed || !res.OK
				if err := enc.Encode(res); err != nil {
					return err
				}
			}
			if failed {
				return silentError{code: 1}
			}
			return nil
		}}
}
