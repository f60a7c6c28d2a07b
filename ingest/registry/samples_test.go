package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const samples = "/work/shared/counter-samples"

// TestSharedSamples serves the two real registry records from a loopback
// server, as the registry would: the platform list, and the sushi-service
// one of its platforms links to. The other platform's service is not
// served, so its proposal must say it could not be read.
func TestSharedSamples(t *testing.T) {
	list := readSample(t, "Project-Counter__counter-validator__platform2.json")
	svc := readSample(t, "Project-Counter__counter-validator__ef1cba68-395b-45cd-8331-cf59e40f9ecd.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/platform/":
			w.Write(list)
		case "/api/v1/sushi-service/ef1cba68-395b-45cd-8331-cf59e40f9ecd/":
			w.Write(svc)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	// The records link to registry.countermetrics.org: every request goes to the loopback server instead.
	loop, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: rewrite{loop, srv.Client().Transport}}
	f := &Fetcher{Client: client}

	body, err := f.Get(context.Background(), srv.URL+"/api/v1/platform/")
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Importer{Fetch: f.Get}).Import(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Proposals) != 2 {
		t.Fatalf("got %d proposals, want 2: %+v", len(res.Proposals), res.Proposals)
	}
	checkProposal(t, res.Proposals[0], want{ID: "academy-of-management-test", Name: "Academy of Management TEST",
		Problem: "fetch https://registry.countermetrics.org/api/v1/sushi-service/5b4b3f8c-6f6b-476d-8891-b0e8bef75af8/: HTTP 404"})
	checkProposal(t, res.Proposals[1], want{ID: "access-engineering", Name: "Access Engineering",
		BaseURL: "https://c5sushi.mpsinsight.com/c5sushi/services", Release: "5",
		Requires: []string{"customer_id", "api_key"}, Note: "api_key: Information at https://c5sushiapi.mpsinsight.com/assets/sushi_api_key_help.pdf"})
	for _, n := range []string{"provider: McGraw Hill Education", "customer_id: account_code", "requestor_id: account_name"} {
		if !slices.Contains(res.Proposals[1].Notes, n) {
			t.Errorf("notes %q lack %q", res.Proposals[1].Notes, n)
		}
	}

	// The sushi-service record alone proposes the same service, named by its host.
	res, err = (&Importer{}).Import(context.Background(), svc)
	if err != nil {
		t.Fatal(err)
	}
	checkProposal(t, res.Proposals[0], want{ID: "c5sushi-mpsinsight-com", BaseURL: "https://c5sushi.mpsinsight.com/c5sushi/services", Release: "5", Requires: []string{"customer_id", "api_key"}})
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if os.IsNotExist(err) && os.Getenv("BIBSTAT_REQUIRE_SAMPLES") == "" {
		t.Skipf("the shared COUNTER samples are not at %s (set BIBSTAT_REQUIRE_SAMPLES to make this a failure)", samples)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewrite sends every request to one server, keeping its path and query.
type rewrite struct {
	to   *url.URL
	next http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, ""
	return r.next.RoundTrip(req)
}

func TestFetcher(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 101)))
		case "/ok":
			w.Write([]byte("{}"))
		default:
			http.Error(w, "<html>gone</html>", http.StatusGone)
		}
	}))
	defer srv.Close()
	f := &Fetcher{Client: srv.Client(), MaxBytes: 100}
	if b, err := f.Get(context.Background(), srv.URL+"/ok"); err != nil || string(b) != "{}" {
		t.Errorf("ok: %q, %v", b, err)
	}
	if _, err := f.Get(context.Background(), srv.URL+"/big"); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL+"/big") {
		t.Errorf("big: %v, want ErrTooLarge naming the URL", err)
	}
	u := strings.Replace(srv.URL, "http://", "http://user:hemmelig@", 1) + "/gone"
	_, err := f.Get(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "410") || !strings.Contains(err.Error(), "/gone") || strings.Contains(err.Error(), "hemmelig") {
		t.Errorf("gone: %v, want HTTP 410 naming the URL without its password", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Get(ctx, srv.URL+"/ok"); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "/ok") {
		t.Errorf("cancelled: %v", err)
	}
}
