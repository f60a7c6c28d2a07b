// Package testtool finds the real servers the acceptance tests start
// (versitygw, mailpit): installed with `go install`, they may be on PATH or
// only in GOBIN or GOPATH/bin. Only tests and test helpers import it.
package testtool
