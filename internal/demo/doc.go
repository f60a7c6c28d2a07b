// Package demo sets up the simulated world the demo and the benchmarks
// harvest: the simulator's vendors, each on its own loopback server as
// real vendors are on their own hosts, the harvest jobs for them, the
// library register of the simulated libraries and the example agreement
// registry. Run wires these to the real harvest, warehouse and report:
// "bibstat demo" opens the store, ledger and warehouse and calls it.
package demo
