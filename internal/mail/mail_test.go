package mail_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/mail"
	"github.com/bibliotek24/bibstat/internal/mail/mailtest"
)

const testPassword = "smtp-pass-Zq81vX"

// TestMailSendThroughMailpit sends through a real SMTP server over
// STARTTLS with AUTH, and reads the message back: headers, both parts,
// non-ASCII text, and no password anywhere in it.
func TestMailSendThroughMailpit(t *testing.T) {
	mp := mailtest.Start(t, mailtest.Options{StartTLS: true})
	s := &mail.SMTP{Host: mp.Host, Port: mp.SMTPPort, StartTLS: true, TLS: mp.TLS, User: "bibstat", Password: testPassword,
		From: "BibStat Bibliotek24 <bibstat@bibliotek24.example>"}
	long := strings.Repeat("lang linje uten brudd ", 100)
	m := mail.Message{To: []string{"post@bergen.kommune.example", "drift@bibliotek24.example"}, Subject: "Varsel: æøå i emnet",
		Lang: "nn", Text: "Hei på deg\n" + long, HTML: "<p>Hei på deg</p><p>&lt;script&gt;</p>"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	g := got[0]
	if g.Subject != m.Subject || g.From != "bibstat@bibliotek24.example" || strings.Join(g.To, ",") != strings.Join(m.To, ",") {
		t.Errorf("got subject %q from %q to %v", g.Subject, g.From, g.To)
	}
	for k, want := range map[string]string{"Content-Language": "nn", "Auto-Submitted": "auto-generated", "Mime-Version": "1.0"} {
		if v := g.Headers[k]; len(v) != 1 || v[0] != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if !strings.Contains(g.Text, "Hei på deg") || !strings.Contains(g.Text, long) || !strings.Contains(g.HTML, "&lt;script&gt;") {
		t.Errorf("bodies did not survive: text %.80q html %.80q", g.Text, g.HTML)
	}
	for _, line := range strings.Split(g.Raw, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a raw line of %d characters", len(line))
		}
	}
	if strings.Contains(g.Raw, testPassword) {
		t.Error("the SMTP password is in the message")
	}
}

// TestMailRefusesWithoutStartTLS: a server without STARTTLS gets neither
// the password nor the message when STARTTLS is required.
func TestMailRefusesWithoutStartTLS(t *testing.T) {
	mp := mailtest.Start(t, mailtest.Options{})
	s := &mail.SMTP{Host: mp.Host, Port: mp.SMTPPort, StartTLS: true, User: "u", Password: testPassword, From: "a@b.example"}
	err := s.Send(context.Background(), mail.Message{To: []string{"x@y.example"}, Subject: "s", Text: "t"})
	if !errors.Is(err, mail.ErrNoStartTLS) {
		t.Fatalf("err = %v, want ErrNoStartTLS", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Error("the password is in the error")
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
	s.StartTLS, s.User, s.Password = false, "", ""
	if err := s.Send(context.Background(), mail.Message{To: []string{"x@y.example"}, Subject: "s", Text: "text only\npå to linjer"}); err != nil {
		t.Fatalf("plain send to loopback: %v", err)
	}
	if got := mp.Messages(t); len(got) != 1 || strings.TrimSpace(strings.ReplaceAll(got[0].Text, "\r\n", "\n")) != "text only\npå to linjer" {
		t.Fatalf("a text-only message came through as %+v", got)
	}
}

// TestMailSilentServer: a server that accepts the connection and never
// speaks ends the send at the timeout, not never.
func TestMailSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	s := &mail.SMTP{Host: "127.0.0.1", Port: port, From: "a@b.example", Timeout: 200 * time.Millisecond}
	if err := s.Send(context.Background(), mail.Message{To: []string{"x@y.example"}, Subject: "s", Text: "t"}); err == nil {
		t.Fatal("a silent server took the message")
	}
}

func TestMessageBuildRefusesHeaderInjection(t *testing.T) {
	for name, m := range map[string]mail.Message{
		"subject":      {To: []string{"a@b.example"}, Subject: "x\r\nBcc: evil@x.example", Text: "t"},
		"recipient":    {To: []string{"a@b.example\r\nBcc: evil@x.example"}, Subject: "s", Text: "t"},
		"display name": {To: []string{"Evil <a@b.example>"}, Subject: "s", Text: "t"},
		"none":         {Subject: "s", Text: "t"},
	} {
		if _, err := m.Build("bibstat@b.example", time.Now()); !errors.Is(err, mail.ErrBadMessage) {
			t.Errorf("%s: err = %v, want ErrBadMessage", name, err)
		}
	}
}
