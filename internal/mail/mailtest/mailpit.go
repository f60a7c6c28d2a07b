// Package mailtest runs a real SMTP server for tests: mailpit on loopback,
// found on PATH or in $(go env GOPATH)/bin (.ci/install-mailpit installs
// it), and reads what it received back through its HTTP API. Without
// mailpit the test is skipped, or fails when BIBSTAT_REQUIRE_SMTP=1.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/testtool"
)

// Mailpit is a running mailpit.
type Mailpit struct {
	Host     string // 127.0.0.1
	SMTPPort int
	// TLS trusts the server's self-signed certificate, for STARTTLS.
	TLS *tls.Config

	api    string
	cmd    *exec.Cmd
	exited chan struct{}
	once   sync.Once
}

// Options choose how the server is started.
type Options struct {
	// StartTLS offers STARTTLS with a fresh self-signed certificate and
	// refuses mail without it; AUTH is then accepted for any user.
	StartTLS bool
}

// Start runs mailpit until the test ends.
func Start(t testing.TB, o Options) *Mailpit {
	t.Helper()
	bin := binary(t)
	var lastErr error
	for range 3 { // a free port may be taken before mailpit binds it
		m, err := tryStart(t, bin, o)
		if err == nil {
			return m
		}
		lastErr = err
	}
	t.Fatalf("starting mailpit: %v", lastErr)
	return nil
}

func binary(t testing.TB) string {
	t.Helper()
	return testtool.Binary(t, "mailpit", ".ci/install-mailpit", "BIBSTAT_REQUIRE_SMTP")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tryStart(t testing.TB, bin string, o Options) (*Mailpit, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	m := &Mailpit{Host: "127.0.0.1", SMTPPort: smtpPort, api: "http://127.0.0.1:" + strconv.Itoa(httpPort), exited: make(chan struct{})}
	args := []string{"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort), "--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns", "--quiet"}
	if o.StartTLS {
		cert, key, pool, err := selfSigned(dir)
		if err != nil {
			return nil, err
		}
		m.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-accept-any")
	}
	var out bytes.Buffer
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = &out, &out
	for _, kv := range os.Environ() { // the runner's own mailpit settings stay out
		if !strings.HasPrefix(kv, "MP_") {
			m.cmd.Env = append(m.cmd.Env, kv)
		}
	}
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.stop)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			return nil, fmt.Errorf("mailpit exited: %s", out.String())
		default:
		}
		if resp, err := client.Get(m.api + "/readyz"); err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(m.Host, strconv.Itoa(smtpPort)), time.Second); err == nil && resp.StatusCode == 200 {
				c.Close()
				return m, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.stop()
	return nil, fmt.Errorf("mailpit did not answer within 30s: %s", out.String())
}

func (m *Mailpit) stop() {
	m.once.Do(func() {
		m.cmd.Process.Kill()
		<-m.exited
	})
}

// Message is one received message as mailpit read it.
type Message struct {
	ID      string
	Subject string
	From    string
	To      []string
	Headers map[string][]string
	Text    string
	HTML    string
	Raw     string
}

// Messages returns every message received, oldest first.
func (m *Mailpit) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	m.getJSON(t, "/api/v1/messages?limit=500", &list)
	out := make([]Message, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		id := list.Messages[i].ID
		var msg struct {
			Subject string
			From    struct{ Address string }
			To      []struct{ Address string }
			Text    string
			HTML    string
		}
		m.getJSON(t, "/api/v1/message/"+id, &msg)
		got := Message{ID: id, Subject: msg.Subject, From: msg.From.Address, Text: msg.Text, HTML: msg.HTML}
		for _, a := range msg.To {
			got.To = append(got.To, a.Address)
		}
		m.getJSON(t, "/api/v1/message/"+id+"/headers", &got.Headers)
		got.Raw = string(m.get(t, "/api/v1/message/"+id+"/raw"))
		out = append(out, got)
	}
	return out
}

// Clear deletes every message received so far.
func (m *Mailpit) Clear(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, m.api+"/api/v1/messages", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func (m *Mailpit) get(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("mailpit %s: %d %v %s", path, resp.StatusCode, err, b)
	}
	return b
}

func (m *Mailpit) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(m.get(t, path), v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool, nil
}
