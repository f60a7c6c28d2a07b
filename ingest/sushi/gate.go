package sushi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Gate paces the requests of one politeness host at the socket. A
// Client's request made with a ctx from WithGate calls Wait just before
// its first byte is handed to the kernel, and Sent after each write to
// the kernel returned: the vendor cannot have seen the request before Wait
// returned nor after Sent. Whatever writes the request (a retry of the
// transport on a fresh connection, a redirect) passes the gate again.
//
// The gate is kept only by connections of this package's transport (a
// Client without a Transport, or one from NewTransport); others never call
// it, and the caller must pace without it.
type Gate interface {
	Wait() error // an error fails the write: nothing is sent
	Sent()
}

type gateKey struct{}

// WithGate returns ctx whose requests through a Client pass g.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

func gateOf(ctx context.Context) Gate {
	g, _ := ctx.Value(gateKey{}).(Gate)
	return g
}

// NewTransport is http.DefaultTransport's settings with connections that
// keep a request's Gate.
func NewTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return GateConn(c), nil
	}
	return tr
}

// GateConn makes c keep the gates of the requests written to it, as
// NewTransport's connections do, for a transport that dials its own.
func GateConn(c net.Conn) net.Conn { return &gatedConn{Conn: c} }

// defaultHTTP is the client of a Client without one of its own: the
// default client's settings, with gated connections.
var defaultHTTP = &http.Client{Transport: NewTransport()}

// httpClient is cl's HTTP client; one without a Transport gets gated
// connections rather than http.DefaultTransport's.
func (cl *Client) httpClient() *http.Client {
	switch {
	case cl.HTTP == nil:
		return defaultHTTP
	case cl.HTTP.Transport == nil:
		c := *cl.HTTP
		c.Transport = defaultHTTP.Transport
		return &c
	}
	return cl.HTTP
}

// withGateTrace arms the connection each attempt of the request gets
// with ctx's gate, or with none: a connection serves one request at a
// time, and one reused from the idle pool must not call the gate of the
// request it served before.
func withGateTrace(ctx context.Context) context.Context {
	g := gateOf(ctx)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		c := info.Conn
		if nc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS: the socket is underneath
			c = nc.NetConn()
		}
		if gc, ok := c.(*gatedConn); ok {
			gc.arm(g)
		}
	}})
}

// gatedConn holds the first write of each request until its gate opens.
type gatedConn struct {
	net.Conn
	mu     sync.Mutex
	gate   Gate
	waited bool // the armed request passed Wait
}

func (c *gatedConn) arm(g Gate) {
	c.mu.Lock()
	c.gate, c.waited = g, false
	c.mu.Unlock()
}

func (c *gatedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	g, first := c.gate, !c.waited
	c.waited = true
	c.mu.Unlock()
	if g == nil {
		return c.Conn.Write(b)
	}
	if first {
		if err := g.Wait(); err != nil {
			return 0, err
		}
	}
	n, err := c.Conn.Write(b)
	g.Sent()
	return n, err
}
