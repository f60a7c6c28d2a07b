package ingest

import (
	"context"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// BenchmarkClassify measures the per-unit work of a harvest: read one
// simulated PR response (its rows are read and dropped: the warehouse parses them).
func BenchmarkClassify(b *testing.B) {
	r := &rig{world: testWorld()}
	lib := bibstat.LibraryID("2030100")
	rec := &recorder{}
	r.world.Handler("avis").ServeHTTP(rec, mustReq("/r51/reports/pr?customer_id="+r.world.CustomerID(lib)+"&api_key="+r.world.APIKey("avis", lib)+"&begin_date=2025-01&end_date=2025-01"))
	resp := &sushi.Response{Status: 200, ContentType: "application/json", Body: rec.body.Bytes()}
	j := Job{Unit: bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: jan},
		Cred: sushi.Credential{ID: string(lib), Library: lib, Release: "5.1", CustomerID: r.world.CustomerID(lib)}}
	if o := classify(context.Background(), j, "raw/x", resp); o.state != bibstat.StateOK {
		b.Fatalf("%s %s", o.state, o.err)
	}
	b.ReportAllocs()
	for b.Loop() {
		classify(context.Background(), j, "raw/x", resp)
	}
}
