package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/cli"
)

// inspectResult is one line of `bibstat inspect`; the field order is the
// output's key order, which scripts rely on.
type inspectResult struct {
	File       string             `json:"file"`
	OK         bool               `json:"ok"`
	Error      string             `json:"error,omitempty"`
	Release    string             `json:"release"`
	ReportID   string             `json:"report_id"`
	Begin      string             `json:"begin"`
	End        string             `json:"end"`
	Months     []string           `json:"months"`
	Totals     map[string]int64   `json:"totals"`
	Exceptions []inspectException `json:"exceptions"`
	Warnings   []string           `json:"warnings"`
}

type inspectException struct {
	Code     int    `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

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
				res := inspectFile(ctx, name)
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

func inspectFile(ctx context.Context, name string) inspectResult {
	res := inspectResult{File: name, Months: []string{}, Totals: map[string]int64{},
		Exceptions: []inspectException{}, Warnings: []string{}}
	f, err := os.Open(name)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer f.Close()
	doc, err := counter.Read(ctx, f, counter.Options{Name: name},
		func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	if doc != nil {
		res.Release, res.ReportID = doc.Release, doc.ReportID
		if doc.Kind == counter.KindReport {
			begin, end := doc.Header.Begin, doc.Header.End
			if begin.IsZero() || end.IsZero() {
				begin, end = doc.FirstColumn, doc.LastColumn
			}
			if months := doc.Months(); (begin.IsZero() || end.IsZero()) && len(months) > 0 {
				begin, end = months[0], months[len(months)-1]
			}
			if !begin.IsZero() {
				res.Begin, res.End = begin.String(), end.String()
			}
		} else {
			res.ReportID = ""
		}
		for _, m := range doc.Months() {
			res.Months = append(res.Months, m.String())
		}
		for k, v := range doc.Totals {
			res.Totals[k] = v
		}
		for _, x := range doc.Exceptions {
			res.Exceptions = append(res.Exceptions, inspectException{Code: x.Code, Severity: x.Severity, Message: x.Message})
		}
		res.Warnings = append(res.Warnings, doc.Warnings...)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.OK = true
	return res
}
