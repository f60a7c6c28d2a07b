// Package counter reads COUNTER usage documents — SUSHI JSON responses and
// tabular files of releases 4, 5 and 5.1 — into Arrow record batches of the
// usage schema (package schemas), plus the document's header, exceptions
// and warnings.
//
// Vocabulary:
//
//   - document: one file or one SUSHI response body.
//   - header: Report_Header (JSON) or the tabular header block.
//   - exception: a COUNTER exception, in a header or as the whole body.
//   - warning: a quirk the reader worked around (a summary row skipped, a
//     month outside the reporting period, a total that does not add up). A
//     quirk is never an error; an error means the document is not COUNTER.
package counter
