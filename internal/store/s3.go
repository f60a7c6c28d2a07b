package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"

	"github.com/bibliotek24/bibstat"
)

// Limits and timeouts of the S3 store. They bound how long an operation
// against a server that is down or unreachable can take: a refused
// connection fails at once, a silent host after dialTimeout, and the whole
// operation after at most maxAttempts tries with jittered exponential
// backoffs from baseBackoff up to maxBackoff in between (at most 3s in all
// for a refused connection), and never after more than S3Config.Timeout
// (a server that takes connections and never answers).
const (
	// DefaultS3PartSize is the size above which Put uploads in parts.
	DefaultS3PartSize = 64 << 20
	minPartSize       = 5 << 20 // S3's minimum for every part but the last
	maxPartSize       = 5 << 30 // S3's maximum for a part and for a single PutObject
	maxParts          = 10000   // S3's maximum number of parts

	// spoolInMemory is how much of a non-seekable body Put buffers in memory
	// before it spills to a temporary file.
	spoolInMemory = 1 << 20

	maxAttempts         = 5
	baseBackoff         = 200 * time.Millisecond
	maxBackoff          = 2 * time.Second
	dialTimeout         = 5 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	// responseHeaderTimeout ends one attempt at a server that took the
	// request and says nothing; the operation's own deadline (S3Config.Timeout)
	// ends them all.
	responseHeaderTimeout = 10 * time.Second
	abortTimeout          = 30 * time.Second
)

// S3Config configures an S3 store. Only Bucket is required.
type S3Config struct {
	// Endpoint is the server's base URL, e.g. "http://127.0.0.1:7070";
	// empty means AWS (or AWS_ENDPOINT_URL) for Region.
	Endpoint string
	// Region signs the requests; empty means the AWS configuration's region,
	// or "us-east-1" if it has none.
	Region string
	// Bucket holds the objects.
	Bucket string
	// Prefix is an optional key prefix, e.g. "bibstat"; the store's keys live
	// under Prefix + "/" and List strips it again.
	Prefix string
	// PathStyle addresses the bucket as a path (http://host/bucket/key)
	// rather than a host name; most S3-compatible servers need it.
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials; when both are
	// empty the standard AWS credential chain is used (environment, shared
	// files, web identity, instance roles). They never appear in errors.
	AccessKeyID     string
	SecretAccessKey string
	// PartSize is the size above which Put uploads in parts of this size;
	// 0 means DefaultS3PartSize. It is clamped to S3's limits (5 MiB–5 GiB).
	PartSize int64
	// Timeout is how long one operation waits for the server, retries
	// included, before the store is taken for unavailable: a server that
	// accepts connections and never answers must stop a harvest in
	// seconds, not minutes. Uploads get a second more per MiB; a download
	// may stall this long between reads. 0 means DefaultS3Timeout.
	Timeout time.Duration
}

// S3 stores objects in an S3 bucket, under an optional prefix. Put is
// atomic: S3 shows an object only once PutObject or CompleteMultipartUpload
// has succeeded. Errors from a server that cannot be reached wrap
// bibstat.ErrStoreUnavailable. An S3 is safe for concurrent use.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ends in "/"
	partSize int64
	timeout  time.Duration
	secrets  []string // redacted from every error message
}

var _ Store = (*S3)(nil)

// NewS3 returns a store for cfg. It does not contact the server; use Check
// for that.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	prefix, err := checkS3Config(cfg)
	if err != nil {
		return nil, err
	}
	opts := awsOptions()
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	var secrets []string
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
		secrets = append(secrets, cfg.SecretAccessKey)
		if len(cfg.AccessKeyID) >= 8 { // a short one would mangle ordinary words
			secrets = append(secrets, cfg.AccessKeyID)
		}
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, redact(fmt.Errorf("s3 store config: %w", err), secrets)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	if awsCfg.Credentials != nil {
		awsCfg.Credentials = markCredentialErrors{awsCfg.Credentials}
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})

	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultS3PartSize
	}
	partSize = min(max(partSize, minPartSize), maxPartSize)
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultS3Timeout
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: prefix, partSize: partSize, timeout: timeout, secrets: secrets}, nil
}

// checkS3Config checks cfg and returns its prefix as keys take it: no
// leading slash, one trailing.
func checkS3Config(cfg S3Config) (string, error) {
	if cfg.Bucket == "" {
		return "", errors.New("s3 store: no bucket")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := bibstat.CheckKey(prefix); err != nil {
			return "", fmt.Errorf("s3 store prefix: %w", err)
		}
		prefix += "/"
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			// The endpoint itself stays out of the message: it might carry user info.
			return "", errors.New("s3 store: endpoint must be an http or https URL without user info")
		}
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return "", errors.New("s3 store: set both AccessKeyID and SecretAccessKey, or neither")
	}
	return prefix, nil
}

// awsOptions are the SDK settings every S3 store uses: timeouts that let
// large uploads run, a fixed retry budget, no SDK logging, checksums only
// where S3 requires them.
func awsOptions() []func(*config.LoadOptions) error {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = tlsHandshakeTimeout
			// Counted from the end of the request body, so large uploads are not cut short.
			tr.ResponseHeaderTimeout = responseHeaderTimeout
		}).
		WithReadTimeout(0) // an inactivity timeout would also fire during long uploads
	return []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.BaseDelay = baseBackoff
				o.MaxBackoff = maxBackoff
				// No client-side retry quota: each operation gets its attempts,
				// however many failed before, so failures stay predictable.
				o.RateLimiter = ratelimit.None
			})
		}),
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
		// Checksums only where S3 requires them: many S3-compatible servers
		// reject the newer default trailing checksums.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
}

// String names the store in logs, e.g. "s3://bucket/prefix/".
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Check asks the server whether the bucket exists and is accessible.
func (s *S3) Check(ctx context.Context) error {
	ctx, cancel := s.deadline(ctx, 0)
	defer cancel()
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		return s.fail(ctx, "check", s.bucket, err)
	}
	return nil
}

func (s *S3) objectKey(key string) (string, error) {
	if err := bibstat.CheckKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Put stores r under key with PutObject, or with a multipart upload when
// the body is larger than the part size. The SDK signs and retries only
// seekable bodies, so a reader that cannot seek is first buffered, in
// memory when small and in a temporary file otherwise.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	src, size, cleanup, err := seekable(ctx, r)
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	defer cleanup()
	if size > s.partSize {
		return s.putMultipart(ctx, key, k, src, size)
	}
	ctx, cancel := s.deadline(ctx, size)
	defer cancel()
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          io.NewSectionReader(src, 0, size),
		ContentLength: aws.Int64(size),
	})
	if err != nil {
		return s.fail(ctx, "put", key, err)
	}
	return nil
}

// putMultipart uploads src in parts; the object appears only when the
// upload completes, and a failed upload is aborted.
func (s *S3) putMultipart(ctx context.Context, key, k string, src io.ReaderAt, size int64) (err error) {
	partSize := max(s.partSize, (size+maxParts-1)/maxParts)
	cctx, cancel := s.deadline(ctx, 0)
	up, err := s.client.CreateMultipartUpload(cctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil {
		err = s.fail(cctx, "put", key, err)
		cancel()
		return err
	}
	cancel()
	defer func() {
		if err == nil {
			return
		}
		// Abort even when ctx is done, so the parts do not linger on the server.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.bucket),
			Key:      aws.String(k),
			UploadId: up.UploadId,
		})
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+partSize {
		length := min(partSize, size-off)
		pctx, cancel := s.deadline(ctx, length)
		out, err := s.client.UploadPart(pctx, &s3.UploadPartInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(k),
			UploadId:      up.UploadId,
			PartNumber:    aws.Int32(n),
			Body:          io.NewSectionReader(src, off, length),
			ContentLength: aws.Int64(length),
		})
		if err != nil {
			err = s.fail(pctx, "put", key, err)
			cancel()
			return err
		}
		cancel()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	// Completing assembles the parts server-side, which takes longer the larger the object.
	fctx, cancel := s.deadline(ctx, size)
	defer cancel()
	_, err = s.client.CompleteMultipartUpload(fctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(k),
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return s.fail(fctx, "put", key, err)
	}
	return nil
}

// seekable returns the rest of r as a ReaderAt of known size. A reader that
// can already seek and read at offsets (bytes.Reader, a regular file) is used
// in place and left at its end; any other is read to the end into memory or,
// past spoolInMemory bytes, into a temporary file that cleanup removes.
func seekable(ctx context.Context, r io.Reader) (src io.ReaderAt, size int64, cleanup func(), err error) {
	noop := func() {}
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		if cur, err := ra.Seek(0, io.SeekCurrent); err == nil {
			if end, err := ra.Seek(0, io.SeekEnd); err == nil && end >= cur {
				return io.NewSectionReader(ra, cur, end-cur), end - cur, noop, nil
			}
			_, _ = ra.Seek(cur, io.SeekStart)
		}
		// Not really seekable (a pipe, say): read it like any other reader.
	}
	cr := ctxReader{ctx, r}
	buf := make([]byte, spoolInMemory)
	n, err := io.ReadFull(cr, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return bytes.NewReader(buf[:n]), int64(n), noop, nil
	}
	if err != nil {
		return nil, 0, noop, err
	}
	f, err := os.CreateTemp("", "bibstat-s3-put-*")
	if err != nil {
		return nil, 0, noop, err
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err := f.Write(buf); err != nil {
		cleanup()
		return nil, 0, noop, err
	}
	rest, err := io.Copy(f, cr)
	if err != nil {
		cleanup()
		return nil, 0, noop, err
	}
	return f, int64(n) + rest, cleanup, nil
}

// Get opens the object at key; a missing object wraps bibstat.ErrNotFound.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	ctx, stalled := s.watchdog(ctx)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil {
		if isNotFound(err) {
			stalled.close()
			return nil, fmt.Errorf("s3 get %s: %w", key, bibstat.ErrNotFound)
		}
		err = s.fail(ctx, "get", key, err)
		stalled.close()
		return nil, err
	}
	stalled.pause()
	return &s3Body{ReadCloser: out.Body, ctx: ctx, s: s, key: key, stalled: stalled}, nil
}

// List returns the keys under prefix, sorted, without the store's prefix.
// Objects whose names are not valid keys (such as "folder/" markers made by
// other tools) are left out, since Get could not open them.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	var keys []string
	for p.HasMorePages() {
		pctx, cancel := s.deadline(ctx, 0)
		page, err := p.NextPage(pctx)
		if err != nil {
			err = s.fail(pctx, "list", prefix, err)
			cancel()
			return nil, err
		}
		cancel()
		for _, o := range page.Contents {
			k, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || bibstat.CheckKey(k) != nil {
				continue
			}
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes the object at key; a missing object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	ctx, cancel := s.deadline(ctx, 0)
	defer cancel()
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil && !isNotFound(err) {
		return s.fail(ctx, "delete", key, err)
	}
	return nil
}
