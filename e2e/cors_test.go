package e2e

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossd/ossd/ossdtest"
)

// corsSend sends an unsigned request, as a browser does for a preflight or
// a page's request to a public object.
func corsSend(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestBucketCORS: Put/Get/DeleteBucketCors through the v2 SDK in every
// mode, and what a browser then meets: preflights (unsigned, and the SDK's
// signed OptionObject) answered from the rules, refusals with OSS's
// answer, and Access-Control-* headers on ordinary responses — error
// responses included — so a page can read them (ETag for multipart).
func TestBucketCORS(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("hi")}); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(b)})
		if se := wantServiceError(t, err, "NoSuchCORSConfiguration", 404, "0034-00000001"); se.Message != "The CORS Configuration does not exist." {
			t.Errorf("GetBucketCors without a configuration: message %q", se.Message)
		}
		url := srv.Endpoint + "/" + b + "/k"
		resp, body := corsSend(t, http.MethodOptions, url, map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
		if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessForbidden</Code>") {
			t.Errorf("preflight with no configuration: %d %s", resp.StatusCode, body)
		}

		maxAge := int64(600)
		_, err = c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(b), CORSConfiguration: &oss.CORSConfiguration{
			ResponseVary: oss.Ptr(true),
			CORSRules: []oss.CORSRule{
				{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"PUT", "GET", "POST"},
					AllowedHeaders: []string{"x-oss-*", "content-type"}, ExposeHeaders: []string{"ETag", "x-oss-request-id"}, MaxAgeSeconds: &maxAge},
				{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
			}}})
		if err != nil {
			t.Fatalf("PutBucketCors: %v", err)
		}
		got, err := c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatal(err)
		}
		rules := got.CORSConfiguration.CORSRules
		if len(rules) != 2 || rules[0].AllowedOrigins[0] != "https://*.example.com" || len(rules[0].AllowedMethods) != 3 ||
			len(rules[0].ExposeHeaders) != 2 || oss.ToInt64(rules[0].MaxAgeSeconds) != 600 || rules[1].MaxAgeSeconds != nil ||
			got.CORSConfiguration.ResponseVary == nil || !*got.CORSConfiguration.ResponseVary {
			t.Errorf("GetBucketCors = %+v", got.CORSConfiguration)
		}

		// The SDK's own preflight (signed), then a browser's (unsigned).
		opt, err := c.OptionObject(ctx, &oss.OptionObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"),
			Origin: oss.Ptr("https://app.example.com"), AccessControlRequestMethod: oss.Ptr("PUT"), AccessControlRequestHeaders: oss.Ptr("x-oss-meta-a, Content-Type")})
		if err != nil || opt.StatusCode != 200 || oss.ToString(opt.AccessControlAllowOrigin) != "https://app.example.com" ||
			oss.ToString(opt.AccessControlAllowMethods) != "PUT" || oss.ToString(opt.AccessControlAllowHeaders) != "x-oss-meta-a, Content-Type" ||
			oss.ToString(opt.AccessControlExposeHeaders) != "ETag, x-oss-request-id" || oss.ToInt64(opt.AccessControlMaxAge) != 600 {
			t.Errorf("OptionObject = %+v, %v", opt, err)
		}
		for _, tc := range []struct {
			name       string
			hdr        map[string]string
			status     int
			code, text string
			allow      string
		}{
			{"any origin, GET", map[string]string{"Origin": "http://other.test", "Access-Control-Request-Method": "GET"}, 200, "", "", "*"},
			{"method no rule allows", map[string]string{"Origin": "http://other.test", "Access-Control-Request-Method": "DELETE"}, 403, "AccessForbidden",
				"CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.", ""},
			{"header not allowed", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-custom"}, 403, "AccessForbidden", "", ""},
			{"no Origin", map[string]string{"Access-Control-Request-Method": "PUT"}, 400, "BadRequest", "Insufficient information. Origin request header needed", ""},
			{"no method", map[string]string{"Origin": "http://other.test"}, 400, "BadRequest", "Insufficient information. Request Access-Control-Request-Method header needed", ""},
		} {
			resp, body := corsSend(t, http.MethodOptions, url, tc.hdr)
			var e struct{ Code, Message, RequestId, EC string }
			xml.Unmarshal([]byte(body), &e)
			switch {
			case resp.StatusCode != tc.status:
				t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.status, body)
			case tc.status == 200 && (resp.Header.Get("Access-Control-Allow-Origin") != tc.allow || body != ""):
				t.Errorf("%s: Allow-Origin %q, body %q", tc.name, resp.Header.Get("Access-Control-Allow-Origin"), body)
			case tc.status != 200 && (e.Code != tc.code || tc.text != "" && e.Message != tc.text || e.EC == "" || e.RequestId == ""):
				t.Errorf("%s: %+v", tc.name, e)
			case resp.Header.Get("Vary") != "Origin":
				t.Errorf("%s: Vary %q, want Origin (ResponseVary)", tc.name, resp.Header.Get("Vary"))
			}
		}

		// Ordinary requests from an allowed origin carry the headers, and
		// so do their errors (the bucket is private: anonymous is refused).
		for _, tc := range []struct {
			key    string
			status int
		}{{"k", 403}, {"nope", 403}} {
			resp, _ := corsSend(t, http.MethodGet, srv.Endpoint+"/"+b+"/"+tc.key, map[string]string{"Origin": "https://app.example.com"})
			if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
				resp.Header.Get("Access-Control-Expose-Headers") != "ETag, x-oss-request-id" {
				t.Errorf("anonymous GET %s from an allowed origin: %d, headers %v", tc.key, resp.StatusCode, resp.Header)
			}
		}
		// Signed: the SDK's GET, with an Origin the second rule allows.
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"),
			RequestCommon: oss.RequestCommon{Headers: map[string]string{"Origin": "http://other.test"}}})
		if err != nil || g.Headers.Get("Access-Control-Allow-Origin") != "*" || g.Headers.Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("GET with Origin: %v, headers %v", err, g)
		} else {
			readAll(t, g.Body)
		}
		// No Origin: no Access-Control-* headers (Vary still, as asked).
		resp, _ = corsSend(t, http.MethodGet, url, nil)
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Vary") != "Origin" {
			t.Errorf("GET without Origin: headers %v", resp.Header)
		}

		// Invalid configurations are refused and change nothing.
		for _, tc := range []struct {
			name string
			rule oss.CORSRule
			ec   string
		}{
			{"method", oss.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}, "0034-00000011"},
			{"two stars", oss.CORSRule{AllowedOrigins: []string{"http://*.*.com"}, AllowedMethods: []string{"GET"}}, "0034-00000009"},
		} {
			_, err := c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(b), CORSConfiguration: &oss.CORSConfiguration{CORSRules: []oss.CORSRule{tc.rule}}})
			wantServiceError(t, err, "InvalidArgument", 400, tc.ec)
		}
		eleven := make([]oss.CORSRule, 11)
		for i := range eleven {
			eleven[i] = oss.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}
		}
		_, err = c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(b), CORSConfiguration: &oss.CORSConfiguration{CORSRules: eleven}})
		if se := wantServiceError(t, err, "CORSRuleBeyondLimit", 400, ""); se.Message != "The CORS Rules num is beyond limit." {
			t.Errorf("11 rules: message %q", se.Message)
		}
		if got, err := c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(b)}); err != nil || len(got.CORSConfiguration.CORSRules) != 2 {
			t.Errorf("after refused puts: %+v, %v", got, err)
		}

		// A new configuration replaces the old; delete, twice, is 204.
		if _, err := c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(b), CORSConfiguration: &oss.CORSConfiguration{
			CORSRules: []oss.CORSRule{{AllowedOrigins: []string{"http://only.test"}, AllowedMethods: []string{"HEAD"}}}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(b)}); len(got.CORSConfiguration.CORSRules) != 1 ||
			got.CORSConfiguration.ResponseVary == nil || *got.CORSConfiguration.ResponseVary {
			t.Errorf("replaced configuration = %+v", got.CORSConfiguration)
		}
		for range 2 {
			if d, err := c.DeleteBucketCors(ctx, &oss.DeleteBucketCorsRequest{Bucket: oss.Ptr(b)}); err != nil || d.StatusCode != 204 {
				t.Errorf("DeleteBucketCors = %+v, %v", d, err)
			}
		}
		_, err = c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: oss.Ptr(b)})
		wantServiceError(t, err, "NoSuchCORSConfiguration", 404, "0034-00000001")
		_, err = c.OptionObject(ctx, &oss.OptionObjectRequest{Bucket: oss.Ptr(b + "-missing"), Key: oss.Ptr("k"),
			Origin: oss.Ptr("http://only.test"), AccessControlRequestMethod: oss.Ptr("GET")})
		wantServiceError(t, err, "NoSuchBucket", 404, "0015-00000101")
	})
}

// TestS3BucketCORS: the same configuration in S3's dialect (aws-sdk-go-v2:
// rule IDs, no ResponseVary), then a browser's preflight answered from it.
func TestS3BucketCORS(t *testing.T) {
	srv, c, b := s3Bucket(t, "s3cors")
	ctx := context.Background()
	_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(b)})
	wantS3Error(t, err, "NoSuchCORSConfiguration")
	url := srv.Endpoint + "/" + b + "/k"
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{ID: aws.String("web"), AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(30)}}}}); err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}
	got, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(b)})
	if err != nil || len(got.CORSRules) != 1 || aws.ToString(got.CORSRules[0].ID) != "web" || aws.ToInt32(got.CORSRules[0].MaxAgeSeconds) != 30 ||
		len(got.CORSRules[0].AllowedMethods) != 2 || got.CORSRules[0].ExposeHeaders[0] != "ETag" {
		t.Fatalf("GetBucketCors = %+v, %v", got, err)
	}
	resp, body := corsSend(t, http.MethodOptions, url, map[string]string{"Origin": "https://app.example.com",
		"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-amz-date, authorization"})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "x-amz-date, authorization" || resp.Header.Get("Access-Control-Max-Age") != "30" {
		t.Errorf("preflight: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(b)})
	wantS3Error(t, err, "NoSuchCORSConfiguration")
}
