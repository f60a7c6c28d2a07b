package ingest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/config"
	"gopkg.in/yaml.v3"
)

func TestWriteDiscovered(t *testing.T) {
	p := &config.Platform{ID: "avis", Name: "Avisarkivet"}
	p.Consortium = &config.ConsortiumCredential{APIKey: "env:AVIS_KEY"}
	cfg := &config.Config{
		Platforms:   []config.Platform{*p},
		Libraries:   []config.Library{{Bibnr: "2030100"}},
		Credentials: []config.Credential{{Platform: "avis", Library: "2030100", CustomerID: "c1"}},
	}
	members := []sushi.Member{
		{CustomerID: "c1", Name: "Oslo", InstitutionIDs: []string{"ISIL:NO-2030100"}},
		{CustomerID: "c2", Name: "Bergen", RequestorID: "s3cret-requestor", InstitutionIDs: []string{"ISIL:NO-2120100"}},
		{CustomerID: "c3", Name: "Abroad", InstitutionIDs: []string{"Proprietary:x"}},
	}
	var out bytes.Buffer
	if err := WriteDiscovered(&out, cfg, p, members); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "s3cret") {
		t.Fatalf("a secret was written:\n%s", s)
	}
	for _, want := range []string{"# 3 members", "already configured", "library 2120100 is not under libraries: yet",
		"env:SUSHI_AVIS_REQUESTOR_2120100", "library: TODO", "api_key: env:AVIS_KEY"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	var back struct{ Credentials []config.Credential }
	if err := yaml.Unmarshal(out.Bytes(), &back); err != nil || len(back.Credentials) != 3 {
		t.Errorf("not a credentials list (%v): %+v", err, back)
	}
}
