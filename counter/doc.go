// Package counter is the COUNTER format: its vocabulary, its exceptions
// and its readers.
//
//   - Vocabulary (vocab.go): the twelve Metric_Types (Metrics, IsMetric and
//     the groups reports are made of, such as ItemMetrics), the report IDs
//     (Reports; the R4 reports and their mapping are r4.go's), the Data_Type groups
//     of the Standard Views, Access_Types and Access_Methods.
//   - Exceptions (exception.go): Exception, the one exception type — what a
//     document's header carries, the SUSHI client's typed error and what the
//     SUSHI server and the simulator send — and the table of codes
//     (ExceptionInfo: message, HTTP status, ExceptionClass). What a class
//     means for a harvest is the harvester's policy, not the format's.
//   - Values (values.go): ParseMonth and MonthName read months as vendors
//     write them (English, Norwegian and German names, ISO and day-first
//     dates, Excel serials); counts, YOPs and releases.
//   - Readers: Read reads one document — a SUSHI JSON response
//     (json*.go) or a tabular file of releases 4, 5 and 5.1 in TSV, CSV or
//     XLSX (tabular*.go, r4.go, source.go) — into Arrow record batches of
//     the usage schema (package schemas), plus the document's header,
//     exceptions and warnings. ParseExceptions reads the exceptions of a
//     body that is no report.
//
// Reading vocabulary:
//
//   - document: one file or one SUSHI response body.
//   - header: Report_Header (JSON) or the tabular header block.
//   - exception: a COUNTER exception, in a header or as the whole body.
//   - warning: a quirk the reader worked around (a summary row skipped, a
//     total that does not add up), or values it set aside and counted in
//     Document.Skipped (a month outside the reporting period, an unknown
//     metric, a period that is not one month).
//   - error: the document cannot be read as COUNTER, or reading it would
//     lose or invent usage: a count that is not a whole number (CellError),
//     an R4 report refused by name (JR1 GOA is part of JR1), a broken XLSX,
//     an unbalanced quote. Never a silent zero.
//   - Empty: the vendor's positive "no usage" (an empty Report_Items under
//     a stated period; a complete tabular header with no data rows), the
//     only document that may become a zero unit.
package counter
