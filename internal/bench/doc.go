// Package bench holds the benchmarks "bibstat bench NAME" runs: parse (our
// COUNTER reader against DuckDB's own), harvest (a simulated country
// against the politeness bound), transform (rebuild and incremental load),
// report (the site for a national warehouse) and national (the whole
// pipeline at national scale). Each prints key=value lines to Env.Stdout,
// the headline last; BENCHMARKS.md keeps the figures.
package bench
