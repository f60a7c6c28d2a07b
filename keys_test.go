package bibstat

import (
	"testing"
	"time"
)

// TestKeys pins every key builder to the layout already in the store: a
// changed string would orphan archived objects.
func TestKeys(t *testing.T) {
	m := Month{2025, time.March}
	u := Unit{Platform: "avisarkiv", Credential: "2030100", Report: "pr", Month: m}
	at := time.Date(2025, 4, 2, 3, 4, 5, 6, time.UTC)
	raw := u.RawKey(at, "json")
	tests := []struct{ name, got, want string }{
		{"unit prefix", u.UnitPrefix(), "raw/sushi/avisarkiv/2030100/pr/2025-03/"},
		{"raw key", raw, "raw/sushi/avisarkiv/2030100/pr/2025-03/20250402T030405.000000006Z.json"},
		{"sidecar", SidecarKey(raw), "raw/sushi/avisarkiv/2030100/pr/2025-03/20250402T030405.000000006Z.json.meta.json"},
		{"unit of raw key", UnitPrefixOf(raw), u.UnitPrefix()},
		{"parsed", ParsedKey(raw, 3), "parsed/v3/sushi/avisarkiv/2030100/pr/2025-03/20250402T030405.000000006Z.json.parquet"},
		{"upload files", UploadFilesPrefix("acme"), "raw/upload/acme/files/"},
		{"upload file", UploadFileKey("acme", "x-1.csv"), "raw/upload/acme/files/x-1.csv"},
		{"upload record", UploadFileKey("acme", "x-1.csv") + UploadRecordSuffix, "raw/upload/acme/files/x-1.csv.upload.json"},
		{"upload mapping", UploadMappingKey("acme", "0123456789abcdef"), "raw/upload/acme/mappings/0123456789abcdef.yaml"},
		{"upload unit", UploadUnitPrefix("acme", "pr", "2030100", m), "raw/upload/acme/pr/2030100/2025-03/"},
		{"upload unit of key", UnitPrefixOf(UploadUnitPrefix("acme", "pr", "2030100", m) + "x-1.csv"), "raw/upload/acme/pr/2030100/2025-03/"},
		{"inbox done", InboxDir("acme", InboxDoneDir), "inbox/acme/done/"},
		{"inbox rejected", InboxDir("acme", InboxRejectedDir) + "f.csv" + InboxReasonSuffix, "inbox/acme/rejected/f.csv.reason.txt"},
		{"libraries xml", LibrariesXMLKey, "register/libraries.xml"},
		{"libraries csv", LibrariesCSVKey, "register/libraries.csv"},
		{"institutions", InstitutionsKey, "register/institutions.csv"},
		{"pools", PoolsKey, "register/pools.csv"},
		{"agreements import", AgreementsImportKey(at.In(time.FixedZone("CEST", 7200)), "0123456789abcdef"), "register/agreements/20250402T030405.000000006Z-0123456789ab.yaml"},
		{"agreements record", AgreementsImportKey(at, "0123456789ab") + AgreementsRecordSuffix, "register/agreements/20250402T030405.000000006Z-0123456789ab.yaml.import.json"},
		{"curated", CuratedTablePrefix("mart_library_month"), "curated/mart_library_month/"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !IsSidecar(SidecarKey(raw)) || IsSidecar(raw) {
		t.Errorf("IsSidecar does not tell %q from its sidecar", raw)
	}
}
