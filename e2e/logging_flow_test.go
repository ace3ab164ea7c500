package e2e

import (
	"bufio"
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
	"github.com/ossd/ossd/osslog"
)

// logObjectName is OSS's naming: <TargetPrefix><SourceBucket>YYYY-mm-DD-HH-MM-SS-<UniqueString>.
func logObjectName(prefix, src string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(prefix+src) + `\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-Za-z]+$`)
}

// readLogLines lists the target bucket under prefix and parses every line
// of every log object.
func readLogLines(t *testing.T, c *oss.Client, target, prefix, src string) []osslog.Line {
	t.Helper()
	ctx := context.Background()
	lr, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(target), Prefix: oss.Ptr(prefix + src)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []osslog.Line
	re := logObjectName(prefix, src)
	for _, o := range lr.Contents {
		name := oss.ToString(o.Key)
		if !re.MatchString(name) {
			t.Errorf("log object %q does not match OSS naming", name)
		}
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(target), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(readAll(t, g.Body)))
		for sc.Scan() {
			l, err := osslog.Parse(sc.Text())
			if err != nil {
				t.Fatalf("log line does not parse: %v\n%s", err, sc.Text())
			}
			if n := strings.Count(sc.Text(), " "); n < 27 {
				t.Errorf("line has %d separators: %s", n, sc.Text())
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// TestLoggingFlow is OSS's documented flow with the Go SDK: enable logging
// to log/, make requests, flush, and find each request's line, field by
// field, in an object named the OSS way.
func TestLoggingFlow(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		src, dst := newBucket(t, c), newBucket(t, c)
		if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src),
			BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr("log/")}}}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		put, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("dir/a b.txt"), Body: strings.NewReader("hello")})
		if err != nil {
			t.Fatal(err)
		}
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("dir/a b.txt")})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, g.Body)
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("missing")})
		wantServiceError(t, err, "NoSuchKey", 404, "")
		_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("dir/a b.txt")})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.FlushLogs(); err != nil {
			t.Fatal(err)
		}
		lines := readLogLines(t, c, dst, "log/", src)
		byOp := map[string][]osslog.Line{}
		for _, l := range lines {
			byOp[l.Operation] = append(byOp[l.Operation], l)
			if l.Bucket != src || l.UserID != srv.AccountID || l.LoggingFlag != "true" || len(l.RequestID) != 24 {
				t.Errorf("line fields: bucket %q owner %q flag %q rid %q", l.Bucket, l.UserID, l.LoggingFlag, l.RequestID)
			}
			if l.Time.Before(start.Add(-time.Second)) || l.Time.After(time.Now().Add(time.Second)) {
				t.Errorf("line time %v outside the test", l.Time)
			}
			if _, off := l.Time.Zone(); off != 8*3600 {
				t.Errorf("time zone offset %d, want +0800", off)
			}
		}
		// The PutObject line.
		if p := byOp["PutObject"]; len(p) != 1 {
			t.Fatalf("PutObject lines = %d, want 1 (ops: %v)", len(p), keys(byOp))
		} else {
			l := p[0]
			if l.HTTPStatus != 200 || l.Key != "dir/a b.txt" || l.ObjectSize != 5 || l.DeltaDataSize != 5 || l.ErrorCode != "" ||
				l.RequesterID != srv.AccountID || l.AccessKeyID != srv.AccessKeyID || l.RemoteIP != "127.0.0.1" ||
				!strings.HasPrefix(l.RequestURI, "PUT /") || l.RequestID != put.Headers.Get("x-oss-request-id") || l.RequestLength < 5 {
				t.Errorf("PutObject line = %+v", l)
			}
		}
		if gl := byOp["GetObject"]; len(gl) != 2 {
			t.Errorf("GetObject lines = %d, want 2", len(gl))
		} else {
			var ok, missing bool
			for _, l := range gl {
				switch {
				case l.HTTPStatus == 200 && l.SentBytes == 5 && l.ObjectSize == 5:
					ok = true
				case l.HTTPStatus == 404 && l.ErrorCode == "NoSuchKey" && l.Key == "missing":
					missing = true
				}
			}
			if !ok || !missing {
				t.Errorf("GetObject lines = %+v", gl)
			}
		}
		if len(byOp["HeadObject"]) != 1 {
			t.Errorf("HeadObject lines = %d, want 1", len(byOp["HeadObject"]))
		}
		// The logging configuration requests came before logging was on
		// for PutBucketLogging itself; bucket-level reads after it are logged.
		// Flushing again delivers nothing twice.
		if err := srv.FlushLogs(); err != nil {
			t.Fatal(err)
		}
		if again := readLogLines(t, c, dst, "log/", src); len(again) != len(lines) {
			t.Errorf("after a second flush: %d lines, want %d", len(again), len(lines))
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
