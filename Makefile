# The README's two commands: `make demo` (or `go run ./cmd/bibstat demo`) and `make test`.
.PHONY: demo test

demo:
	go run ./cmd/bibstat demo

# Every test, against the real things: a real S3 server (versitygw) and a real
# browser (Debian's chromium), both installed here if missing. Without them
# plain `go test ./...` skips those tests; here their absence is a failure.
test:
	.ci/install-versitygw
	.ci/install-chromium
	BIBSTAT_REQUIRE_S3=1 BIBSTAT_REQUIRE_BROWSER=1 PATH="$$PATH:$$(go env GOPATH)/bin" go test ./...
