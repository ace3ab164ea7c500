package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

func TestUploadCallback(t *testing.T) {
	var gotBody, gotType string
	status := http.StatusOK
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotType = string(b), r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"Status":"OK"}`))
	}))
	defer cb.Close()
	// The callback server is on loopback, which callbacks may reach only
	// when allowed (TestUploadCallbackGuard).
	srv := ossdtest.StartWith(t, ossdtest.Options{CallbackAllow: []string{"127.0.0.1"}})
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	spec, _ := json.Marshal(map[string]string{
		"callbackUrl":      cb.URL,
		"callbackBody":     "bucket=${bucket}&object=${object}&size=${size}&who=${x:who}",
		"callbackBodyType": "application/x-www-form-urlencoded",
	})
	vars, _ := json.Marshal(map[string]string{"x:who": "alice"})
	put := func() (*oss.PutObjectResult, error) {
		return c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("cb obj"), Body: strings.NewReader("12345"),
			Callback: oss.Ptr(base64.StdEncoding.EncodeToString(spec)), CallbackVar: oss.Ptr(base64.StdEncoding.EncodeToString(vars))})
	}
	res, err := put()
	if err != nil {
		t.Fatalf("PutObject with callback: %v", err)
	}
	if want := "bucket=" + b + "&object=cb+obj&size=5&who=alice"; gotBody != want || gotType != "application/x-www-form-urlencoded" {
		t.Errorf("callback body %q (%s), want %q", gotBody, gotType, want)
	}
	if res.CallbackResult["Status"] != "OK" {
		t.Errorf("callback result relayed = %v", res.CallbackResult)
	}
	// A failing callback: 203 CallbackFailed, and the object is kept.
	status = http.StatusInternalServerError
	_, err = put()
	se := wantServiceError(t, err, "CallbackFailed", 203, "0007-00000203")
	if se.Message != "Error status : 500." {
		t.Errorf("CallbackFailed message %q", se.Message)
	}
	if _, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("cb obj")}); err != nil {
		t.Errorf("object not kept after failed callback: %v", err)
	}
}

// TestUploadCallbackGuard: an upload callback may not reach loopback or
// private addresses unless --callback-allow lists them. OSS refuses such an
// upload before storing anything: 400 InvalidArgument, "Private address is
// forbidden to callback.", EC 0007-00000008. A callback answered with a
// redirect is not followed (203 CallbackFailed, "Error status : 301.").
func TestUploadCallbackGuard(t *testing.T) {
	var hits atomic.Int32
	redirect := false
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if redirect {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Status":"OK"}`))
	}))
	defer cb.Close()
	cbURL, _ := url.Parse(cb.URL)
	_, port, _ := strings.Cut(cbURL.Host, ":")

	tests := []struct {
		name       string
		allow      []string
		url        string
		redirect   bool
		wantStored bool
		wantCode   string // "" = success
		wantStatus int
		wantEC     string
		wantMsg    string
	}{
		{name: "loopback refused", url: cb.URL, wantCode: "InvalidArgument", wantStatus: 400, wantEC: "0007-00000008", wantMsg: "Private address is forbidden to callback."},
		{name: "name resolving to loopback refused", url: "localhost:" + port + "/cb", wantCode: "InvalidArgument", wantStatus: 400, wantEC: "0007-00000008", wantMsg: "Private address is forbidden to callback."},
		{name: "private network refused", url: "http://10.1.2.3:" + port, allow: []string{"127.0.0.1"}, wantCode: "InvalidArgument", wantStatus: 400, wantEC: "0007-00000008"},
		{name: "other allowed prefix does not allow loopback", allow: []string{"10.0.0.0/8"}, url: cb.URL, wantCode: "InvalidArgument", wantStatus: 400, wantEC: "0007-00000008"},
		{name: "allowed by CIDR", allow: []string{"127.0.0.0/8"}, url: cb.URL, wantStored: true},
		{name: "allowed by host:port", allow: []string{"127.0.0.1:" + port}, url: cb.URL, wantStored: true},
		{name: "other port of an allowed host refused", allow: []string{"127.0.0.1:1"}, url: cb.URL, wantCode: "InvalidArgument", wantStatus: 400, wantEC: "0007-00000008"},
		{name: "redirect not followed", allow: []string{"127.0.0.1"}, url: cb.URL, redirect: true, wantStored: true,
			wantCode: "CallbackFailed", wantStatus: 203, wantEC: "0007-00000203", wantMsg: "Error status : 301."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ossdtest.StartWith(t, ossdtest.Options{CallbackAllow: tc.allow})
			c := v2Client(srv, modes[0])
			b := newBucket(t, c)
			redirect = tc.redirect
			hits.Store(0)
			spec, _ := json.Marshal(map[string]string{"callbackUrl": tc.url, "callbackBody": "object=${object}"})
			_, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"),
				Body: strings.NewReader("data"), Callback: oss.Ptr(base64.StdEncoding.EncodeToString(spec))})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				if hits.Load() != 1 {
					t.Errorf("callback server hit %d times, want 1", hits.Load())
				}
			} else {
				se := wantServiceError(t, err, tc.wantCode, tc.wantStatus, tc.wantEC)
				if tc.wantMsg != "" && se.Message != tc.wantMsg {
					t.Errorf("message %q, want %q", se.Message, tc.wantMsg)
				}
				if tc.wantCode == "InvalidArgument" && hits.Load() != 0 {
					t.Errorf("refused callback reached the server %d times", hits.Load())
				}
			}
			_, herr := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
			if stored := herr == nil; stored != tc.wantStored {
				t.Errorf("object stored = %v (%v), want %v", stored, herr, tc.wantStored)
			}
		})
	}
}
