// Package counter is the COUNTER format: its vocabulary, its exceptions
// and its readers.
//
//   - Vocabulary (vocab.go): the twelve Metric_Types (Metrics, IsMetric and
//     the groups reports are made of, such as ItemMetrics), the report IDs
//     (Reports, and ReportsR4 with their Data_Types), the Data_Type groups
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
//     month outside the reporting period, a total that does not add up). A
//     quirk is never an error; an error means the document is not COUNTER.
package counter
