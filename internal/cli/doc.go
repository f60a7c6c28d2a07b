// Package cli holds the command-line conventions that bibstat's commands
// and the benchmarks share: a flag set whose --help prints the command's
// summary and one line per flag, the usage error that exits with status 2,
// and the harvest's progress bar (or progress lines when not on a terminal).
package cli
