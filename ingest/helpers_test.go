package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
)

type recorder struct {
	body bytes.Buffer
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(c int)           { r.code = c }

func mustReq(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }
