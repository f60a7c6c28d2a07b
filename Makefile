# The README's two commands: `make demo` (or `go run ./cmd/bibstat demo`) and `make test`.
.PHONY: demo test

demo:
	go run ./cmd/bibstat demo

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
	BIBSTAT_REQUIRE_S3=1 BIBSTAT_REQUIRE_BROWSER=1 BIBSTAT_REQUIRE_NODE=1 BIBSTAT_REQUIRE_SMTP=1 PATH="$$PATH:$$(go env GOPATH)/bin" go test ./...
