package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	srv := ossdtest.Start(t)
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
