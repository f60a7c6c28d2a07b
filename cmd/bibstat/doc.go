// Command bibstat is BibStat's one binary. It harvests COUNTER usage from
// vendors, archives every response byte-exact, builds the DuckDB warehouse,
// values agreements and writes the report site. Run "bibstat --help".
//
// main only wires things together by hand: each subcommand has its own file
// (demo.go, harvest.go, report.go, …) and is listed in commands(); run maps
// errors to exit codes (2 for a usage error).
package main
