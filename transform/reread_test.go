package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// An uploaded COUNTER report with a Data_Type, and a vendor's CSV with the
// mapping that read it, for library 2030100 in January and February 2025.
const (
	uploadedPR = "Report_Name\tPlatform Report\r\nReport_ID\tPR\r\nRelease\t5.1\r\nInstitution_Name\tOslo\r\n" +
		"Institution_ID\tISIL:NO-2030100\r\nMetric_Types\tTotal_Item_Requests\r\nReport_Filters\t\r\nReport_Attributes\t\r\n" +
		"Exceptions\t\r\nReporting_Period\tBegin_Date=2025-01-01; End_Date=2025-02-28\r\nCreated\t2025-03-05T00:00:00Z\r\n" +
		"Created_By\tLeksikon\r\nRegistry_Record\t\r\n\r\n" +
		"Platform\tData_Type\tMetric_Type\tReporting_Period_Total\tJan-2025\tFeb-2025\r\n" +
		"leksikon\tReference_Work\tTotal_Item_Requests\t30\t10\t20\r\n"
	uploadedCSV = "Bibnr,Måned,Visninger\n2030100,2025-01,7\n2030100,2025-02,9\n2120100,2025-01,100\n"
	avisMapping = "vendor: avis\nplatform: avis\nlibrary:\n  column: Bibnr\n  by: bibnr\nmonth:\n  column: Måned\n" +
		"metrics:\n  - column: Visninger\n    metric: Total_Item_Requests\nconstants:\n  data_type: Newspaper_or_Newsletter\n"
)

// archiveUpload archives a file as ingest/upload does (the file, the mapping it
// was read with, one sidecar per library and month) with parsed rows as
// the parser of version ver wrote them: this one's, or an older one that
// left Data_Type empty.
func archiveUpload(t *testing.T, st store.Store, vendor, file, mappingYAML string, ver int, counts map[string]int64) {
	t.Helper()
	ctx := context.Background()
	name := "20250403T080001.000000000Z-0123abcd." + map[bool]string{true: "tsv", false: "csv"}[mappingYAML == ""]
	info := &bibstat.UploadInfo{File: bibstat.UploadFileKey(vendor, name), Name: vendor + "-2025", By: "test"}
	put := func(key string, b []byte) {
		if err := st.Put(ctx, key, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	put(info.File, []byte(file))
	if mappingYAML != "" {
		info.Mapping = bibstat.UploadMappingKey(vendor, "00112233aabbccdd")
		put(info.Mapping, []byte(mappingYAML))
	}
	for month, n := range counts {
		m, _ := bibstat.ParseMonth(month)
		key := bibstat.UploadUnitPrefix(vendor, "pr", "2030100", m) + name
		release := map[bool]string{true: "5.1", false: "vendor"}[mappingYAML == ""]
		row := schemas.Row{Release: release, ReportID: "PR", Platform: vendor, MetricType: "Total_Item_Requests",
			InstitutionID: "ISIL:NO-2030100", Month: m.First(), Count: n, SourceKey: info.File}
		if ver == schemas.Version {
			row.DataType = "as stored"
		}
		pq, err := schemas.ParquetOf([]schemas.Row{row})
		if err != nil {
			t.Fatal(err)
		}
		side := bibstat.Sidecar{Key: key, Source: "upload", Platform: vendor, Library: "2030100", Report: "pr", Month: month,
			HarvestedAt: time.Date(2025, 4, 3, 8, 0, 1, 0, time.UTC), State: bibstat.StateOK, Release: release, Rows: 1,
			ParsedKey: bibstat.ParsedKey(key, ver), ParserVersion: ver, Upload: info}
		js, err := json.Marshal(side)
		if err != nil {
			t.Fatal(err)
		}
		put(side.ParsedKey, pq)
		put(bibstat.SidecarKey(key), js)
	}
}

// TestRebuildRereadsUploads: after a parser-version bump a rebuild reads
// uploaded files again from their raw bytes, a COUNTER report through the
// current reader and a vendor file through its archived mapping, so a
// column the old parser left empty is filled; rows of this parser version
// are loaded as stored. Each unit gets its own library's and month's rows,
// once.
func TestRebuildRereadsUploads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ver      int
		wantType map[string]string // platform → data_type
	}{
		{"older parser: re-read", schemas.Version - 1, map[string]string{"leksikon": "Reference_Work", "avis": "Newspaper_or_Newsletter"}},
		{"this parser: as stored", schemas.Version, map[string]string{"leksikon": "as stored", "avis": "as stored"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.NewMemory()
			archiveUpload(t, st, "leksikon", uploadedPR, "", tc.ver, map[string]int64{"2025-01": 10, "2025-02": 20})
			archiveUpload(t, st, "avis", uploadedCSV, avisMapping, tc.ver, map[string]int64{"2025-01": 7, "2025-02": 9})
			path := filepath.Join(t.TempDir(), "w.duckdb")
			sum, err := Rebuild(context.Background(), path, Options{}, st, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Failed) != 0 || sum.Loaded != 4 {
				t.Fatalf("loaded %d units, failed %v; want 4, none", sum.Loaded, sum.Failed)
			}
			w := openTest(t, path)
			rows, err := w.DB.Query(`SELECT platform, strftime(month, '%Y-%m'), data_type, library_id, sum(count)::BIGINT
				FROM facts GROUP BY ALL ORDER BY ALL`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var platform, month, dataType, lib string
				var n int64
				if err := rows.Scan(&platform, &month, &dataType, &lib, &n); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %s %s %s %d", platform, month, dataType, lib, n))
			}
			want := []string{
				"avis 2025-01 " + tc.wantType["avis"] + " 2030100 7", "avis 2025-02 " + tc.wantType["avis"] + " 2030100 9",
				"leksikon 2025-01 " + tc.wantType["leksikon"] + " 2030100 10", "leksikon 2025-02 " + tc.wantType["leksikon"] + " 2030100 20",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("facts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestRereadFailureKeepsTheUnitOut: an upload whose file no longer reads
// (here: its archived mapping is gone) is not loaded and says why, as a
// harvest that does not read; it never loads as zero.
func TestRereadFailureKeepsTheUnitOut(t *testing.T) {
	st := store.NewMemory()
	archiveUpload(t, st, "avis", uploadedCSV, avisMapping, schemas.Version-1, map[string]int64{"2025-01": 7})
	if err := st.Delete(context.Background(), bibstat.UploadMappingKey("avis", "00112233aabbccdd")); err != nil {
		t.Fatal(err)
	}
	sum, err := Rebuild(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{}, st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 0 || len(sum.Failed) != 1 || !strings.Contains(sum.Failed[0].Reason, "mappings/00112233aabbccdd.yaml is not in the archive") {
		t.Errorf("loaded %d, failed %+v; want the unit not loaded, for its mapping", sum.Loaded, sum.Failed)
	}
}

// countingSource counts the Gets of each key. Load reads sidecars (and
// parses objects) on several goroutines, hence the mutex.
type countingSource struct {
	Source
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingSource) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.mu.Lock()
	c.gets[key]++
	c.mu.Unlock()
	return c.Source.Get(ctx, key)
}

// TestRereadReadsAFileOncePerChunk: a file of many units is read once, not
// once per unit (which made a rebuild of one 450-library yearly export take
// minutes), and every unit still gets its own rows.
func TestRereadReadsAFileOncePerChunk(t *testing.T) {
	st := store.NewMemory()
	var csv strings.Builder
	csv.WriteString("Bibnr,Måned,Visninger\n")
	counts := map[string]int64{}
	for m := 1; m <= 12; m++ {
		fmt.Fprintf(&csv, "2030100,2025-%02d,%d\n2120100,2025-%02d,5\n", m, m, m)
		counts[fmt.Sprintf("2025-%02d", m)] = int64(m)
	}
	archiveUpload(t, st, "avis", csv.String(), avisMapping, schemas.Version-1, counts)
	src := &countingSource{Source: st, gets: map[string]int{}}
	path := filepath.Join(t.TempDir(), "w.duckdb")
	sum, err := Rebuild(context.Background(), path, Options{}, src, quiet)
	if err != nil || sum.Loaded != 12 || len(sum.Failed) != 0 {
		t.Fatalf("loaded %d, failed %v, %v", sum.Loaded, sum.Failed, err)
	}
	file := bibstat.UploadFileKey("avis", "20250403T080001.000000000Z-0123abcd.csv")
	if src.gets[file] != 1 {
		t.Errorf("the file was read %d times for 12 units, want once", src.gets[file])
	}
	w := openTest(t, path)
	if got := query[int64](t, w.DB, `SELECT sum(count) FROM facts WHERE library_id = '2030100'`); got != 78 {
		t.Errorf("2030100 has %d, want 1+2+…+12 = 78 (and none of 2120100's, which has no unit here)", got)
	}
	if got := query[int64](t, w.DB, `SELECT count(*) FROM facts`); got != 12 {
		t.Errorf("%d fact rows, want 12", got)
	}
}

func TestUploadSiblingKey(t *testing.T) {
	m, _ := bibstat.ParseMonth("2025-01")
	k := bibstat.UploadUnitPrefix("avis", "pr", "2030100", m) + "20250403T080001.000000000Z-0123abcd.csv"
	feb, _ := bibstat.ParseMonth("2025-02")
	if got, want := bibstat.UploadSiblingKey(k, "2120100", feb), bibstat.UploadUnitPrefix("avis", "pr", "2120100", feb)+"20250403T080001.000000000Z-0123abcd.csv"; got != want {
		t.Errorf("sibling %q, want %q", got, want)
	}
	if got := bibstat.UploadSiblingKey("raw/sushi/p/c/pr/2025-01/x.json", "2120100", feb); got != "" {
		t.Errorf("a harvest's key has no upload sibling, got %q", got)
	}
}
