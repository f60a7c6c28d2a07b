// Package mapping reads vendor files that are not COUNTER (CSV or XLSX
// exports) through a declarative mapping per vendor (YAML; see
// testdata/mappings): which sheet and rows, which columns hold library,
// month and counts, and which COUNTER metric each count is.
//
// It is a file format, as counter is: uploads (ingest/upload) read a file
// through the vendor's mapping when it arrives and archive the mapping's
// bytes beside it; the warehouse (transform) reads the file again through
// that archived mapping when a rebuild meets rows of an older reader. The
// two stages share this package and never import each other.
//
// Vocabulary:
//
//   - mapping: a vendor's layout (Mapping), parsed strictly: an unknown key
//     or a bad value is an Error naming the file, line and key.
//   - reject: a row that cannot be mapped (unknown library, no month, a
//     negative or fractional count), named by file:sheet:row:column.
//   - Limits: what one file may make a reader hold, so that a hostile or
//     broken file fails cleanly.
package mapping
