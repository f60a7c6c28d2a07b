package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/mail/mailtest"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// TestAlertsCommand harvests a world where one library's key is refused,
// then runs 'alerts --dry-run' (prints, sends nothing) and 'alerts'
// (sends through a real SMTP server): the operator and each library with
// a contact get one digest in their language, and a second run sends
// nothing new. No secret reaches the output or a message.
func TestAlertsCommand(t *testing.T) {
	mp := mailtest.Start(t, mailtest.Options{})
	cfg, _, secrets := harvestWorld(t, sushisim.Fault{Platform: "leksikon", Library: "2120100", Kind: sushisim.FaultBadKey})
	runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-06", "--progress", "none") // exits 3: the refused key
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(b), "    municipality: \"4601\"\n", "    municipality: \"4601\"\n    contact: bibliotek@bergen.kommune.example\n    lang: nn\n", 1)
	yaml += fmt.Sprintf("server:\n  base_url: https://bibstat.example.no\nmail:\n  host: %s\n  port: %d\n  starttls: false\n  from: BibStat <bibstat@bibliotek24.example>\n"+
		"alerts:\n  operator: drift@bibliotek24.example\n  lang: en\n", mp.Host, mp.SMTPPort)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errs, err := runHarvestCmd(t, "alerts", "--config", cfg, "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errs)
	}
	for _, want := range []string{"To: drift@bibliotek24.example (operator, en)", "Credentials the vendor refuses",
		"To: bibliotek@bergen.kommune.example (library:2120100, nn)", "Tilgangar leverandøren avviser", "leksikon, tilgang 2120100",
		"https://bibstat.example.no/bibliotek/2120100.html", "2 digests"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("the dry run sent %d messages", n)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "alerts.json")); !os.IsNotExist(err) {
		t.Fatalf("the dry run recorded its digests: %v", err)
	}

	out, errs, err = runHarvestCmd(t, "alerts", "--config", cfg)
	if err != nil || !strings.Contains(out, "alerts: 2 digests") {
		t.Fatalf("alerts: %v\n%s%s", err, out, errs)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "alerts.json")); err != nil {
		t.Fatalf("the digests sent are not recorded beside the ledger: %v", err)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		for _, s := range secrets {
			if strings.Contains(m.Raw, s) {
				t.Fatalf("a secret is in the digest to %v", m.To)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(out+errs, s) {
			t.Fatal("a secret was printed")
		}
	}
	if out, _, err = runHarvestCmd(t, "alerts", "--config", cfg); err != nil || !strings.Contains(out, "nothing new") || len(mp.Messages(t)) != 2 {
		t.Fatalf("second run: %v\n%s", err, out)
	}
}

// TestAlertsConfigWiresAccessRequests: access.domains turns the portal's
// access requests on, with the config's paths; none leaves them off.
func TestAlertsConfigWiresAccessRequests(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bibstat.yaml")
	yaml := "server:\n  base_url: https://bibstat.example.no\nmail:\n  host: smtp.example.no\n  from: bibstat@bibliotek24.example\n" +
		"access:\n  domains: [kommune.example]\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := serverConfigFile(cfgPath, "")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := serverConfig(&env{}, cfg, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := sc.Access; a == nil || a.Requests != filepath.Join(dir, "access-requests.json") || a.Audit != filepath.Join(dir, "access-audit.jsonl") || a.Mailer == nil {
		t.Fatalf("access %+v", sc.Access)
	}
	cfg.Access.Domains = nil
	if sc, _ = serverConfig(&env{}, cfg, "127.0.0.1:0", nil); sc.Access != nil {
		t.Fatal("access requests on without domains")
	}
}
