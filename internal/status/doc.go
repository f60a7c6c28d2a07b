// Package status computes the harvest's completeness for "bibstat status":
// every library × platform × month from the ledger's entries, and, with a
// config, the units expected but never harvested or not tried because
// their credential is broken. The grid itself is the ledger's (Report.Grid
// builds a ledger.Grid), so status, /admin and /metrics show one grid.
package status
