// Package transform builds the DuckDB warehouse from the object store: it
// loads the parsed usage of every unit's newest loadable harvest into the
// facts table, keeps the dimensions, and builds the marts that reports read
// and Export writes as a Parquet lake.
//
// Vocabulary:
//
//   - fact: one parsed usage row (schemas.Usage) of one unit's harvest.
//   - supersession: a newer loadable harvest of a unit replaces the older
//     one's facts in one transaction, so a re-harvest never double counts.
//     Facts go in with read_parquet, never row by row: the raw objects of a
//     chunk of units are parsed into one local Parquet file (rows find their
//     unit by source_key), and units that carry stored parsed rows (uploads)
//     are copied as they are.
//   - agg_usage: the facts summed over items, kept per month; Load marks
//     the months it touched (dirty_months) and Refresh sums only those again.
//   - register: libraries (BaseBibliotek XML or CSV), the institution
//     mapping and the pools, archived in the store under
//     bibstat.RegisterPrefix (keys in the root package's keys.go) so that
//     Rebuild needs nothing but the store.
//   - attribution: usage belongs to a library (by mapped Institution_ID or
//     Customer_ID, the harvest credential's library, or a registered ISIL),
//     to a pool, or is unattributed, never dropped.
//   - pool: usage many libraries share (shared IP ranges, national
//     licences), allocated to its members by a recorded rule: population
//     (default), equal, or a named metric; pool_shares keeps rule and inputs.
//   - structure: municipalities and counties are time-versioned; a month
//     before 2024 belongs to the 2020–2023 structure, later ones to 2024's.
//     Old codes map to new ones through municipality_successors; the
//     Ålesund split (1507 → 1508 + 1580) is by population share.
//   - mart: a table rebuilt from agg_usage and the dimensions on every
//     Refresh; its grain is written above it in schemas/sql/marts.sql. One
//     release per entity, platform and month (5.1 > 5 > 4) and one report
//     per metric (PR > DR > TR > IR) count; metrics are never summed.
//   - library_county: the one county (2024 structure) of each library, a
//     view over library_geo (schemas/sql/marts.sql); the report, the
//     portal's access check and the agreements read it.
//   - missing table: an older or partial warehouse lacks a table; readers
//     tell it by IsMissingTable (the driver's error type) and fall back.
//   - schema version: a warehouse records SchemaVersion; Open refuses any
//     other, and Rebuild makes a new file from the store and renames it
//     into place only when complete.
//
// transform never imports package ingest's harvesting: the two meet at the
// object-store key layout and sidecars (package bibstat) and the usage
// schema (package schemas); it uses counter only to re-parse a raw
// object whose parsed form came from another parser version.
package transform
