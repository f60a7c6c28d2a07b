package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one e-mail to one or more recipients.
type Message struct {
	To      []string // addresses, e.g. "post@bergen.kommune.no"
	Subject string
	Lang    string // Content-Language: nb, nn or en
	Text    string // the plain-text body
	HTML    string // an HTML body the caller escaped; "" for text only
}

// ErrBadMessage is wrapped by every error about a message's own content.
var ErrBadMessage = errors.New("bad message")

// ParseAddress returns addr as a bare, checked address (no display name).
func ParseAddress(addr string) (string, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return "", fmt.Errorf("%w: address %q: want a bare address such as post@kommune.no", ErrBadMessage, addr)
	}
	return a.Address, nil
}

// Build returns m as an RFC 5322 message from from (an address, possibly
// with a display name), dated now.
func (m Message) Build(from string, now time.Time) ([]byte, error) {
	f, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%w: from %q: %v", ErrBadMessage, from, err)
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("%w: no recipient", ErrBadMessage)
	}
	to := make([]string, len(m.To))
	for i, a := range m.To {
		if to[i], err = ParseAddress(a); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.Lang, "\r\n: ") {
		return nil, fmt.Errorf("%w: subject or language holds a line break", ErrBadMessage)
	}
	_, domain, _ := strings.Cut(f.Address, "@")
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", f.String())
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(randomBytes(12))+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Auto-Submitted", "auto-generated")
	if m.Lang != "" {
		h("Content-Language", m.Lang)
	}
	if m.HTML == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, p := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("build message: %w", err)
		}
		if err := writeQP(w, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	return b.Bytes(), nil
}

// writeQP writes s quoted-printable with CRLF line ends, so that no line
// of a vendor's long error text breaks SMTP's 998-character limit.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(s)); err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
