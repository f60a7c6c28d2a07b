// Package sushisim simulates COUNTER_SUSHI R5.1 vendors on loopback for the
// demo, the tests and the benchmarks. Its usage is synthetic and
// deterministic: the count for (platform, library, month, metric) is a pure
// function of the seed, so a test can compute what a harvest must load
// without asking the simulator what it sent.
//
// Each platform is served by its own handler (its own host in the demo), as
// real vendors are, so per-host politeness can be observed.
package sushisim
