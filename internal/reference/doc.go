// Package reference holds Norway's municipalities and counties of the 2024
// structure, their population, and the 2023→2024 renumbering, embedded in
// the binary from the CSV files in data/ (data/SOURCES.md says where each
// came from).
package reference
