package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/store/storetest"
	"github.com/bibliotek24/bibstat/internal/testtool"
)

// Credentials of the throwaway versitygw root account.
const (
	vgwAccess = "bibstat-test-access"
	vgwSecret = "bibstat-test-secret-9f3Kq2LmXw"
)

// TestS3 runs the acceptance suite against a real S3 server: versitygw
// with a posix backend in a temporary directory, on a loopback port.
func TestS3(t *testing.T) {
	gw := startVersitygw(t)
	ctx := context.Background()

	t.Run("BucketPerTest", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return gw.store(t, store.S3Config{Bucket: gw.newBucket(t)})
		})
	})

	t.Run("PrefixPerTest", func(t *testing.T) {
		bucket := gw.newBucket(t)
		// Objects beside the store's prefixes that no List may show.
		for _, k := range []string{"decoy/raw/a/1", "tenant/1x/raw/a/1", "tenantraw/a/1"} {
			gw.rawPut(t, bucket, k, "decoy")
		}
		var n atomic.Int64
		storetest.Run(t, func(t *testing.T) store.Store {
			return gw.store(t, store.S3Config{Bucket: bucket, Prefix: fmt.Sprintf("tenant/%d/", n.Add(1))})
		})
	})

	t.Run("Multipart", func(t *testing.T) {
		s := gw.store(t, store.S3Config{Bucket: gw.newBucket(t), PartSize: 5 << 20})
		data := storetest.RandomBytes(t, 11<<20+3) // three parts, the last a short one
		for name, r := range map[string]func() io.Reader{
			"seekable":     func() io.Reader { return bytes.NewReader(data) },
			"non-seekable": func() io.Reader { return io.MultiReader(bytes.NewReader(data)) },
		} {
			key := "multi/" + strings.ReplaceAll(name, "-", "")
			if err := s.Put(ctx, key, r()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := store.ReadAll(ctx, s, key, 1<<30)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s: got %d bytes back, want the %d put", name, len(got), len(data))
			}
		}
	})

	t.Run("NonSeekableBodies", func(t *testing.T) {
		s := gw.store(t, store.S3Config{Bucket: gw.newBucket(t)})
		// Below and above the in-memory buffer, to exercise the temp-file spool.
		for _, size := range []int{0, 10, 1 << 20, 1<<20 + 1, 4<<20 + 5} {
			data := storetest.RandomBytes(t, size)
			pr, pw := io.Pipe()
			go func() { _, err := pw.Write(data); pw.CloseWithError(err) }()
			key := fmt.Sprintf("pipe/%d", size)
			if err := s.Put(ctx, key, pr); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			got, err := store.ReadAll(ctx, s, key, 1<<30)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: got %d bytes, err %v", size, len(got), err)
			}
		}
	})

	t.Run("ReaderNotAtStart", func(t *testing.T) {
		s := gw.store(t, store.S3Config{Bucket: gw.newBucket(t)})
		r := strings.NewReader("skip:keep")
		if _, err := r.Seek(5, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "part", r); err != nil {
			t.Fatal(err)
		}
		got, err := store.ReadAll(ctx, s, "part", 100)
		if err != nil || string(got) != "keep" {
			t.Fatalf("got %q, %v; want %q", got, err, "keep")
		}
	})

	t.Run("ListSkipsForeignObjects", func(t *testing.T) {
		bucket := gw.newBucket(t)
		s := gw.store(t, store.S3Config{Bucket: bucket, Prefix: "p"})
		gw.rawPut(t, bucket, "p/dir/", "")     // a "folder" marker some consoles create
		gw.rawPut(t, bucket, "p/dir/ok", "ok") // a valid key put by another client
		got, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != "dir/ok" {
			t.Fatalf("List = %q, want [dir/ok]", got)
		}
	})

	t.Run("Check", func(t *testing.T) {
		if err := gw.store(t, store.S3Config{Bucket: gw.newBucket(t)}).Check(ctx); err != nil {
			t.Fatal(err)
		}
		err := gw.store(t, store.S3Config{Bucket: "no-such-bucket"}).Check(ctx)
		if err == nil || errors.Is(err, bibstat.ErrStoreUnavailable) {
			t.Fatalf("Check of a missing bucket: %v", err)
		}
	})

	t.Run("MissingBucketIsNotMissingKey", func(t *testing.T) {
		s := gw.store(t, store.S3Config{Bucket: "no-such-bucket"})
		if _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, bibstat.ErrNotFound) {
			t.Fatalf("Get from a missing bucket: err = %v, want an error other than ErrNotFound", err)
		}
	})

	t.Run("BadCredentialsStayOutOfErrors", func(t *testing.T) {
		bucket := gw.newBucket(t)
		const wrongSecret = "wrong-secret-Hx7Pz0QvN4"
		const wrongAccess = "wrong-access-key-5Tg8"
		for _, c := range []struct{ access, secret string }{
			{vgwAccess, wrongSecret},
			{wrongAccess, wrongSecret},
		} {
			s, err := store.NewS3(ctx, store.S3Config{
				Endpoint: gw.endpoint, Region: "us-east-1", Bucket: bucket, PathStyle: true,
				AccessKeyID: c.access, SecretAccessKey: c.secret,
			})
			if err != nil {
				t.Fatal(err)
			}
			errs := map[string]error{"Put": s.Put(ctx, "k", strings.NewReader("x"))}
			_, errs["Get"] = s.Get(ctx, "k")
			_, errs["List"] = s.List(ctx, "")
			errs["Delete"] = s.Delete(ctx, "k")
			for op, err := range errs {
				if err == nil {
					t.Errorf("%s with access key %q and a wrong secret succeeded", op, c.access)
					continue
				}
				for _, secret := range []string{c.secret, vgwSecret, wrongAccess} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s error shows a secret: %v", op, err)
					}
				}
				if errors.Is(err, bibstat.ErrNotFound) || errors.Is(err, bibstat.ErrStoreUnavailable) {
					t.Errorf("%s: a refused request is neither missing nor unavailable: %v", op, err)
				}
			}
		}
	})
}

// TestS3ServerGoesAway stops the server under a working store: operations
// must then fail promptly with bibstat.ErrStoreUnavailable.
func TestS3ServerGoesAway(t *testing.T) {
	gw := startVersitygw(t)
	ctx := context.Background()
	s := gw.store(t, store.S3Config{Bucket: gw.newBucket(t)})
	if err := s.Put(ctx, "before", bytes.NewReader(storetest.RandomBytes(t, 64<<20))); err != nil {
		t.Fatal(err)
	}
	// A read in progress when the server dies; far more than the socket buffers hold.
	body, err := s.Get(ctx, "before")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	gw.stop()

	start := time.Now()
	err = s.Put(ctx, "after", strings.NewReader("x"))
	elapsed := time.Since(start)
	t.Logf("Put failed after %v: %v", elapsed.Round(time.Millisecond), err)
	if !errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Fatalf("Put after the server stopped: err = %v, want ErrStoreUnavailable", err)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("Put took %v to fail", elapsed)
	}
	if _, err := s.Get(ctx, "before"); !errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Fatalf("Get after the server stopped: err = %v, want ErrStoreUnavailable", err)
	}
	n, err := io.Copy(io.Discard, body)
	t.Logf("the interrupted read got %d more bytes, then: %v", n, err)
	if !errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Fatalf("reading an object while the server stopped: err = %v, want ErrStoreUnavailable", err)
	}
}

// TestS3Unreachable points a store at a closed loopback port; it needs no
// server.
func TestS3Unreachable(t *testing.T) {
	ctx := context.Background()
	s, err := store.NewS3(ctx, store.S3Config{
		Endpoint: "http://" + closedPort(t), Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKeyID: vgwAccess, SecretAccessKey: vgwSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each operation retries for a few seconds; run them side by side.
	ops := s3Ops(ctx, s)
	start := time.Now()
	errs := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for op, f := range ops {
		wg.Go(func() {
			err := f()
			mu.Lock()
			errs[op] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d operations failed in %v", len(errs), elapsed.Round(time.Millisecond))
	for op, err := range errs {
		if !errors.Is(err, bibstat.ErrStoreUnavailable) {
			t.Errorf("%s: err = %v, want ErrStoreUnavailable", op, err)
		} else if strings.Contains(err.Error(), vgwSecret) {
			t.Errorf("%s error shows the secret: %v", op, err)
		}
	}
	if elapsed > 10*time.Second {
		t.Errorf("the operations took %v to fail", elapsed)
	}

	// A cancelled caller is not an unavailable store.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cctx, "k", strings.NewReader("x")); !errors.Is(err, context.Canceled) || errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Errorf("Put with a cancelled context: err = %v, want context.Canceled only", err)
	}
	if _, err := s.Get(cctx, "k"); !errors.Is(err, context.Canceled) || errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Errorf("Get with a cancelled context: err = %v, want context.Canceled only", err)
	}
}

// TestS3NoCredentials: with no credentials anywhere, operations fail as a
// configuration error, not as an unavailable store, even though the
// instance metadata endpoint the chain tries last cannot be reached.
func TestS3NoCredentials(t *testing.T) {
	ctx := context.Background()
	closed := closedPort(t)
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+closed)

	s, err := store.NewS3(ctx, store.S3Config{Endpoint: "http://" + closed, Region: "us-east-1", Bucket: "b", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctx, "k", strings.NewReader("x"))
	if err == nil || errors.Is(err, bibstat.ErrStoreUnavailable) {
		t.Fatalf("Put without credentials: err = %v, want an error other than ErrStoreUnavailable", err)
	}
	t.Logf("Put without credentials: %v", err)
}

func TestS3ConfigErrors(t *testing.T) {
	ctx := context.Background()
	const secret = "config-secret-Wq3Zr8"
	for name, cfg := range map[string]store.S3Config{
		"no bucket":           {Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: secret},
		"secret without key":  {Bucket: "b", SecretAccessKey: secret},
		"key without secret":  {Bucket: "b", AccessKeyID: "a"},
		"endpoint not a URL":  {Bucket: "b", Endpoint: "127.0.0.1:7070", AccessKeyID: "a", SecretAccessKey: secret},
		"endpoint user info":  {Bucket: "b", Endpoint: "http://u:" + secret + "@127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: secret},
		"prefix escapes":      {Bucket: "b", Prefix: "a/../..", AccessKeyID: "a", SecretAccessKey: secret},
		"prefix has a double": {Bucket: "b", Prefix: "a//b", AccessKeyID: "a", SecretAccessKey: secret},
	} {
		_, err := store.NewS3(ctx, cfg)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

// versitygw is a running versitygw server.
type versitygw struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	buckets  atomic.Int64
}

// versitygwBinary finds versitygw on PATH, in GOBIN or in GOPATH/bin. When
// it is missing the test is skipped, or fails if BIBSTAT_REQUIRE_S3=1.
func versitygwBinary(t *testing.T) string {
	t.Helper()
	return testtool.Binary(t, "versitygw", ".ci/install-versitygw", "BIBSTAT_REQUIRE_S3")
}

// startVersitygw starts versitygw with a posix backend in a temporary
// directory on a free loopback port, waits until it answers, and stops it
// when the test ends.
func startVersitygw(t *testing.T) *versitygw {
	t.Helper()
	bin := versitygwBinary(t)
	var lastErr error
	for range 3 { // the free port may be taken before versitygw binds it
		gw, err := tryStartVersitygw(t, bin)
		if err == nil {
			return gw
		}
		lastErr = err
	}
	t.Fatalf("starting versitygw: %v", lastErr)
	return nil
}

func tryStartVersitygw(t *testing.T, bin string) (*versitygw, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--access", vgwAccess, "--secret", vgwSecret, "--port", addr, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	// Keep the runner's own versitygw settings out of the test server.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	gw := &versitygw{endpoint: "http://" + addr, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(gw.exited) }()
	t.Cleanup(gw.stop)

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-gw.exited:
			return nil, fmt.Errorf("versitygw exited: %s", out.String())
		default:
		}
		if resp, err := client.Get(gw.endpoint + "/"); err == nil {
			resp.Body.Close()
			return gw, nil // any HTTP answer, even 403, means it is serving
		}
		time.Sleep(50 * time.Millisecond)
	}
	gw.stop()
	return nil, fmt.Errorf("versitygw did not answer on %s within 30s", addr)
}

// stop kills the server and waits for it to exit.
func (gw *versitygw) stop() {
	gw.stopOnce.Do(func() {
		gw.cmd.Process.Kill()
		<-gw.exited
	})
}

func (gw *versitygw) client(t *testing.T) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(gw.endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(vgwAccess, vgwSecret, ""),
	})
}

// newBucket creates an empty bucket with a fresh name.
func (gw *versitygw) newBucket(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("bibstat-test-%d", gw.buckets.Add(1))
	if _, err := gw.client(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// rawPut writes an object directly, bypassing the store.
func (gw *versitygw) rawPut(t *testing.T, bucket, key, body string) {
	t.Helper()
	_, err := gw.client(t).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// store returns an S3 store on gw; cfg gives the bucket and any prefix.
func (gw *versitygw) store(t *testing.T, cfg store.S3Config) *store.S3 {
	t.Helper()
	cfg.Endpoint, cfg.Region, cfg.PathStyle = gw.endpoint, "us-east-1", true
	cfg.AccessKeyID, cfg.SecretAccessKey = vgwAccess, vgwSecret
	s, err := store.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// closedPort returns a loopback address that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
