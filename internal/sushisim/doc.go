// Package sushisim simulates COUNTER_SUSHI vendors on loopback for the
// demo, the tests and the benchmarks: R5.1 under /r51 and R5 at the root
// (status, reports, members and the Platform Report). Its usage is
// synthetic, per customer and deterministic: the count for (platform,
// library, month, metric) is a pure function of the seed, so a test can
// compute what a harvest must load without asking the simulator what it
// sent.
//
// Faults (Config.Faults) make a vendor misbehave the ways real ones do:
// latency, 202/1011 then ready, 3031 then ready, 3030, 429 with
// Retry-After, 503 and 500, HTML under 200, truncated, empty and slow
// bodies, reports for the wrong months or another customer, bad keys.
//
// Each platform is served by its own handler (its own host in the demo), as
// real vendors are, so per-host politeness can be observed.
package sushisim
