// Package ingest harvests COUNTER usage from vendors into the raw archive.
//
// A harvest is a list of Jobs, one per unit (credential, report, month),
// planned from the configuration by Plan: every credential × its
// platform's reports × every month from the schedule's start, newest
// first, the last refresh_months marked Refresh. Run then leaves out what
// the ledger says is not due (Policy): units final (ok, zero) unless
// refreshed, units waiting for their NextAttempt, units that gave up,
// unsupported reports and credentials broken and unchanged since
// (Fingerprint).
//
// Jobs are grouped by the vendor's host: each host gets one worker, so at
// most one request is in flight per host, spaced by the host's spacing
// counted from the arrival of the previous response, while many hosts run
// in parallel. A throttled answer (1010/1020/429/503) pauses the whole
// host, honouring Retry-After; a queued report (1011/202) is asked again
// within the run after a backoff; a broken credential's other units are
// skipped; an unreachable host is left for the next run. Every delay has
// jitter.
//
// For every response, in this order: the body is stored byte-exact under
// the unit's raw key; it is classified (ok, zero, not_ready, …) by reading
// it with package counter and checking that it is the report, month,
// release and customer asked for (its rows are not kept: the warehouse
// parses raw objects itself, many units to one file, which is far cheaper
// than a small Parquet file per unit on the politeness-bound path); the
// sidecar is written; and only then is the unit's new
// state recorded in the ledger. A crash anywhere leaves either no ledger
// change or a complete raw object behind it, so a rerun resumes and
// nothing is lost; a failing object store stops the run with an error
// wrapping bibstat.ErrStoreUnavailable. Plain 200 reports (no exception
// named) are processed by a pool so that parsing never delays a host's
// next request.
//
// WriteDiscovered turns a platform's /members into credential entries to
// review and paste into the config ("bibstat credentials discover").
package ingest
