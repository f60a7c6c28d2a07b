// Package ledger keeps the state of every harvest unit (credential, report,
// month): ok, zero, not_ready, queued, throttled, credentials_broken,
// unsupported, partial or failed, with attempts, last error, next attempt
// and the raw object's key.
//
// The ledger is its own file beside the warehouse: an append-only journal of
// JSON lines, one per change, replayed on open. Appends are fsynced before
// Record returns, so a crash loses at most the line being written, and a
// torn last line is ignored on replay; concurrent appends share one fsync.
// With SetSyncInterval a harvest trades that for speed: appends are synced
// in the background, and a crash loses at most the last interval's lines,
// whose units are harvested again. Any process can read the file while a harvest appends.
//
// The completeness grid (Grid, GridOf, GridBuilder) is read from the
// entries: library × platform × month, each cell its units by state, worst
// first (bibstat.States). The portal's /admin, /metrics and "bibstat
// status" all show this one grid.
package ledger
