// Package report writes BibStat's static report site from the warehouse's
// marts: an index, the nation, every county, library and agreement, a
// glossary (ordliste) and an accessibility statement, each chart drawn by
// the embedded ECharts from a JSON option and shown again as an accessible
// table. Pages load nothing from outside: the assets are embedded in the
// binary and written next to the pages.
//
// Every word a page, chart or download shows comes from one catalogue per
// language (catalog_nb.go, catalog_nn.go, catalog_en.go); numbers, money
// and times (Europe/Oslo) are written the language's way. Metrics are
// shown by label, their COUNTER names in the glossary. A figure the marts
// have no row for is shown as no data, never as 0.
//
// Vendor text (platform and title names) is untrusted. It reaches pages only
// through html/template and JSON data blocks, never as markup or code
// (a table's cells are escaped as html/template escapes, by appendCell).
//
// A rebuild writes only what changed: a file that already holds what was
// made is left alone, and a scope's downloads, and its usage page, are not
// made at all when the digest of their inputs is the one recorded in
// OUT.downloads.json, beside the site (so never published), and their
// files are as recorded.
package report
