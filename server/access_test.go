package server

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/bibliotek24/bibstat"
)

// fakeGeo is a fixed register: two libraries in county 03, one in 46.
type fakeGeo struct{}

var fakeLibs = []LibraryInfo{
	{ID: "2030100", Name: "Oslo bibliotek", County: "03"},
	{ID: "2080600", Name: "Nabo bibliotek", County: "03"},
	{ID: "3060201", Name: "Vestland VGS", County: "46"},
}

func (fakeGeo) County(_ context.Context, lib bibstat.LibraryID) (string, bool) {
	for _, l := range fakeLibs {
		if l.ID == lib {
			return l.County, true
		}
	}
	return "", false
}

func (fakeGeo) Libraries(context.Context) ([]LibraryInfo, error) { return fakeLibs, nil }

const testPassword = "correct horse battery"

// portalFixture is a server over a fake site, beside a fake raw archive,
// with one user of each role and a revoked one.
func portalFixture(t *testing.T, db *sql.DB, geo Geo) (*httptest.Server, *Users, string) {
	t.Helper()
	cfg, dir := portalConfig(t, db, geo)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, cfg.Users, dir
}

// portalConfig is portalFixture's server configuration and directory.
func portalConfig(t *testing.T, db *sql.DB, geo Geo) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	files := []string{
		"index.html", "nasjonalt.html", "nasjonalt-bruk.csv", "avtale/a1.html", "assets/bibstat.css",
		"fylke/03.html", "fylke/fylke-03-bruk.csv", "fylke/46.html", "fylke/fylke-46-bruk.xlsx",
		"bibliotek/2030100.html", "bibliotek/2030100-bruk.csv", "bibliotek/2030100-bruk.parquet",
		"bibliotek/2080600.html", "bibliotek/2080600-bruk.tsv", "bibliotek/3060201.html", "bibliotek/3060201-bruk.xlsx",
	}
	for _, f := range files {
		p := filepath.Join(site, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("FILE:"+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw := filepath.Join(dir, "archive", "raw", "secret.json")
	if err := os.MkdirAll(filepath.Dir(raw), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(raw, []byte("RAW-ARCHIVE"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink out of the site must not lead into the archive.
	if err := os.Symlink(raw, filepath.Join(site, "assets", "evil.js")); err != nil {
		t.Fatal(err)
	}
	users, err := OpenUsers(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, u := range []User{
		{Name: "admin", Role: RoleAdmin},
		{Name: "oslo", Role: RoleLibrary, Library: "2030100"},
		{Name: "fylke03", Role: RoleCounty, County: "03"},
		{Name: "gone", Role: RoleLibrary, Library: "2030100"},
	} {
		if _, err := users.Add(u, testPassword, now); err != nil {
			t.Fatal(err)
		}
	}
	if db == nil {
		db, err = sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	return Config{DB: db, SiteDir: site, Users: users, Geo: geo, RunLog: &RunLog{Path: filepath.Join(dir, "runs.jsonl")},
		LedgerPath: filepath.Join(dir, "ledger.jsonl")}, dir
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func login(t *testing.T, base, user string) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"user": {user}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || len(c.Value) < 43 {
				t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict, 32 random bytes", c)
			}
			return c
		}
	}
	t.Fatalf("login %s: status %d, no session cookie", user, resp.StatusCode)
	return nil
}

// get requests rawPath exactly as written (no client-side cleaning).
func get(t *testing.T, base, rawPath string, c *http.Cookie) (int, string) {
	t.Helper()
	code, body, _ := getLoc(t, base, rawPath, c)
	return code, body
}

func getLoc(t *testing.T, base, rawPath string, c *http.Cookie) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "//" + req.URL.Host + rawPath // send the path bytes untouched
	if c != nil {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

func TestAccessEveryRoleAndResource(t *testing.T) {
	ts, users, _ := portalFixture(t, nil, fakeGeo{})
	cookies := map[string]*http.Cookie{"anon": nil}
	for _, u := range []string{"admin", "oslo", "fylke03", "gone"} {
		cookies[u] = login(t, ts.URL, u)
	}
	if err := users.Revoke("gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	// allowed: the roles that get the file itself (200 and its bytes);
	// everyone else must get neither.
	type tc struct {
		path    string
		file    string // the site file a success would return
		allowed []string
	}
	all := []string{"admin", "oslo", "fylke03"}
	tests := []tc{
		{"/assets/bibstat.css", "assets/bibstat.css", all},
		{"/bibliotek/2030100.html", "bibliotek/2030100.html", all},
		{"/bibliotek/2030100-bruk.csv", "bibliotek/2030100-bruk.csv", all},
		{"/bibliotek/2030100-bruk.parquet", "bibliotek/2030100-bruk.parquet", all},
		{"/bibliotek/2080600.html", "bibliotek/2080600.html", []string{"admin", "fylke03"}}, // another library, same county
		{"/bibliotek/2080600-bruk.tsv", "bibliotek/2080600-bruk.tsv", []string{"admin", "fylke03"}},
		{"/bibliotek/3060201.html", "bibliotek/3060201.html", []string{"admin"}}, // a county the user is not in
		{"/bibliotek/3060201-bruk.xlsx", "bibliotek/3060201-bruk.xlsx", []string{"admin"}},
		{"/fylke/03.html", "fylke/03.html", []string{"admin", "fylke03"}},
		{"/fylke/fylke-03-bruk.csv", "fylke/fylke-03-bruk.csv", []string{"admin", "fylke03"}},
		{"/fylke/46.html", "fylke/46.html", []string{"admin"}},
		{"/fylke/fylke-46-bruk.xlsx", "fylke/fylke-46-bruk.xlsx", []string{"admin"}},
		{"/index.html", "index.html", []string{"admin"}},
		{"/nasjonalt.html", "nasjonalt.html", []string{"admin"}},
		{"/nasjonalt-bruk.csv", "nasjonalt-bruk.csv", []string{"admin"}},
		{"/avtale/a1.html", "avtale/a1.html", []string{"admin"}},
		// Path tricks: never served to anyone, whatever they would resolve to.
		{"/bibliotek/../index.html", "index.html", []string{"admin"}}, // cleaned by the mux to /index.html: admin only
		{"/bibliotek/2030100.html/../../index.html", "index.html", []string{"admin"}},
		{"/bibliotek/%2e%2e/index.html", "index.html", nil},
		{"/bibliotek/%2E%2E/fylke/46.html", "fylke/46.html", nil},
		{"/bibliotek%2F3060201.html", "bibliotek/3060201.html", nil},
		{"/bibliotek%2f2030100.html", "bibliotek/2030100.html", nil},
		{"/bibliotek/%252e%252e/index.html", "index.html", nil},
		{"/bibliotek/2030100%252Ehtml", "bibliotek/2030100.html", nil},
		{"/bibliotek/%5c..%5cindex.html", "index.html", nil},
		{"/bibliotek/..%5cindex.html", "index.html", nil},
		{"/bibliotek/2030100.html%00", "bibliotek/2030100.html", nil},
		{"/bibliotek/./2030100.html", "bibliotek/2030100.html", all}, // cleaned by the mux: the same file
		{"/bibliotek//3060201.html", "bibliotek/3060201.html", []string{"admin"}},
		{"/../archive/raw/secret.json", "", nil},
		{"/%2e%2e/archive/raw/secret.json", "", nil},
		{"/archive/raw/secret.json", "", nil},
		{"/assets/evil.js", "", nil}, // symlink out of the site
		{"/bibliotek/20301.html", "", nil},
		{"/bibliotek/2030100.HTML", "", nil},
		{"/users.json", "", nil},
		{"/ledger.jsonl", "", nil},
	}
	for _, tt := range tests {
		for _, role := range []string{"anon", "admin", "oslo", "fylke03", "gone"} {
			allowed := false
			for _, a := range tt.allowed {
				allowed = allowed || a == role
			}
			code, body, loc := getLoc(t, ts.URL, tt.path, cookies[role])
			if code == http.StatusMovedPermanently || code == http.StatusTemporaryRedirect {
				// the mux cleaned the path: follow once, as a browser would
				code, body, _ = getLoc(t, ts.URL, loc, cookies[role])
			}
			leaked := strings.Contains(body, "RAW-ARCHIVE") || (tt.file != "" && body == "FILE:"+tt.file)
			switch {
			case allowed && (code != http.StatusOK || body != "FILE:"+tt.file):
				t.Errorf("%s %s: status %d body %.40q, want 200 and the file", role, tt.path, code, body)
			case !allowed && (code == http.StatusOK || leaked):
				t.Errorf("%s %s: status %d body %.40q, want denied", role, tt.path, code, body)
			}
		}
	}
}

func TestUserIndexShowsOnlyOwn(t *testing.T) {
	ts, _, _ := portalFixture(t, nil, fakeGeo{})
	tests := []struct {
		user      string
		want, not []string
	}{
		{"oslo", []string{"bibliotek/2030100.html", "bibliotek/2030100-bruk.csv", "NO-2030100"}, []string{"2080600", "3060201", "fylke/", "index.html", "admin"}},
		{"fylke03", []string{"fylke/03.html", "bibliotek/2030100.html", "bibliotek/2080600.html"}, []string{"3060201", "fylke/46", "index.html"}},
		{"admin", []string{"index.html", "admin"}, nil},
	}
	for _, tt := range tests {
		code, body := get(t, ts.URL, "/", login(t, ts.URL, tt.user))
		if code != http.StatusOK {
			t.Fatalf("%s /: %d", tt.user, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s index lacks %q", tt.user, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(body, `href="`+n) || strings.Contains(body, ">"+n) || (n != "admin" && strings.Contains(body, n)) {
				t.Errorf("%s index shows %q", tt.user, n)
			}
		}
	}
	// The admin page is the admin's only.
	for user, want := range map[string]int{"admin": 200, "oslo": 403, "fylke03": 403} {
		if code, _ := get(t, ts.URL, "/admin", login(t, ts.URL, user)); code != want {
			t.Errorf("%s /admin: %d, want %d", user, code, want)
		}
	}
}

func TestLoginThrottleAndCSRF(t *testing.T) {
	ts, _, _ := portalFixture(t, nil, fakeGeo{})
	codes := []int{}
	for range 5 {
		resp, err := noRedirect.PostForm(ts.URL+"/login", url.Values{"user": {"oslo"}, "password": {"wrong password!"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 401 || codes[4] != 429 {
		t.Errorf("failed logins: %v, want 401 first and 429 once locked", codes)
	}
	// Even the right password is refused while locked.
	resp, err := noRedirect.PostForm(ts.URL+"/login", url.Values{"user": {"oslo"}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Errorf("locked login with the right password: %d, want 429", resp.StatusCode)
	}
	// A cross-site form post is refused.
	req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader("user=admin&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login post: %d, want 403", resp.StatusCode)
	}
	// Logout without the session's token is refused; with it, the session ends.
	ts, _, _ = portalFixture(t, nil, fakeGeo{}) // this address is locked out on the first server
	c := login(t, ts.URL, "admin")
	post := func(form string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/logout", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(c)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("csrf=forged"); code != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d, want 403", code)
	}
	_, body := get(t, ts.URL, "/", c)
	i := strings.Index(body, `name="csrf" value="`)
	token := body[i+len(`name="csrf" value="`):]
	token = token[:strings.Index(token, `"`)]
	if code := post("csrf=" + url.QueryEscape(token)); code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	if code, _ := get(t, ts.URL, "/index.html", c); code != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to /login", code)
	}
}
