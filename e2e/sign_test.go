package e2e

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/ossdtest"
)

// signV1 signs a hand-built request with the root key (OSS V1).
func signV1(t *testing.T, srv *ossdtest.Server, req *http.Request, bucket, key string) {
	t.Helper()
	auth.SignV1(req, bucket, key, srv.AccessKeyID, srv.AccessKeySecret, time.Now())
}

func xmlUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := xml.Unmarshal(raw, v); err != nil {
		t.Fatalf("bad XML: %v\n%s", err, raw)
	}
}
