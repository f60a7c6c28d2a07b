// Package schemas defines the one Arrow schema every COUNTER reader emits
// (a usage row: one item, one set of attributes, one metric, one month, one
// count) and the DuckDB DDL of the warehouse, embedded as .sql files: the
// tables (warehouse.sql), the marts rebuilt on every refresh (marts.sql)
// and the views naming rules several readers share (views.sql).
//
// The Arrow schema is the seam between ingest and transform: readers write
// record batches of Usage, which the warehouse hands to DuckDB as they are
// read (Stream), and the upload path keeps as Parquet (ParquetWriter),
// which the warehouse loads with read_parquet. Columns are
// added at the end only, and a change bumps Version so that stored parsed
// rows of an older version are read again from their raw objects.
package schemas
