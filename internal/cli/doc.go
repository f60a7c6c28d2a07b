// Package cli holds the command-line conventions that bibstat's commands
// and the benchmarks share: a flag set whose --help prints the command's
// summary and one line per flag, flags among the arguments
// (ParseInterleaved), the usage error that exits with status 2, the
// harvest's progress bar (or progress lines when not on a terminal) and its
// summary (WriteSummary).
package cli
