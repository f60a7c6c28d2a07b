package server

// The security suite: each test reproduces a hole a probe of the portal
// found (issue 16) against a real server on a loopback listener, through
// a real HTTP client, and shows it closed. The secret-echoing vendor is
// ingest/sushi's TestEchoedSecretsStayOut.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// live is a portal serving on a loopback listener.
type live struct {
	base   string
	srv    *Server
	cfg    Config
	dir    string
	logs   *lockedBuffer
	tokens map[string]string
}

// startLive runs the portal of portalConfig, changed by edit, on a real
// listener until the test ends; oslo and fylke03 get SUSHI tokens.
func startLive(t *testing.T, edit func(*Config)) *live {
	t.Helper()
	cfg, dir := portalConfig(t, nil, fakeGeo{})
	l := &live{dir: dir, logs: &lockedBuffer{}, tokens: map[string]string{}}
	for _, name := range []string{"oslo", "fylke03"} {
		tok, err := cfg.Users.NewToken(name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		l.tokens[name] = tok
	}
	cfg.Log = slog.New(slog.NewTextHandler(l.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// A frozen clock: lockouts last until the test is done, however slow the machine.
	frozen := time.Now()
	cfg.Now = func() time.Time { return frozen }
	if edit != nil {
		edit(&cfg)
	}
	l.cfg = cfg
	l.serve(t)
	return l
}

// serve starts (or, after a restart, starts again) the server of l.cfg.
func (l *live) serve(t *testing.T) context.CancelFunc {
	t.Helper()
	srv, err := New(l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(stop) })
	l.srv, l.base = srv, "http://"+ln.Addr().String()
	return func() { once.Do(stop) }
}

// do sends one request; header pairs are added as given.
func (l *live) do(t *testing.T, method, path string, form url.Values, c *http.Cookie, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, l.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c != nil {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (l *live) login(t *testing.T, user, password string, header ...string) (int, *http.Cookie) {
	t.Helper()
	resp, _ := l.do(t, "POST", "/login", url.Values{"user": {user}, "password": {password}}, nil, header...)
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return resp.StatusCode, c
		}
	}
	return resp.StatusCode, nil
}

// TestSecurityMethodFlood: invented methods no longer make label values;
// /metrics is not public, and is served to an admin session, the bearer
// token and the internal listener.
func TestSecurityMethodFlood(t *testing.T) {
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsLn.Close() // Run reopens it; a race for the port is harmless on loopback in a test
	l := startLive(t, func(c *Config) { c.MetricsToken = "scrape-token-123" })
	for i := range 300 {
		method := fmt.Sprintf("X%d%s", i, strings.Repeat("Y", 2000))
		req, _ := http.NewRequest(method, l.base+[]string{"/", "/login", "/r51/reports/pr", "/metrics", "/nope/" + fmt.Sprint(i)}[i%5], nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if resp, _ := l.do(t, "GET", "/metrics", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics without a login: %d, want 403", resp.StatusCode)
	}
	if resp, _ := l.do(t, "GET", "/metrics", nil, login(t, l.base, "oslo")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics for a library user: %d, want 403", resp.StatusCode)
	}
	if resp, _ := l.do(t, "GET", "/metrics", nil, nil, "Authorization", "Bearer wrong"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics with a wrong token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := l.do(t, "GET", "/metrics", nil, nil, "Authorization", "Bearer scrape-token-123"); resp.StatusCode != 200 {
		t.Errorf("/metrics with the token: %d, want 200", resp.StatusCode)
	}
	resp, body := l.do(t, "GET", "/metrics", nil, login(t, l.base, "admin"))
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics for the admin: %d", resp.StatusCode)
	}
	methods := map[string]bool{}
	for _, m := range regexp.MustCompile(`bibstat_http_request_duration_seconds_count\{[^}]*method="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		methods[m[1]] = true
	}
	for m := range methods {
		switch m {
		case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other":
		default:
			t.Errorf("method label %.40q outside the closed set", m)
		}
	}
	if !methods["other"] || len(body) > 256<<10 {
		t.Errorf("/metrics is %d bytes with methods %v; want the flood under \"other\" and a small page", len(body), methods)
	}
	if strings.Contains(body, "/nope/") {
		t.Errorf("a raw path became a label")
	}

	// On the internal listener /metrics needs nothing, and is all it serves.
	l.cfg.MetricsAddr, l.cfg.Addr = metricsLn.Addr().String(), "127.0.0.1:0"
	srv, err := New(l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var mresp *http.Response
	for range 100 { // until Run has opened the listener
		if mresp, err = http.Get("http://" + l.cfg.MetricsAddr + "/metrics"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("metrics listener: %v", err)
	}
	mresp.Body.Close()
	if mresp.StatusCode != 200 {
		t.Errorf("internal /metrics: %d, want 200", mresp.StatusCode)
	}
	if resp, err := http.Get("http://" + l.cfg.MetricsAddr + "/login"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("the metrics listener serves /login: %d", resp.StatusCode)
		}
	}
}

// TestSecurityConcurrentLogins: 60 logins at once for one account with a
// wrong password hash at most as often as the lockout allows, since each
// reserves its failure before hashing; the rest are 429 at once.
func TestSecurityConcurrentLogins(t *testing.T) {
	l := startLive(t, nil)
	codes := parallelLogins(t, l.base, 60, func(int) string { return "oslo" })
	if codes[401] > l.srv.throttle.Free+1 || codes[401]+codes[429] != 60 {
		t.Errorf("60 parallel wrong logins: %v; want at most %d checked (401), the rest 429", codes, l.srv.throttle.Free+1)
	}
	if got := strings.Count(l.logs.String(), `msg="login failed"`); got != codes[401] {
		t.Errorf("%d failed logins logged, %d answered 401", got, codes[401])
	}
	if strings.Contains(l.logs.String(), "wrong password") {
		t.Errorf("a password reached the log")
	}
}

// parallelLogins posts n wrong logins at once, user(i) as the name, and
// counts the answers by status.
func parallelLogins(t *testing.T, base string, n int, user func(int) string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := http.PostForm(base+"/login", url.Values{"user": {user(i)}, "password": {"wrong password!"}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

// TestSecurityLoginMemory runs the portal as a child process and sends it
// 60 parallel logins for unknown users: its peak RSS (VmHWM) grows by less
// than 200 MB, as argon2id's 19 MiB runs in at most HashSlots at once.
func TestSecurityLoginMemory(t *testing.T) {
	if os.Getenv("BIBSTAT_SECURITY_CHILD") != "" {
		securityChild(t)
		return
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: VmHWM cannot be read here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestSecurityLoginMemory$")
	cmd.Env = append(os.Environ(), "BIBSTAT_SECURITY_CHILD=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	var base string
	buf := make([]byte, 4096)
	var got []byte
	for !bytes.Contains(got, []byte("\n")) {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("child: %v (%s)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if _, err := fmt.Sscanf(string(got[bytes.Index(got, []byte("LISTEN ")):]), "LISTEN %s", &base); err != nil {
		t.Fatalf("child said %q", got)
	}
	// One login first, so the baseline holds one argon2id's memory.
	if resp, err := http.PostForm(base+"/login", url.Values{"user": {"warmup"}, "password": {"x"}}); err == nil {
		resp.Body.Close()
	}
	before := vmHWM(t, cmd.Process.Pid)
	codes := parallelLogins(t, base, 60, func(i int) string { return fmt.Sprintf("nobody%d", i) })
	after := vmHWM(t, cmd.Process.Pid)
	t.Logf("VmHWM %d → %d MB; answers %v", before>>20, after>>20, codes)
	if after-before >= 200<<20 {
		t.Errorf("60 parallel logins grew the portal's peak RSS by %d MB; want < 200 MB", (after-before)>>20)
	}
	if codes[429] == 0 {
		t.Errorf("answers %v: want the excess refused with 429", codes)
	}
}

// securityChild serves a portal until stdin closes, its address on stdout.
func securityChild(t *testing.T) {
	l := startLive(t, nil)
	fmt.Printf("LISTEN %s\n", l.base)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// vmHWM is the process's peak resident set size in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	var kb int64
	fmt.Sscan(string(m[1]), &kb)
	return kb << 10
}

// TestSecurityBehindProxy: every request comes from the reverse proxy's
// address; the lockout still falls on the account (or, for unknown
// names, on the client the proxy names), never on everyone.
func TestSecurityBehindProxy(t *testing.T) {
	l := startLive(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	from := func(ip string) []string { return []string{"X-Forwarded-For", "192.0.2.99, " + ip} }
	// Four typos lock oslo, and only oslo.
	for range 6 {
		l.login(t, "oslo", "wrong password!", from("203.0.113.5")...)
	}
	if code, _ := l.login(t, "oslo", testPassword, from("203.0.113.5")...); code != 429 {
		t.Errorf("oslo after 6 typos: %d, want 429", code)
	}
	if code, c := l.login(t, "admin", testPassword, from("203.0.113.5")...); c == nil {
		t.Errorf("the admin, from the address that made oslo's typos: %d, want a login", code)
	}
	// Unknown names lock their client address, not the proxy's others.
	for i := range 6 {
		l.login(t, fmt.Sprintf("guess%d", i), "x", "Forwarded", `for="[2001:db8::7]:443";proto=https`)
	}
	if code, _ := l.login(t, "guess9", "x", "Forwarded", `for="[2001:db8::7]:443"`); code != 429 {
		t.Errorf("the guesser's next unknown name: %d, want 429", code)
	}
	if code, _ := l.login(t, "guess9", "x", from("198.51.100.7")...); code != 401 {
		t.Errorf("an unknown name from another client behind the proxy: %d, want 401", code)
	}
	// The guesser's own good login clears its own account only.
	if _, c := l.login(t, "fylke03", testPassword, "Forwarded", `for="[2001:db8::7]:443"`); c == nil {
		t.Errorf("a good login from the locked address was refused")
	}
	if code, _ := l.login(t, "guess10", "x", "Forwarded", `for="[2001:db8::7]:443"`); code != 429 {
		t.Errorf("after its own good login, the guesser's address: %d, want still 429", code)
	}

	// A stale SUSHI key of one library never throttles another's.
	members := func(user, key string) (int, string) {
		q := url.Values{"customer_id": {"NO-" + map[string]string{"oslo": "2030100", "fylke03": "2080600"}[user]},
			"requestor_id": {user}, "api_key": {key}}
		resp, body := l.do(t, "GET", "/r51/members?"+q.Encode(), nil, nil, from("203.0.113.5")...)
		return resp.StatusCode, body
	}
	for range 10 {
		members("oslo", "bst_0011223344556677_stale")
	}
	if code, body := members("oslo", l.tokens["oslo"]); !strings.Contains(body, "1020") {
		t.Errorf("oslo's own valid key after ten stale ones: %d %s; want 1020 while locked", code, body)
	}
	if code, body := members("fylke03", l.tokens["fylke03"]); code != 200 {
		t.Errorf("another requestor's valid token behind the same proxy: %d %s; want 200", code, body)
	}
}

// TestSecurityForwardedNotTrusted: without a trusted proxy the headers are
// the client's own words and change nothing.
func TestSecurityForwardedNotTrusted(t *testing.T) {
	l := startLive(t, nil)
	for i := range 6 {
		l.login(t, fmt.Sprintf("guess%d", i), "x", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
	}
	if code, _ := l.login(t, "guess9", "x", "X-Forwarded-For", "198.51.100.200"); code != 429 {
		t.Errorf("a spoofed X-Forwarded-For escaped the lockout: %d, want 429", code)
	}
}

// TestSecurityRequestorOracle: an unknown requestor_id and a known one
// with a wrong key get the same answer in the same time; the tolerance
// comes from the run itself (the spread of its own timings).
func TestSecurityRequestorOracle(t *testing.T) {
	l := startLive(t, nil)
	l.srv.throttle.mu.Lock()
	l.srv.throttle.Free = 1 << 20 // measure the check, not the lockout
	l.srv.throttle.mu.Unlock()
	tokenID := strings.Split(l.tokens["oslo"], "_")[1]
	cases := map[string]url.Values{
		"unknown requestor":                       {"requestor_id": {"nobody"}, "api_key": {"bst_0011223344556677_wrong"}},
		"known, wrong key":                        {"requestor_id": {"oslo"}, "api_key": {"bst_0011223344556677_wrong"}},
		"known, its token id with a wrong secret": {"requestor_id": {"oslo"}, "api_key": {"bst_" + tokenID + "_wrong"}},
	}
	bodies := map[string]string{}
	times := map[string][]time.Duration{}
	for range 15 {
		for name, q := range cases {
			q.Set("customer_id", "NO-2030100")
			start := time.Now()
			resp, body := l.do(t, "GET", "/r51/members?"+q.Encode(), nil, nil)
			times[name] = append(times[name], time.Since(start))
			if resp.StatusCode != 401 {
				t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff on a SUSHI answer", name)
			}
			bodies[name] = body
		}
	}
	for name, b := range bodies {
		if b != bodies["unknown requestor"] {
			t.Errorf("%s answers %s; the unknown requestor %s", name, b, bodies["unknown requestor"])
		}
	}
	// Medians within half the slowest median of each other: a check that
	// skipped the hash for one of them would be many times faster.
	var slowest time.Duration
	med := map[string]time.Duration{}
	for name, d := range times {
		med[name] = median(d)
		slowest = max(slowest, med[name])
	}
	for name, m := range med {
		if slowest-m > slowest/2 {
			t.Errorf("%s takes %v, the slowest case %v: timing tells them apart (all %v)", name, m, slowest, med)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s { // insertion sort: 15 values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// TestSecurityPlantedSymlink: a symlink inside the site is only as
// readable as its target: library A cannot read B's page through it.
func TestSecurityPlantedSymlink(t *testing.T) {
	l := startLive(t, nil)
	site := l.cfg.SiteDir
	for name, target := range map[string]string{
		"assets/x.html":              "../bibliotek/3060201.html",
		"assets/mine.html":           "../bibliotek/2030100.html",
		"bibliotek/2030100-bruk.tsv": "3060201-bruk.xlsx",
	} {
		if err := os.Symlink(target, filepath.Join(site, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	oslo := login(t, l.base, "oslo")
	for path, want := range map[string]int{"/assets/x.html": 404, "/bibliotek/2030100-bruk.tsv": 404, "/assets/mine.html": 200,
		"/bibliotek/2030100.html": 200, "/assets/evil.js": 404} {
		resp, body := l.do(t, "GET", path, nil, oslo)
		if resp.StatusCode != want {
			t.Errorf("oslo %s: %d, want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(body, "3060201") || strings.Contains(body, "RAW-ARCHIVE") {
			t.Errorf("oslo %s: served another's file: %s", path, body)
		}
	}
}

// TestSecuritySessionsSurviveRestart: a session outlives a restart, the
// file holds only hashes of ids (mode 0600), and a password reset or a
// revocation ends it.
func TestSecuritySessionsSurviveRestart(t *testing.T) {
	l := startLive(t, nil)
	stop := l.serve(t)
	c := login(t, l.base, "oslo")
	stop()
	l.serve(t)
	if resp, _ := l.do(t, "GET", "/bibliotek/2030100.html", nil, c); resp.StatusCode != 200 {
		t.Errorf("after a restart: %d, want the session to hold", resp.StatusCode)
	}
	path := filepath.Join(l.dir, "sessions.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(c.Value)) || !bytes.Contains(b, []byte(idHash(c.Value))) {
		t.Errorf("the sessions file must hold the id's hash, not the id:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("sessions file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := l.cfg.Users.SetPassword("oslo", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := l.do(t, "GET", "/bibliotek/2030100.html", nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after a password reset: %d, want the session gone (303 to /login)", resp.StatusCode)
	}
	c = login(t, l.base, "fylke03")
	if err := l.cfg.Users.Revoke("fylke03", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.cfg.Users.Add(User{Name: "fylke03", Role: RoleAdmin}, testPassword, time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := l.do(t, "GET", "/index.html", nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a revoked account's session on the new account of its name: %d, want it gone", resp.StatusCode)
	}
}
