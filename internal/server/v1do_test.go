package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ossd/ossd/internal/auth"
)

// v1Do returns a function that sends a V1-signed request for
// /bucket/key with body to h and returns the recorded response.
func v1Do(h http.Handler, keyID, secret string) func(method, bucket, key string, body []byte) *httptest.ResponseRecorder {
	return func(method, bucket, key string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/"+bucket+"/"+key, bytes.NewReader(body))
		req.Host = "127.0.0.1:9800"
		auth.SignV1(req, bucket, key, keyID, secret, time.Now())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
}
