package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/ossdtest"
	"github.com/ossd/ossd/osslog/stats"
)

func TestParseStatsFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		args []string
		ok   bool
	}{
		{"stats", []string{"--bucket", "logs"}, true},
		{"stats", []string{"--bucket", "logs", "--format", "csv", "--since", "24h"}, true},
		{"stats", []string{"--bucket", "logs", "--from", "2026-11-24", "--to", "2026-11-25T10:00"}, true},
		{"report", []string{"--bucket", "logs", "--out", "r.html"}, true},
		{"stats", []string{}, false},                                                            // no bucket
		{"stats", []string{"--bucket", "logs", "--format", "xml"}, false},                       // bad format
		{"stats", []string{"--bucket", "logs", "--since", "1h", "--from", "2026-01-01"}, false}, // both
		{"stats", []string{"--bucket", "logs", "--top", "0"}, false},
		{"stats", []string{"--bucket", "logs", "--log-timezone", "Mars/Base"}, false},
		{"report", []string{"--bucket", "logs", "--format", "json"}, false}, // report has no --format
		{"stats", []string{"--bucket", "logs", "extra"}, false},
	} {
		_, err := parseStatsFlags(tc.cmd, tc.args, &bytes.Buffer{})
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: err %v, want ok=%v", tc.cmd, tc.args, err, tc.ok)
		}
	}
}

func TestStatsWindow(t *testing.T) {
	cst := time.FixedZone("+0800", 8*3600)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		o        statsOptions
		from, to time.Time
		ok       bool
	}{
		{statsOptions{}, time.Time{}, time.Time{}, true},
		{statsOptions{since: 24 * time.Hour}, now.Add(-24 * time.Hour), time.Time{}, true},
		{statsOptions{from: "2026-11-24", to: "2026-11-24T10:30"}, time.Date(2026, 11, 24, 0, 0, 0, 0, cst), time.Date(2026, 11, 24, 10, 30, 0, 0, cst), true},
		{statsOptions{from: "2026-11-24T01:00:00Z"}, time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), time.Time{}, true},
		{statsOptions{from: "2026-11-25", to: "2026-11-24"}, time.Time{}, time.Time{}, false},
		{statsOptions{from: "yesterday"}, time.Time{}, time.Time{}, false},
	} {
		tc.o.zone = cst
		from, to, err := tc.o.window(now)
		if (err == nil) != tc.ok || err == nil && (!from.Equal(tc.from) || !to.Equal(tc.to)) {
			t.Errorf("%+v: %v %v %v; want %v %v ok=%v", tc.o, from, to, err, tc.from, tc.to, tc.ok)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sdkClient(srv *ossdtest.Server) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
		WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true))
}

// TestLogsStatsOverTheWire drives a real ossd with logging on, flushes the
// logs, and reads them back with `ossd logs stats` through the OSS API:
// the figures are the requests made.
func TestLogsStatsOverTheWire(t *testing.T) {
	srv := ossdtest.Start(t)
	ctx := context.Background()
	c := sdkClient(srv)
	for _, b := range []string{"src", "src2", "logs"} {
		if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"src", "src2"} {
		if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(b),
			BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr("logs"), TargetPrefix: oss.Ptr("log/")}}}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(b, k string) {
		if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k), Body: strings.NewReader("hello")}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(k string) error {
		r, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("src"), Key: oss.Ptr(k)})
		if err == nil {
			r.Body.Close()
		}
		return err
	}
	put("src", "a.txt")
	put("src", "a.txt")
	put("src", "dir/b c.txt")
	for i := 0; i < 3; i++ {
		if err := get("a.txt"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := get("missing"); err == nil {
			t.Fatal("GetObject of a missing key succeeded")
		}
	}
	// A first delivery: the rest of the requests go to a second object.
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr("src"), Key: oss.Ptr("a.txt")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.Endpoint + "/src/a.txt") // anonymous: 403 AccessDenied
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr("src"), Key: oss.Ptr("a.txt")}); err != nil {
		t.Fatal(err)
	}
	put("src2", "other.txt")
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}

	t.Setenv("OSS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("OSS_ACCESS_KEY_SECRET", srv.AccessKeySecret)
	run := func(cmd string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{"--endpoint", srv.Endpoint, "--path-style", "--region", srv.Region, "--bucket", "logs", "--prefix", "log/"}, args...)
		if code := logsStatsCommand(cmd, args, &out, &errb); code != 0 {
			t.Fatalf("ossd logs %s %v: exit %d: %s", cmd, args, code, errb.String())
		}
		return out.String()
	}
	report := func(args ...string) *stats.Report {
		t.Helper()
		var r stats.Report
		if err := json.Unmarshal([]byte(run("stats", append(args, "--format", "json")...)), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	byName := func(gs []stats.Group) map[string]stats.Totals {
		m := map[string]stats.Totals{}
		for _, g := range gs {
			m[g.Name] = g.Totals
		}
		return m
	}
	count := func(es []stats.Entry) map[string]int64 {
		m := map[string]int64{}
		for _, e := range es {
			m[e.Value] = e.Count
		}
		return m
	}

	r := report("--source", "src")
	if r.Objects < 2 || r.Malformed != 0 {
		t.Fatalf("%d objects, %d malformed lines", r.Objects, r.Malformed)
	}
	ops := byName(r.Operations)
	for op, want := range map[string]stats.Totals{
		"PutObject":    {Requests: 3},
		"GetObject":    {Requests: 6, Errors: 3}, // 3 reads, 2 NoSuchKey, 1 anonymous AccessDenied
		"HeadObject":   {Requests: 1},
		"DeleteObject": {Requests: 1},
	} {
		got := ops[op]
		if got.Requests != want.Requests || got.Errors != want.Errors {
			t.Errorf("%s: %+v, want %d requests, %d errors", op, got, want.Requests, want.Errors)
		}
	}
	if got := ops["GetObject"].BytesSent; got < 15 {
		t.Errorf("GetObject sent %d bytes, want at least the 3×5 body bytes", got)
	}
	if got := ops["PutObject"].BytesReceived; got < 15 {
		t.Errorf("PutObject received %d bytes, want at least the 3×5 body bytes", got)
	}
	for _, op := range r.Operations {
		if op.Latency == nil {
			t.Errorf("%s has no request-time percentiles", op.Name)
		}
	}
	st := byName(r.Statuses)
	if st["404"].Requests != 2 || st["403"].Requests != 1 || st["204"].Requests != 1 {
		t.Errorf("statuses %v", r.Statuses)
	}
	codes := byName(r.ErrorCodes)
	if len(codes) != 2 || codes["NoSuchKey"].Requests != 2 || codes["AccessDenied"].Requests != 1 {
		t.Errorf("error codes %v", r.ErrorCodes)
	}
	keys := count(r.TopKeys)
	if keys["src/a.txt"] != 2+3+1+1+1 || keys["src/missing"] != 2 || keys["src/dir/b c.txt"] != 1 {
		t.Errorf("top keys %v", r.TopKeys)
	}
	if _, ok := keys["src2/other.txt"]; ok {
		t.Errorf("--source src counted src2's lines: %v", r.TopKeys)
	}
	if count(r.TopRequesters)[stats.Anonymous] != 1 || count(r.TopAccessKeys)[srv.AccessKeyID] != r.Total.Requests-1 {
		t.Errorf("requesters %v access keys %v", r.TopRequesters, r.TopAccessKeys)
	}
	if count(r.TopRemoteIPs)["127.0.0.1"] != r.Total.Requests {
		t.Errorf("remote IPs %v, total %d", r.TopRemoteIPs, r.Total.Requests)
	}
	var perHour int64
	for _, h := range r.Hours {
		perHour += h.Requests
	}
	if len(r.Hours) == 0 || perHour != r.Total.Requests {
		t.Errorf("hours %v add up to %d, total %d", r.Hours, perHour, r.Total.Requests)
	}

	// Every source: src2's object is read too.
	if all := report(); count(all.TopKeys)["src2/other.txt"] != 1 || all.Total.Requests <= r.Total.Requests {
		t.Errorf("without --source: %d requests, keys %v", all.Total.Requests, all.TopKeys)
	}
	// A window after the logs: no object is read (skipped by name), nothing counted.
	if later := report("--from", time.Now().Add(3*time.Hour).Format(time.RFC3339)); later.Objects != 0 || later.Total.Requests != 0 {
		t.Errorf("a later window read %d objects, %d requests", later.Objects, later.Total.Requests)
	}
	// The window of the last hour takes every line.
	if recent := report("--source", "src", "--since", "1h"); recent.Total.Totals != r.Total.Totals {
		t.Errorf("--since 1h: %+v, want %+v", recent.Total, r.Total)
	}

	// One worker, or one per object: the same figures.
	for _, p := range []string{"1", "3"} {
		other := report("--source", "src", "--parallel", p)
		if a, b := mustJSON(t, other), mustJSON(t, r); a != b {
			t.Errorf("--parallel %s:\n%s\nwant\n%s", p, a, b)
		}
	}
	// A local ossd: --addr, and the credentials in its data directory.
	t.Setenv("OSS_ACCESS_KEY_ID", "")
	t.Setenv("OSS_ACCESS_KEY_SECRET", "")
	var lout, lerr bytes.Buffer
	if code := logsStatsCommand("stats", []string{"--addr", srv.Addr(), "--data", srv.DataDir, "--bucket", "logs",
		"--prefix", "log/", "--source", "src", "--format", "json"}, &lout, &lerr); code != 0 {
		t.Fatalf("--addr --data: exit %d: %s", code, lerr.String())
	}
	var local stats.Report
	if err := json.Unmarshal(lout.Bytes(), &local); err != nil || local.Total.Totals != r.Total.Totals {
		t.Fatalf("--addr --data: %+v, %v; want %+v", local.Total, err, r.Total)
	}
	t.Setenv("OSS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("OSS_ACCESS_KEY_SECRET", srv.AccessKeySecret)

	table := run("stats", "--source", "src")
	for _, want := range []string{"By operation", "GetObject", "NoSuchKey", "src/a.txt", "Requests per hour"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	csv := run("stats", "--source", "src", "--format", "csv")
	if !strings.HasPrefix(csv, "section,name,requests,") || !strings.Contains(csv, "\nerror_code,NoSuchKey,2,2,") {
		t.Errorf("csv:\n%s", csv)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	run("report", "--source", "src", "--out", out)
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`"name":"NoSuchKey"`)) || !bytes.Contains(page, []byte("<svg")) && !bytes.Contains(page, []byte("createElementNS")) {
		t.Errorf("report.html lacks the figures")
	}
}

// TestLogsStatsErrors: a missing log bucket or wrong credentials end with
// the OSS error, not a panic or an empty report.
func TestLogsStatsErrors(t *testing.T) {
	srv := ossdtest.Start(t)
	c := sdkClient(srv)
	if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr("logs")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id, secret, bucket, want string
	}{
		{"no such bucket", srv.AccessKeyID, srv.AccessKeySecret, "nope", "NoSuchBucket"},
		{"wrong secret", srv.AccessKeyID, "wrong", "logs", "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OSS_ACCESS_KEY_ID", tc.id)
			t.Setenv("OSS_ACCESS_KEY_SECRET", tc.secret)
			var out, errb bytes.Buffer
			code := logsStatsCommand("stats", []string{"--endpoint", srv.Endpoint, "--path-style", "--bucket", tc.bucket}, &out, &errb)
			if code != 1 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %s", code, errb.String(), tc.want)
			}
		})
	}
}
