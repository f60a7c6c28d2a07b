# The README's two commands: `make demo` (or `go run -tags duckdb_arrow ./cmd/bibstat demo`) and `make test`.
# duckdb_arrow builds the DuckDB driver's Arrow interface, through which the
# warehouse load hands parsed rows to DuckDB while it parses; a plain
# `go build` works too, through a local Parquet file instead.
TAGS := duckdb_arrow
.PHONY: demo test

demo:
	go run -tags $(TAGS) ./cmd/bibstat demo

# Every test, against the real things: a real S3 server (versitygw), a real
# browser (Debian's chromium), an outside Parquet reader (node's hyparquet,
# which reads the exported lake) and a real SMTP server (mailpit), installed
# here if missing. Without them plain `go test ./...` skips those tests; here
# their absence is a failure.
test:
	.ci/install-versitygw
	.ci/install-chromium
	.ci/install-hyparquet
	.ci/install-axe-core
	.ci/install-mailpit
	BIBSTAT_REQUIRE_S3=1 BIBSTAT_REQUIRE_BROWSER=1 BIBSTAT_REQUIRE_NODE=1 BIBSTAT_REQUIRE_SMTP=1 PATH="$$PATH:$$(go env GOPATH)/bin" go test -tags $(TAGS) -timeout 18m ./...
