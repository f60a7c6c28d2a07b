// Package upload brings usage from vendors without a SUSHI API into
// BibStat: files an operator uploads (bibstat ingest FILE...) or drops in
// the object store's inbox (inbox/<vendor>/), COUNTER reports read by
// counter, and non-COUNTER exports read through a declarative
// mapping per vendor (package mapping; YAML, see testdata/mappings).
//
// Vocabulary:
//
//   - upload: one file as received, archived byte-exact before it is read.
//   - mapping: a vendor's layout: which sheet and rows, which columns hold
//     library, month and counts, and which COUNTER metric each count is.
//   - unit: (vendor, report, library, month), the grain of supersession,
//     like a harvest's (credential, report, month).
//   - reject: a row that cannot be mapped (unknown library, no month, a
//     negative or fractional count), named by file:sheet:row:column.
//
// # Keys and supersession
//
// A file is archived once, and its rows are split into one parsed object
// per unit, each with its own sidecar. Every key is built in the root
// package (bibstat.UploadFileKey, UploadMappingKey, UploadUnitPrefix,
// InboxDir) and every sidecar and record encoded by bibstat.EncodeSidecar:
//
//	raw/upload/<vendor>/files/<ts>-<sha8>.<ext>                  the file, byte-exact
//	raw/upload/<vendor>/files/<ts>-<sha8>.<ext>.upload.json       its record (a bibstat.Sidecar)
//	raw/upload/<vendor>/mappings/<sha16>.yaml                     the mapping used, byte-exact
//	raw/upload/<vendor>/<report>/<bibnr>/<yyyy-mm>/<ts>-<sha8>.<ext>.meta.json   one unit's sidecar
//	parsed/v<N>/upload/<vendor>/<report>/<bibnr>/<yyyy-mm>/<ts>-<sha8>.<ext>.parquet
//
// Splitting per (library, month) rather than keeping one unit per file is
// what makes corrections behave: a corrected file for the same vendor,
// library and months lands in the same unit directories with a newer key
// and supersedes the earlier rows there, even when the correction covers a
// different range of months (a January–June file after a January–March
// one replaces January–March and adds April–June; nothing is counted
// twice). A (library, month) the vendor positively reports with no usage
// still gets a unit (state zero), so a correction down to zero supersedes
// too: a mapped row whose counts are 0, every month of an Empty COUNTER
// report, and the months without rows of a complete COUNTER report (its
// header states the period, nothing was set aside, no exception such as
// 3031 or 3040). Nothing else is zero: a COUNTER file with no usage rows
// that is not Empty (exceptions only, such as 1011; usage dated outside its
// Reporting_Period; every value set aside) is rejected and supersedes
// nothing, and an incomplete file says nothing of the months it lacks.
// The price is that a correction which drops a library or month
// altogether leaves the earlier rows of that unit in place.
//
// A dry run lists every unit a file would add or restate, with its total
// now and after (Outcome.Changes), so an upload that would turn months of
// usage into zero is seen before it happens.
//
// A unit sidecar's Key names the unit (its directory is the unit, as for a
// harvest) but no object: Upload.File names the archived file, and
// Upload.Mapping the archived mapping, so the facts can be rebuilt from
// raw/ alone. The file's own record is not a ".meta.json" sidecar because
// the file is not a unit; the warehouse never loads it.
//
// # Duplicates
//
// A file whose sha256 matches an earlier upload of the same vendor that was
// loaded (as COUNTER, or with the same mapping bytes) is a duplicate: it is
// reported and nothing is stored. A file rejected before, or read with a
// changed mapping, is ingested again; its units supersede the earlier ones.
//
// # Rejects
//
// A file with rows that cannot be mapped, or a COUNTER file with a count
// that is not one (a counter.CellError, named by file, row, column and
// value), is rejected as a whole (archived, with State failed and the
// reason in its record) unless AcceptPartial is set; then its good rows
// load with State partial and the rejected rows or cells are listed in
// every sidecar (Upload.RejectedRows). A unit of a partial file without
// rows is not written: its cells may have been the rejected ones.
package upload
