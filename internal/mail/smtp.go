package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// SMTP sends messages through one SMTP server. The password is the
// resolved secret: it is sent to the server in AUTH and nowhere else.
type SMTP struct {
	Host     string
	Port     int
	StartTLS bool // refuse to send unless the server offers STARTTLS
	User     string
	Password string
	From     string        // "BibStat <bibstat@bibliotek24.no>"
	Timeout  time.Duration // the whole conversation; 0 means 30 s
	// TLS overrides the STARTTLS client settings (tests); nil verifies
	// the server's certificate for Host.
	TLS *tls.Config
	Now func() time.Time
}

// ErrNoStartTLS is returned when STARTTLS is required and not offered:
// the password and the messages would cross the network in clear.
var ErrNoStartTLS = errors.New("the SMTP server does not offer STARTTLS")

// Send delivers m in one SMTP conversation.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	body, err := m.Build(s.From, now())
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("%w: from %q: %v", ErrBadMessage, s.From, err)
	}
	if err := s.send(ctx, from.Address, m.To, body); err != nil {
		return fmt.Errorf("smtp %s: %w", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, from string, to []string, body []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline) // a server that stops answering ends the conversation at the deadline
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	// Some servers refuse the EHLO "localhost" net/smtp sends by default.
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		if err := c.Hello(h); err != nil {
			return fmt.Errorf("ehlo: %w", err)
		}
	}
	if s.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoStartTLS
		}
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.User != "" {
		// PlainAuth refuses to send the password without TLS, unless the
		// server is on loopback.
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, s.Host)); err != nil {
			return fmt.Errorf("auth as %s: %w", s.User, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a); err != nil {
			return fmt.Errorf("rcpt to %s: %w", a, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}
