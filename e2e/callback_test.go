package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestPostObjectCallback: an OSS form upload with a callback field calls
// back as PutObject does (the same code path): the "x:" fields are its
// custom variables, the callback server's answer is the reply, a failing
// callback is 203 CallbackFailed with the object kept, and a callback to a
// forbidden address is refused before anything is stored.
func TestPostObjectCallback(t *testing.T) {
	var hits atomic.Int32
	var gotBody, gotType string
	status := http.StatusOK
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		gotBody, gotType = string(b), r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"Status":"stored"}`))
	}))
	defer cb.Close()
	ctx := context.Background()
	// start runs ossd (callbacks to loopback allowed or not) with a bucket:
	// post uploads key by an OSS V1 form calling back to cbURL; head
	// reports whether key is stored.
	start := func(t *testing.T, allow []string) (bucket string, post func(key, cbURL string) (int, string), head func(key string) error) {
		srv := ossdtest.StartWith(t, ossdtest.Options{CallbackAllow: allow})
		c := v2Client(srv, modes[0])
		b := newBucket(t, c)
		post = func(key, cbURL string) (int, string) {
			spec, _ := json.Marshal(map[string]string{
				"callbackUrl":  cbURL,
				"callbackBody": "bucket=${bucket}&object=${object}&size=${size}&who=${x:who}",
			})
			policy := postPolicy(b, time.Hour)
			m := hmac.New(sha1.New, []byte(srv.AccessKeySecret))
			m.Write([]byte(policy))
			st, _, body := postForm(t, srv.Endpoint+"/"+b, [][2]string{{"key", key}, {"OSSAccessKeyId", srv.AccessKeyID},
				{"policy", policy}, {"Signature", base64.StdEncoding.EncodeToString(m.Sum(nil))}, {"success_action_status", "201"},
				{"callback", base64.StdEncoding.EncodeToString(spec)}, {"x:who", "Alice B"}}, "12345")
			return st, body
		}
		head = func(key string) error {
			_, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
			return err
		}
		return b, post, head
	}

	t.Run("called back", func(t *testing.T) {
		b, post, head := start(t, []string{"127.0.0.1"})
		hits.Store(0)
		status = http.StatusOK
		st, body := post("form cb", cb.URL)
		if st != 200 || body != `{"Status":"stored"}` {
			t.Fatalf("form upload with a callback: %d %s; want 200 with the callback server's answer", st, body)
		}
		want := "bucket=" + b + "&object=form+cb&size=5&who=Alice+B"
		if hits.Load() != 1 || gotType != "application/x-www-form-urlencoded" || gotBody != want {
			t.Errorf("callback hit %d times with %s %q; want once with %q", hits.Load(), gotType, gotBody, want)
		}
		if err := head("form cb"); err != nil {
			t.Errorf("object not stored: %v", err)
		}
	})
	t.Run("callback fails", func(t *testing.T) {
		_, post, head := start(t, []string{"127.0.0.1"})
		status = http.StatusInternalServerError
		st, body := post("form cb failed", cb.URL)
		if st != 203 || !strings.Contains(body, "<Code>CallbackFailed</Code>") || !strings.Contains(body, "Error status : 500.") {
			t.Errorf("form upload with a failing callback: %d %s; want 203 CallbackFailed", st, body)
		}
		if err := head("form cb failed"); err != nil {
			t.Errorf("object not kept after a failed callback: %v", err)
		}
	})
	t.Run("loopback refused", func(t *testing.T) {
		_, post, head := start(t, nil)
		hits.Store(0)
		status = http.StatusOK
		st, body := post("form cb refused", cb.URL)
		if st != 400 || !strings.Contains(body, "Private address is forbidden to callback.") || !strings.Contains(body, "0007-00000008") {
			t.Errorf("form upload calling back to loopback: %d %s; want 400 InvalidArgument", st, body)
		}
		if hits.Load() != 0 {
			t.Errorf("refused callback reached the server %d times", hits.Load())
		}
		if err := head("form cb refused"); err == nil {
			t.Error("a refused form upload stored its file")
		}
	})
}
