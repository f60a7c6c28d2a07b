package alerts

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/mail"
)

var oslo, _ = time.LoadLocation("Europe/Oslo")

// night is the harvest of the fixture's last night; now is the morning after.
var (
	night = time.Date(2025, 3, 30, 0, 0, 0, 0, time.UTC)
	now   = time.Date(2025, 3, 30, 7, 0, 0, 0, time.UTC)
)

const vendorText = `Invalid API key <script>alert("x")</script> & more`

func fixtureConfig() *config.Config {
	cfg := config.Default()
	cfg.Server.BaseURL = "https://bibstat.example.no/"
	cfg.Schedule.Start = "2025-01"
	cfg.Mail = config.Mail{Host: "127.0.0.1", Port: 25, From: "BibStat <bibstat@bibliotek24.example>"}
	cfg.Alerts.Operator = "drift@bibliotek24.example"
	cfg.Platforms = []config.Platform{
		{ID: "avis", Name: "Avis", BaseURL: "https://avis.example/sushi", Release: "5.1"},
		{ID: "leks", Name: "Leksikon", BaseURL: "https://leks.example/api", Release: "5"},
	}
	cfg.Libraries = []config.Library{
		{Bibnr: "2030100", Name: "Deichman", Municipality: "0301", Contact: "post@oslo.kommune.example"},
		{Bibnr: "2120100", Name: "Bergen off. bibliotek", Municipality: "4601", Contact: "bibliotek@bergen.kommune.example", Lang: "nn"},
		{Bibnr: "3060201", Name: "Vestland VGS", Municipality: "4601"},
	}
	cfg.Credentials = []config.Credential{
		{Platform: "avis", Library: "2030100", CustomerID: "c1", APIKey: "env:ALERTS_TEST_KEY"},
		{Platform: "avis", Library: "2120100", CustomerID: "c2", APIKey: "env:ALERTS_TEST_KEY"},
		{Platform: "leks", Library: "2030100", CustomerID: "c3"},
		{Platform: "leks", Library: "3060201", CustomerID: "c4"},
	}
	return &cfg
}

func entry(platform, cred, month string, s bibstat.State, at time.Time) ledger.Entry {
	return ledger.Entry{Platform: platform, Credential: cred, Library: bibstat.LibraryID(cred), Report: "pr", Month: month,
		State: s, UpdatedAt: at, CredFP: "fp-" + cred}
}

func fixtureInputs() Inputs {
	broken := entry("avis", "2120100", "2025-01", bibstat.StateCredentialsBroken, night.Add(time.Minute))
	broken.LastError, broken.Code = vendorText, 2020
	return Inputs{
		Config: fixtureConfig(),
		Ledger: []ledger.Entry{
			entry("avis", "2030100", "2025-01", bibstat.StateOK, night),
			entry("avis", "2030100", "2025-02", bibstat.StateOK, night),
			broken,
			entry("leks", "2030100", "2025-01", bibstat.StateZero, night),
			entry("leks", "2030100", "2025-02", bibstat.StateNotReady, night),
			entry("leks", "3060201", "2025-01", bibstat.StateFailed, night),
		},
		Runs: []Run{
			{Kind: "transform", Start: night.Add(2 * time.Hour), End: night.Add(3 * time.Hour), Outcome: "failed", Detail: "Catalog Error: <b>x</b>"},
			{Kind: "harvest", Start: night.Add(-time.Second), End: night.Add(time.Hour), Outcome: "ok"},
			{Kind: "harvest", Start: night.Add(-30 * 24 * time.Hour), Outcome: "failed", Detail: "too old to tell"},
		},
		Uploads: []Upload{{Key: "inbox/avisleser/rejected/mars.csv.reason.txt", Vendor: "avisleser", File: "mars.csv", Reason: "no usage rows found"}},
		Now:     now,
	}
}

func ids(as []Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestAlertFind(t *testing.T) {
	st, _ := LoadState(filepath.Join(t.TempDir(), "none.json"))
	got := ids(Find(fixtureInputs(), st))
	want := []string{
		"run/transform/2025-03-30T02:00:00Z",
		"credential/avis/2120100/fp-2120100",
		"upload/inbox/avisleser/rejected/mars.csv.reason.txt",
		"missing/leks/2030100/pr/2025-02",
		"missing/leks/3060201/pr/2025-01",
		"missing/leks/3060201/pr/2025-02",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts\n got %q\nwant %q", got, want)
	}
}

func TestAlertDueDay(t *testing.T) {
	in := fixtureInputs()
	in.Runs, in.Uploads = nil, nil
	// On 27 March, February is not yet due: only January is missing.
	in.Now = time.Date(2025, 3, 27, 12, 0, 0, 0, oslo)
	st, _ := LoadState(filepath.Join(t.TempDir(), "none.json"))
	var months []string
	for _, a := range Find(in, st) {
		if a.Kind == KindMissing {
			months = append(months, a.Month)
		}
	}
	if !slices.Equal(months, []string{"2025-01"}) {
		t.Fatalf("missing months on 27 March: %v, want [2025-01]", months)
	}
}

type recorder struct {
	sent []mail.Message
	fail map[string]bool // recipient address → refuse
}

func (r *recorder) Send(_ context.Context, m mail.Message) error {
	if r.fail[m.To[0]] {
		return errors.New("mailbox unavailable")
	}
	r.sent = append(r.sent, m)
	return nil
}

func TestAlertDigestsTellOnlyWhatIsNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	in := fixtureInputs()
	rec := &recorder{fail: map[string]bool{"post@oslo.kommune.example": true}}
	ds, err := Deliver(context.Background(), in, path, rec, false)
	if err == nil {
		t.Fatal("a refused digest is no error")
	}
	recipients := func(ds []Digest) (out []string) {
		for _, d := range ds {
			out = append(out, d.Recipient+"="+strings.Join(ids(d.Alerts), ","))
		}
		return out
	}
	if got := recipients(ds); len(got) != 3 || !strings.HasPrefix(got[0], "operator=run/") ||
		got[1] != "library:2030100=missing/leks/2030100/pr/2025-02" || got[2] != "library:2120100=credential/avis/2120100/fp-2120100" {
		t.Fatalf("digests %q", got)
	}
	if len(rec.sent) != 2 || len(ds[0].Alerts) != 6 {
		t.Fatalf("sent %d, operator's alerts %d", len(rec.sent), len(ds[0].Alerts))
	}

	// The next night: only the digest that failed is sent, and nothing else is new.
	rec.fail = nil
	rec.sent = nil
	ds, err = Deliver(context.Background(), in, path, rec, false)
	if err != nil || len(ds) != 1 || ds[0].Recipient != "library:2030100" || len(rec.sent) != 1 {
		t.Fatalf("second run: %v, %q", err, recipients(ds))
	}
	if ds, err = Deliver(context.Background(), in, path, rec, false); err != nil || len(ds) != 0 {
		t.Fatalf("third run: %v, %q", err, recipients(ds))
	}

	// The credential works again, then breaks with a new key: told again.
	in.Ledger[2].State = bibstat.StateOK
	in.Ledger = append(in.Ledger, entry("avis", "2120100", "2025-02", bibstat.StateOK, night))
	if ds, _ = Deliver(context.Background(), in, path, rec, false); len(ds) != 0 {
		t.Fatalf("a fixed credential is no news: %q", recipients(ds))
	}
	in.Ledger[2].State, in.Ledger[2].CredFP = bibstat.StateCredentialsBroken, "fp-new"
	ds, _ = Deliver(context.Background(), in, path, rec, false)
	if got := recipients(ds); len(got) != 2 || got[1] != "library:2120100=credential/avis/2120100/fp-new" {
		t.Fatalf("broken again: %q", got)
	}

	// A dry run plans the same and sends and saves nothing.
	in.Ledger[2].CredFP = "fp-newer"
	rec.sent = nil
	for range 2 {
		if ds, _ = Deliver(context.Background(), in, path, nil, true); len(ds) != 2 || len(rec.sent) != 0 {
			t.Fatalf("dry run: %q", recipients(ds))
		}
	}
}

func TestAlertPlatformFailingNights(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	cfg := fixtureConfig()
	cfg.Libraries[0].Contact, cfg.Libraries[1].Contact = "", ""
	nightly := func(n int, s bibstat.State) Inputs {
		start := night.Add(time.Duration(n) * 24 * time.Hour)
		e := entry("leks", "3060201", "2025-01", s, start.Add(time.Minute))
		e.LastError = "connection refused"
		return Inputs{Config: cfg, Ledger: []ledger.Entry{e}, Now: start.Add(5 * time.Hour),
			Runs: []Run{{Kind: "harvest", Start: start, End: start.Add(time.Hour), Outcome: "ok"}}}
	}
	platformAlerts := func(ds []Digest) (out []string) {
		for _, d := range ds {
			for _, a := range d.Alerts {
				if a.Kind == KindPlatform {
					out = append(out, a.ID)
				}
			}
		}
		return out
	}
	rec := &recorder{}
	for n := range 2 {
		ds, _ := Deliver(context.Background(), nightly(n, bibstat.StateFailed), path, rec, false)
		if got := platformAlerts(ds); len(got) != 0 {
			t.Fatalf("night %d: %q, want nothing before the third", n+1, got)
		}
	}
	// Asking twice about one night counts it once.
	if ds, _ := Deliver(context.Background(), nightly(1, bibstat.StateFailed), path, rec, false); len(platformAlerts(ds)) != 0 {
		t.Fatal("the second night was counted twice")
	}
	ds, _ := Deliver(context.Background(), nightly(2, bibstat.StateFailed), path, rec, false)
	if got := platformAlerts(ds); len(got) != 1 || got[0] != "platform/leks/2025-03-30T00:00:00Z" {
		t.Fatalf("third night: %q", got)
	}
	if !strings.Contains(rec.sent[len(rec.sent)-1].Text, "3 netter på rad") {
		t.Errorf("digest text:\n%s", rec.sent[len(rec.sent)-1].Text)
	}
	if ds, _ := Deliver(context.Background(), nightly(3, bibstat.StateFailed), path, rec, false); len(platformAlerts(ds)) != 0 {
		t.Fatal("a fourth night of the same streak told again")
	}
	// An answer ends the streak.
	Deliver(context.Background(), nightly(4, bibstat.StateNotReady), path, rec, false)
	st, _ := LoadState(path)
	if len(st.Platforms) != 0 {
		t.Fatalf("streaks after an answer: %+v", st.Platforms)
	}
}

func TestAlertRenderLanguagesAndEscaping(t *testing.T) {
	st, _ := LoadState(filepath.Join(t.TempDir(), "none.json"))
	found := Find(fixtureInputs(), st)
	for lang, want := range map[string][]string{
		"nb": {"BibStat: 6 nye varsler", "Tilganger leverandøren avviser", "aldri hentet", "Se https://bibstat.example.no/admin"},
		"nn": {"BibStat: 6 nye varsel", "Tilgangar leverandøren avviser", "aldri henta", "Sjå https://bibstat.example.no/admin"},
		"en": {"BibStat: 6 new alerts", "Credentials the vendor refuses", "never harvested", "See https://bibstat.example.no/admin"},
	} {
		m := Render("drift@bibliotek24.example", Audience{Lang: lang, Link: "https://bibstat.example.no/admin", Loc: oslo}, found)
		for _, w := range want {
			if !strings.Contains(m.Subject+"\n"+m.Text, w) {
				t.Errorf("%s: %q missing from\n%s\n%s", lang, w, m.Subject, m.Text)
			}
		}
		if m.Lang != lang || !strings.Contains(m.HTML, `lang="`+lang+`"`) {
			t.Errorf("%s: language %q", lang, m.Lang)
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>x</b>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
			t.Errorf("%s: vendor text not escaped in the HTML part:\n%s", lang, m.HTML)
		}
		if !strings.Contains(m.Text, `<script>alert("x")</script>`) {
			t.Errorf("%s: the text part should carry the vendor's words as they are", lang)
		}
	}
}

func TestAlertAccessRequestsToTheOperatorOnly(t *testing.T) {
	in := fixtureInputs()
	in.Requests = []AccessRequest{{ID: "ab12", Name: "Kari <b>Nordmann</b>", Email: "kari@oslo.kommune.example", Library: "2030100", Created: night}}
	st, _ := LoadState(filepath.Join(t.TempDir(), "none.json"))
	ds := Plan(in, st)
	if len(ds) != 3 || len(ds[0].Alerts) != 7 || len(ds[1].Alerts) != 1 {
		t.Fatalf("digests: %d, operator's %d alerts", len(ds), len(ds[0].Alerts))
	}
	op := ds[0].Message
	if !strings.Contains(op.Text, "Tilgangsforespørsler som venter på avgjørelse\n- Kari <b>Nordmann</b> <kari@oslo.kommune.example>, bibliotek 2030100") ||
		!strings.Contains(op.Text, "Se https://bibstat.example.no/admin/requests") {
		t.Errorf("operator's digest:\n%s", op.Text)
	}
	if strings.Contains(op.HTML, "<b>Nordmann") {
		t.Error("the requester's name is not escaped in the HTML part")
	}
}

func TestAlertMissingMonthsAsRuns(t *testing.T) {
	var as []Alert
	for _, m := range []string{"2025-05", "2025-01", "2025-02", "2025-03"} {
		as = append(as, Alert{ID: "missing/" + m, Kind: KindMissing, Library: "2030100", Platform: "avis", Credential: "2030100", Month: m, Report: "pr"})
	}
	as = append(as, Alert{ID: "missing/x", Kind: KindMissing, Library: "2030100", Platform: "avis", Credential: "2030100", Month: "2025-04", Report: "pr", Reason: "failed"})
	m := Render("a@b.example", Audience{Lang: "en", Link: "https://x.example/admin"}, as)
	for _, want := range []string{"- 2030100 · avis · 2025-01 – 2025-03, 2025-05 (PR): never harvested\n", "- 2030100 · avis · 2025-04 (PR): the harvest failed\n"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("no %q in\n%s", want, m.Text)
		}
	}
}
