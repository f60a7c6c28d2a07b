// Package ingest harvests COUNTER usage from vendors into the raw archive.
//
// A harvest is a list of Jobs, one per unit (credential, report, month).
// Jobs are grouped by the vendor's host: each host gets one worker, so at
// most one request is in flight per host, spaced by Harvester.Spacing, while
// many hosts run in parallel.
//
// For every response the harvester, in this order: stores the body byte-exact
// under the unit's raw key; classifies it (ok, zero, not_ready, …) by
// reading it with package counter; stores the parsed rows as Parquet when
// they are usage; writes the sidecar; and only then records the unit's new
// state in the ledger. A crash anywhere leaves either no ledger change or a
// complete raw object behind it, so a rerun resumes and nothing is lost.
package ingest
