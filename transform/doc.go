// Package transform builds the DuckDB warehouse from the object store: it
// loads the parsed usage of every unit's newest loadable harvest into the
// facts table, keeps the dimensions, and builds the marts that reports read
// and Export writes as a Parquet lake.
//
// Vocabulary:
//
//   - fact: one parsed usage row (schemas.Usage) of one unit's harvest.
//     facts is a view; the rows are stored narrow (narrow.go): each a
//     unit, head and item number with its own columns, each distinct head
//     (library and report header) and item (title, ids, yop, …) once. A
//     load finds a row's head and item by a 64-bit hash of their columns
//     only after checking no two different ones share it, else by every
//     column, and fails if it stored other than every row it read.
//   - source: what a fact came from (facts.unit_key, loaded_units): a
//     SUSHI unit's folder in the archive, an upload unit's folder and
//     COUNTER release, or an access-log unit's folder (the consortium's own
//     logins counted as COUNTER PR, bibstat.SourceAccessLog);
//     loaded_units.source says "sushi", "upload/VENDOR" or "access-log".
//   - class of source: the vendor's COUNTER reports ("counter": harvests
//     and uploads) or the access log ("access-log"). A platform counts one
//     class (platforms[].count_source, given as Options.CountSource); the
//     other is kept for comparison (mart_source_comparison), never added.
//   - supersession: a newer loadable harvest of a source replaces the older
//     one's facts in one transaction, so a re-harvest never double counts.
//   - the rule of choice (one use, one count): a cell is what was counted:
//     the entity the usage is attributed to (library, pool, or the vendor's
//     unattributed id; never the vendor id or credential it arrived under)
//     × platform × month, per report. Two sources of one cell (a harvest
//     and an upload, one file under two vendor ids, two releases, the
//     vendor and the access log) are never added: first the class the
//     platform counts (the vendor's, by default; a platform that counts the
//     access log counts the vendor's report in a month the log does not
//     have, and says so, and in a month it has sets aside every vendor
//     source of the platform, pools' too, since the log already counts each
//     use under the patron's home library); then within the class the best
//     release (5.1 > 5 > 4), then the source the platform's config prefers
//     (platforms[].prefer_source, given as Options.PreferSource), then the
//     newest. source_choice in
//     schemas/sql/marts.sql is the one place it is written; mart_sources
//     shows every cell's sources, counted or set aside and why ('bibstat
//     explain' prints it), and the view facts_chosen gives the facts rows
//     that count, for readers of items (the SUSHI server).
//   - population: library_population is the one figure of a library's
//     inhabitants per year (its own, else the sum over the 2024
//     municipalities it served: 67,866 for old Ålesund 1507, never a
//     weighted part); pools, reports and agreements read it.
//     Facts go in in bulk, never row by row: the raw objects of a chunk of
//     units are parsed into Arrow batches that DuckDB scans while they are
//     parsed (RegisterRecords; through one local Parquet file in a build
//     without the duckdb_arrow tag), each row with its unit; units with
//     stored parsed rows of this parser version are copied and read with
//     read_parquet; an upload of an older one is read again from its file,
//     through its archived mapping (reread.go).
//   - agg_usage: the facts summed over items, kept per source; Load marks
//     the sources it loaded (dirty_units) and Refresh sums only theirs
//     again (dirty_months, every source of a month, is for a caller that
//     must redo whole months).
//   - register: libraries (BaseBibliotek XML or CSV), the institution
//     mapping and the pools, archived in the store under
//     bibstat.RegisterPrefix (keys in the root package's keys.go) so that
//     Rebuild needs nothing but the store.
//   - attribution: usage belongs to a library of the register (by mapped
//     Institution_ID or Customer_ID, the harvest credential's library, or a
//     registered ISIL), to a pool, or is unattributed (mart_unattributed,
//     with the ids the vendor used), never dropped nor credited to a
//     library the register does not have; a register change moves it on
//     the next refresh, without a new harvest.
//   - pool: usage many libraries share (shared IP ranges, national
//     licences), allocated to its members by a recorded rule: population
//     (default), equal, a named metric of the members' own usage, or
//     logins (the members' login-measured usage of a named metric, from the
//     access-log units whether or not their platform counts them);
//     pool_shares keeps rule and inputs.
//   - structure: municipalities and counties are time-versioned; a month
//     before 2024 belongs to the 2020–2023 structure, later ones to 2024's.
//     Old codes map to new ones through municipality_successors; the
//     Ålesund split (1507 → 1508 + 1580) is by population share.
//   - mart: a table rebuilt from agg_usage and the dimensions on every
//     Refresh; its grain is written above it in schemas/sql/marts.sql. One
//     release per entity, platform and month (5.1 > 5 > 4) and one report
//     per metric (PR > DR > TR > IR) count; metrics are never summed;
//     data_type is a grain column (empty only when the vendor gave none).
//     mart_title_month holds the titles by the same rules; as big as the
//     facts at item level, it is refreshed only for the months whose facts
//     or chosen facts changed, and stored narrow like the facts: a view
//     over rows of numbers (narrow.title_rows) and each cell and title
//     once (transform/marts_title.go).
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
