package bench

import (
	"encoding/binary"
	"io"
	"net"
	"syscall"
	"time"
)

// stampListener notes, for every request on its connections, when the
// kernel received it (SO_TIMESTAMPNS): a request's bytes come in one
// segment on loopback, and the server's reads of one segment (its 1-byte
// look-ahead, then the rest) carry one time, so each new time is one
// request. A connection that cannot be stamped is refused rather than
// left out of the count.
func stampListener(ln net.Listener, note func(time.Time)) net.Listener {
	// Set on the listener too, before any client connects: the kernel
	// stamps segments only once some socket asks, and a connection's first
	// request is queued before Accept returns it.
	if tl, ok := ln.(*net.TCPListener); ok {
		if rc, err := tl.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { _ = enableStamps(fd) }) // each connection is checked on Accept
		}
	}
	return &stampingListener{Listener: ln, note: note}
}

func enableStamps(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

type stampingListener struct {
	net.Listener
	note func(time.Time)
}

func (l *stampingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = enableStamps(fd) }); err != nil || serr != nil {
		c.Close()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.ENOTSUP}
	}
	return &stampingConn{TCPConn: tc, rc: rc, note: l.note}, nil
}

// stampingConn reads with recvmsg to see each segment's receive time.
type stampingConn struct {
	*net.TCPConn
	rc   syscall.RawConn
	note func(time.Time)
	last int64 // the previous read's receive time, ns
	oob  [128]byte
}

func (c *stampingConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n, oobn int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), b, c.oob[:], 0)
			if rerr != syscall.EINTR {
				return rerr != syscall.EAGAIN
			}
		}
	})
	switch {
	case err != nil: // a deadline or a closed connection: the poller's error, as net/http expects
		return 0, err
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: rerr}
	case n == 0:
		return 0, io.EOF
	}
	c.stamp(c.oob[:oobn])
	return n, nil
}

func (c *stampingConn) stamp(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SO_TIMESTAMPNS || len(m.Data) < 16 {
			continue
		}
		sec, nsec := int64(binary.NativeEndian.Uint64(m.Data)), int64(binary.NativeEndian.Uint64(m.Data[8:]))
		if ns := sec*1e9 + nsec; ns != c.last {
			c.last = ns
			c.note(time.Unix(sec, nsec))
		}
	}
}
