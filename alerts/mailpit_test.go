package alerts

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/mail"
	"github.com/bibliotek24/bibstat/internal/mail/mailtest"
)

// TestAlertDigestsThroughMailpit sends the fixture's digests through a
// real SMTP server and reads them back as a mail client would: one to the
// operator and one to each library with a contact, each in its language,
// vendor text escaped in HTML, and no secret anywhere.
func TestAlertDigestsThroughMailpit(t *testing.T) {
	const apiKey, smtpPassword = "vendor-api-key-7Hq2", "smtp-password-Yw31"
	t.Setenv("ALERTS_TEST_KEY", apiKey) // the credentials' api_key: never read by alerts, and never sent
	mp := mailtest.Start(t, mailtest.Options{StartTLS: true})
	s := &mail.SMTP{Host: mp.Host, Port: mp.SMTPPort, StartTLS: true, TLS: mp.TLS, User: "bibstat", Password: smtpPassword,
		From: "BibStat <bibstat@bibliotek24.example>"}
	path := filepath.Join(t.TempDir(), "alerts.json")
	if _, err := Deliver(context.Background(), fixtureInputs(), path, s, false); err != nil {
		t.Fatal(err)
	}
	got := map[string]mailtest.Message{}
	for _, m := range mp.Messages(t) {
		if len(m.To) != 1 {
			t.Fatalf("a digest to %v: one recipient each", m.To)
		}
		got[m.To[0]] = m
	}
	want := map[string]struct{ lang, subject, link string }{
		"drift@bibliotek24.example":        {"nb", "BibStat: 6 nye varsler", "https://bibstat.example.no/admin"},
		"post@oslo.kommune.example":        {"nb", "BibStat: 1 nytt varsel", "https://bibstat.example.no/bibliotek/2030100.html"},
		"bibliotek@bergen.kommune.example": {"nn", "BibStat: 1 nytt varsel", "https://bibstat.example.no/bibliotek/2120100.html"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for to, w := range want {
		m, ok := got[to]
		if !ok {
			t.Errorf("no digest to %s", to)
			continue
		}
		if m.Subject != w.subject || m.Headers["Content-Language"][0] != w.lang || m.Headers["Auto-Submitted"][0] != "auto-generated" {
			t.Errorf("%s: subject %q, headers %v", to, m.Subject, m.Headers)
		}
		if !strings.Contains(m.Text, w.link) || !strings.Contains(m.HTML, `href="`+w.link+`"`) {
			t.Errorf("%s: no link to %s in\n%s", to, w.link, m.Text)
		}
		for _, secret := range []string{apiKey, smtpPassword, "env:ALERTS_TEST_KEY"} {
			if strings.Contains(m.Raw, secret) {
				t.Errorf("%s: the message holds %q", to, secret)
			}
		}
	}
	bergen := got["bibliotek@bergen.kommune.example"]
	if !strings.Contains(bergen.Text, "Tilgangar leverandøren avviser") || !strings.Contains(bergen.Text, `<script>alert("x")</script>`) {
		t.Errorf("Bergen's digest is not in Nynorsk with the vendor's words:\n%s", bergen.Text)
	}
	if strings.Contains(bergen.HTML, "<script>") || !strings.Contains(bergen.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("vendor text not escaped in Bergen's HTML:\n%s", bergen.HTML)
	}
	if op := got["drift@bibliotek24.example"]; strings.Contains(op.HTML, "<b>x</b>") {
		t.Error("the stage's error text is not escaped in the operator's HTML")
	}

	// The next run finds nothing new and sends nothing.
	mp.Clear(t)
	if ds, err := Deliver(context.Background(), fixtureInputs(), path, s, false); err != nil || len(ds) != 0 {
		t.Fatalf("second run: %d digests, %v", len(ds), err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("second run sent %d messages", n)
	}
}
