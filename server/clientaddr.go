package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request comes from: its peer's, or, when the
// peer is a trusted proxy, the nearest hop in Forwarded or X-Forwarded-For
// that is not a trusted proxy itself. Hops are read from the right, as
// the proxies appended them: what a client writes on the left is never
// believed.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := forwardedFor(r.Header)
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a proxy wrote something unreadable: the last good hop it is
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		last = a
	}
	return last.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor lists the client hops of the Forwarded header's for=
// values (RFC 7239), else of X-Forwarded-For, left to right, without
// ports, brackets or quotes.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("Forwarded") {
		for _, elem := range strings.Split(line, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					hops = append(hops, bareHost(strings.Trim(v, `"`)))
				}
			}
		}
	}
	if len(hops) > 0 {
		return hops
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, v := range strings.Split(line, ",") {
			hops = append(hops, bareHost(strings.TrimSpace(v)))
		}
	}
	return hops
}

// bareHost strips a port and IPv6 brackets: "[::1]:80" → "::1", "1.2.3.4:5" → "1.2.3.4".
func bareHost(v string) string {
	if h, _, err := net.SplitHostPort(v); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
}
