// Package report writes BibStat's static report site from the warehouse's
// marts: an index and one page per library, each chart drawn by the
// embedded ECharts from a JSON option and shown again as an accessible
// table. Pages load nothing from outside: the assets are embedded in the
// binary and written next to the pages.
//
// Vendor text (platform and title names) is untrusted. It reaches pages only
// through html/template and JSON data blocks, never as markup or code.
package report
