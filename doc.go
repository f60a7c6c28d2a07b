// Package bibstat holds the domain types every stage of BibStat shares: the
// reporting Month, COUNTER report ids, library identifiers, the state of a
// harvest unit and the one order of how bad each state is (States, Worse),
// the sidecar and its one encoding (EncodeSidecar, DecodeSidecar), every
// object key (keys.go) and the sentinel errors. It has no dependencies so
// that ingest, transform, report and the server can meet here without
// importing each other.
//
// Vocabulary:
//
//   - unit: one harvest unit, (credential, report, month). It is the grain of
//     the ledger and of supersession: a newer successful harvest of the same
//     unit replaces the older one in the facts.
//   - raw object: a vendor response or uploaded file stored byte-exact, with
//     a sidecar (".meta.json") that records how and when it was fetched.
//   - state: what became of a unit (ok, zero, not_ready, …); a grid cell or
//     a response with several exceptions takes the worst of its states.
//   - parsed object: the Arrow usage rows of one raw object, as Parquet.
package bibstat
