package config

import (
	"strings"
	"testing"
)

const mailOK = `
server:
  base_url: https://bibstat.example.no
mail:
  host: smtp.example.no
  user: bibstat
  password: env:SMTP_PASSWORD
  from: "BibStat <bibstat@bibliotek24.example>"
alerts:
  operator: drift@bibliotek24.example
access:
  domains: [kommune.no, vlfk.no]
`

func TestValidateMailAlertsAccess(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"ok", base + mailOK, ""},
		{"library contact and lang", strings.Replace(base, `    municipality: "0301"`, "    municipality: \"0301\"\n    contact: post@oslo.kommune.no\n    lang: nn", 1), ""},
		{"library contact with a name", strings.Replace(base, `    municipality: "0301"`, "    municipality: \"0301\"\n    contact: Oslo <post@oslo.kommune.no>", 1), "contact"},
		{"library lang", strings.Replace(base, `    municipality: "0301"`, "    municipality: \"0301\"\n    lang: sv", 1), "lang \"sv\""},
		{"literal password", base + strings.Replace(mailOK, "env:SMTP_PASSWORD", "hunter2hunter2", 1), "password"},
		{"user without password", base + strings.Replace(mailOK, "  password: env:SMTP_PASSWORD\n", "", 1), "user and password go together"},
		{"bad from", base + strings.Replace(mailOK, `"BibStat <bibstat@bibliotek24.example>"`, "bibstat", 1), "from"},
		{"port in host", base + strings.Replace(mailOK, "host: smtp.example.no", "host: smtp.example.no:587", 1), "without a port"},
		{"operator without mail", base + "server:\n  base_url: https://b.example\nalerts:\n  operator: drift@bibliotek24.example\n", "no host"},
		{"operator without base_url", base + strings.Replace(mailOK, "  base_url: https://bibstat.example.no\n", "", 1), "base_url is required"},
		{"due day 31", base + strings.Replace(mailOK, "alerts:\n", "alerts:\n  due_day: 31\n", 1), "due_day 31"},
		{"failing nights", base + strings.Replace(mailOK, "alerts:\n", "alerts:\n  failing_nights: 0\n", 1), "failing_nights"},
		{"upper-case domain", base + strings.Replace(mailOK, "[kommune.no, vlfk.no]", "[Kommune.no]", 1), "lower-case domain"},
		{"domain with @", base + strings.Replace(mailOK, "[kommune.no, vlfk.no]", "[\"@kommune.no\"]", 1), "lower-case domain"},
		{"short link ttl", base + mailOK + "  link_ttl: 1m\n", "link_ttl"},
		{"access without mail", base + "server:\n  base_url: https://b.example\naccess:\n  domains: [kommune.no]\n", "mailed link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc.yaml, tc.want) })
	}
}

func TestLanguages(t *testing.T) {
	cfg := Default()
	lib := Library{Bibnr: "2030100"}
	if cfg.AlertLang() != "nb" || cfg.LibraryLang(&lib) != "nb" {
		t.Fatalf("defaults: %s %s", cfg.AlertLang(), cfg.LibraryLang(&lib))
	}
	cfg.Server.Lang, cfg.Alerts.Lang, lib.Lang = "en", "nn", "nn"
	if cfg.AlertLang() != "nn" || cfg.LibraryLang(&lib) != "nn" {
		t.Fatalf("set: %s %s", cfg.AlertLang(), cfg.LibraryLang(&lib))
	}
}

func TestAlertStateBesideTheLedger(t *testing.T) {
	l := &Loaded{Config: Default(), Dir: "/etc/bibstat"}
	l.Ledger.Path = "/var/lib/bibstat/ledger.jsonl"
	if got := l.AlertState(); got != "/var/lib/bibstat/alerts.json" {
		t.Errorf("default: %s", got)
	}
	l.Alerts.State = "told.json"
	if got := l.AlertState(); got != "/etc/bibstat/told.json" {
		t.Errorf("set: %s", got)
	}
}
