package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossd/ossd/ossdtest"
)

func TestBucketLoggingAPI(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		src, dst := newBucket(t, c), newBucket(t, c)
		get := func() *oss.LoggingEnabled {
			t.Helper()
			r, err := c.GetBucketLogging(ctx, &oss.GetBucketLoggingRequest{Bucket: oss.Ptr(src)})
			if err != nil {
				t.Fatalf("GetBucketLogging: %v", err)
			}
			if r.StatusCode != 200 || r.Headers.Get("X-Oss-Request-Id") == "" {
				t.Fatalf("GetBucketLogging status %d", r.StatusCode)
			}
			return r.BucketLoggingStatus.LoggingEnabled
		}
		if le := get(); le != nil {
			t.Fatalf("new bucket has logging %+v", le)
		}
		put := func(le *oss.LoggingEnabled) error {
			_, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src), BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: le}})
			return err
		}
		if err := put(&oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr("log/"), LoggingRole: oss.Ptr("AliyunOSSLoggingDefaultRole")}); err != nil {
			t.Fatalf("PutBucketLogging: %v", err)
		}
		le := get()
		if le == nil || oss.ToString(le.TargetBucket) != dst || oss.ToString(le.TargetPrefix) != "log/" || oss.ToString(le.LoggingRole) != "AliyunOSSLoggingDefaultRole" {
			t.Fatalf("read-after-write GetBucketLogging = %+v", le)
		}
		if err := put(&oss.LoggingEnabled{TargetBucket: oss.Ptr(src)}); err != nil {
			t.Fatalf("logging to itself: %v", err)
		}
		if le := get(); le == nil || oss.ToString(le.TargetBucket) != src || le.LoggingRole != nil {
			t.Fatalf("after self-target Get = %+v", le)
		}

		for _, tc := range []struct {
			name   string
			le     *oss.LoggingEnabled
			code   string
			status int
			ec     string
		}{
			{"empty target", &oss.LoggingEnabled{TargetBucket: oss.Ptr("")}, "InvalidTargetBucketForLogging", 400, "0032-00000003"},
			{"invalid target name", &oss.LoggingEnabled{TargetBucket: oss.Ptr("XX")}, "InvalidTargetBucketForLogging", 400, "0032-00000004"},
			{"slash prefix", &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr("/log")}, "InvalidArgument", 400, "0032-00000005"},
			{"backslash prefix", &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr(`\log`)}, "InvalidArgument", 400, "0032-00000005"},
			{"long prefix", &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr(strings.Repeat("p", 257))}, "InvalidArgument", 400, "0032-00000006"},
			{"missing target", &oss.LoggingEnabled{TargetBucket: oss.Ptr("no-such-target-bucket")}, "InvalidTargetBucketForLogging", 400, "0032-00000008"},
			{"role arn", &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), LoggingRole: oss.Ptr("acs:ram::123:role/x")}, "InvalidArgument", 400, "0032-00000014"},
		} {
			err := put(tc.le)
			se := wantServiceError(t, err, tc.code, tc.status, tc.ec)
			if tc.ec == "0032-00000014" && se.Message != "LoggingRole is invalid." {
				t.Errorf("%s: message %q", tc.name, se.Message)
			}
		}
		if err := put(&oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr(strings.Repeat("p", 256))}); err != nil {
			t.Errorf("256-character prefix rejected: %v", err)
		}
		// Empty status disables.
		if err := put(nil); err != nil {
			t.Fatalf("disable by empty status: %v", err)
		}
		if le := get(); le != nil {
			t.Fatalf("after disable Get = %+v", le)
		}
		for i := 0; i < 2; i++ {
			d, err := c.DeleteBucketLogging(ctx, &oss.DeleteBucketLoggingRequest{Bucket: oss.Ptr(src)})
			if err != nil || d.StatusCode != 204 || d.Status != "204 No Content" || d.Headers.Get("Date") == "" {
				t.Fatalf("DeleteBucketLogging #%d = %+v, %v", i, d, err)
			}
		}

		// User-defined log fields.
		_, err := c.PutUserDefinedLogFieldsConfig(ctx, &oss.PutUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(src),
			UserDefinedLogFieldsConfiguration: &oss.UserDefinedLogFieldsConfiguration{
				HeaderSet: &oss.LoggingHeaderSet{Headers: []string{"header1", "x-trace-id"}},
				ParamSet:  &oss.LoggingParamSet{Parameters: []string{"param_1"}}}})
		if err != nil {
			t.Fatalf("PutUserDefinedLogFieldsConfig: %v", err)
		}
		gu, err := c.GetUserDefinedLogFieldsConfig(ctx, &oss.GetUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(src)})
		if err != nil || len(gu.UserDefinedLogFieldsConfiguration.HeaderSet.Headers) != 2 || len(gu.UserDefinedLogFieldsConfiguration.ParamSet.Parameters) != 1 {
			t.Fatalf("GetUserDefinedLogFieldsConfig = %+v, %v", gu, err)
		}
		_, err = c.PutUserDefinedLogFieldsConfig(ctx, &oss.PutUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(src),
			UserDefinedLogFieldsConfiguration: &oss.UserDefinedLogFieldsConfiguration{
				HeaderSet: &oss.LoggingHeaderSet{Headers: []string{"a", "b", "c", "d"}},
				ParamSet:  &oss.LoggingParamSet{Parameters: []string{"e", "f", "g"}}}})
		wantServiceError(t, err, "InvalidArgument", 400, "")
		_, err = c.PutUserDefinedLogFieldsConfig(ctx, &oss.PutUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(src),
			UserDefinedLogFieldsConfiguration: &oss.UserDefinedLogFieldsConfiguration{HeaderSet: &oss.LoggingHeaderSet{Headers: []string{"bad_header"}}}})
		wantServiceError(t, err, "InvalidArgument", 400, "")
		du, err := c.DeleteUserDefinedLogFieldsConfig(ctx, &oss.DeleteUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(src)})
		if err != nil || du.StatusCode != 204 {
			t.Fatalf("DeleteUserDefinedLogFieldsConfig = %+v, %v", du, err)
		}

		// All six on a missing bucket.
		missing := oss.Ptr(src + "-missing")
		errs := []error{}
		_, err = c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: missing, BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr("TargetBucket")}}})
		errs = append(errs, err)
		_, err = c.GetBucketLogging(ctx, &oss.GetBucketLoggingRequest{Bucket: missing})
		errs = append(errs, err)
		_, err = c.DeleteBucketLogging(ctx, &oss.DeleteBucketLoggingRequest{Bucket: missing})
		errs = append(errs, err)
		_, err = c.PutUserDefinedLogFieldsConfig(ctx, &oss.PutUserDefinedLogFieldsConfigRequest{Bucket: missing,
			UserDefinedLogFieldsConfiguration: &oss.UserDefinedLogFieldsConfiguration{HeaderSet: &oss.LoggingHeaderSet{Headers: []string{"h"}}}})
		errs = append(errs, err)
		_, err = c.GetUserDefinedLogFieldsConfig(ctx, &oss.GetUserDefinedLogFieldsConfigRequest{Bucket: missing})
		errs = append(errs, err)
		_, err = c.DeleteUserDefinedLogFieldsConfig(ctx, &oss.DeleteUserDefinedLogFieldsConfigRequest{Bucket: missing})
		errs = append(errs, err)
		for _, err := range errs {
			se := wantServiceError(t, err, "NoSuchBucket", 404, "0015-00000101")
			if se.Message != "The specified bucket does not exist." {
				t.Errorf("message %q", se.Message)
			}
		}
	})
}

// TestBucketLoggingRawBodies sends the documented body variants by hand:
// with and without XML declaration and whitespace, any Content-Type,
// malformed XML, wrong root, missing TargetBucket, bad Content-MD5.
func TestBucketLoggingRawBodies(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	src, dst := newBucket(t, c), newBucket(t, c)
	for _, tc := range []struct {
		name, body, ctype string
		badMD5            bool
		status            int
		code, ec          string
	}{
		{"doc form", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BucketLoggingStatus>\n  <LoggingEnabled>\n    <TargetBucket>" + dst + "</TargetBucket>\n    <TargetPrefix>MyLog-</TargetPrefix>\n  </LoggingEnabled>\n</BucketLoggingStatus>", "application/xml", false, 200, "", ""},
		{"text/plain", "<BucketLoggingStatus><LoggingEnabled><TargetBucket>" + dst + "</TargetBucket><TargetPrefix></TargetPrefix></LoggingEnabled></BucketLoggingStatus>", "text/plain; charset=utf-8", false, 200, "", ""},
		{"self-closing disable", "<BucketLoggingStatus/>", "", false, 200, "", ""},
		{"not xml", "this is not xml", "application/xml", false, 400, "MalformedXML", "0032-00000001"},
		{"wrong root", "<LoggingStatus><LoggingEnabled/></LoggingStatus>", "application/xml", false, 400, "MalformedXML", "0032-00000001"},
		{"no target element", "<BucketLoggingStatus><LoggingEnabled><TargetPrefix>x</TargetPrefix></LoggingEnabled></BucketLoggingStatus>", "application/xml", false, 400, "InvalidTargetBucketForLogging", "0032-00000002"},
		{"prefix not utf8", "<BucketLoggingStatus><LoggingEnabled><TargetBucket>" + dst + "</TargetBucket><TargetPrefix>\xff\xfe</TargetPrefix></LoggingEnabled></BucketLoggingStatus>", "application/xml", false, 400, "", ""},
		{"bad md5", "<BucketLoggingStatus/>", "application/xml", true, 400, "InvalidDigest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, srv.Endpoint+"/"+src+"/?logging", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			sum := md5.Sum([]byte(tc.body))
			if tc.badMD5 {
				sum = md5.Sum([]byte("other"))
			}
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
			signV1(t, srv, req, src, "")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.code != "" && (!bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")) || resp.Header.Get("x-oss-request-id") == "") {
				t.Errorf("body %s, want code %s", body, tc.code)
			}
			if tc.ec != "" && (!bytes.Contains(body, []byte("<EC>"+tc.ec+"</EC>")) || resp.Header.Get("x-oss-ec") != tc.ec) {
				t.Errorf("body %s / x-oss-ec %q, want EC %s", body, resp.Header.Get("x-oss-ec"), tc.ec)
			}
		})
	}
}

// TestBucketLoggingV1SDK runs the v1 SDK's logging calls, which send a
// sniffed text/plain Content-Type and an empty TargetPrefix element.
func TestBucketLoggingV1SDK(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			c := v1Client(t, srv, m)
			src, dst := randName("src"), randName("dst")
			for _, b := range []string{src, dst} {
				if err := c.CreateBucket(b); err != nil {
					t.Fatalf("CreateBucket: %v", err)
				}
			}
			if err := c.SetBucketLogging(src, dst, "", true); err != nil {
				t.Fatalf("SetBucketLogging: %v", err)
			}
			r, err := c.GetBucketLogging(src)
			if err != nil || r.LoggingEnabled.TargetBucket != dst || r.LoggingEnabled.TargetPrefix != "" {
				t.Fatalf("GetBucketLogging = %+v, %v", r, err)
			}
			if err := c.SetBucketLogging(src, dst, "pre-", false); err != nil {
				t.Fatalf("SetBucketLogging(disable): %v", err)
			}
			r, err = c.GetBucketLogging(src)
			if err != nil || r.LoggingEnabled.TargetBucket != "" {
				t.Fatalf("after disable = %+v, %v", r, err)
			}
			if err := c.DeleteBucketLogging(src); err != nil {
				t.Fatalf("DeleteBucketLogging: %v", err)
			}
			err = c.SetBucketLogging(src, "xx", "", true)
			if se, ok := err.(v1.ServiceError); !ok || se.StatusCode != 400 {
				t.Fatalf("SetBucketLogging to invalid name: %v", err)
			}
		})
	}
}
