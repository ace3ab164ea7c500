package e2e

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossd/ossd/ossdtest"
)

// mode is one way a client can reach ossd; every wire test runs in each.
type mode struct {
	name    string
	sigV1   bool
	virtual bool
}

var modes = []mode{
	{"v4-path", false, false},
	{"v4-vhost", false, true},
	{"v1-path", true, false},
	{"v1-vhost", true, true},
}

// forEachMode runs f against a fresh server once per mode.
func forEachMode(t *testing.T, f func(t *testing.T, c *oss.Client, srv *ossdtest.Server)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			f(t, v2Client(srv, m), srv)
		})
	}
}

func v2Client(srv *ossdtest.Server, m mode) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
		WithRegion(srv.Region)
	if m.virtual {
		cfg = cfg.WithEndpoint(srv.VirtualHostEndpoint()).WithHttpClient(srv.VirtualHostClient())
	} else {
		cfg = cfg.WithEndpoint(srv.Endpoint).WithUsePathStyle(true)
	}
	if m.sigV1 {
		cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	return oss.NewClient(cfg)
}

func v1Client(t *testing.T, srv *ossdtest.Server, m mode) *v1.Client {
	opts := []v1.ClientOption{}
	ep := srv.Endpoint
	if m.virtual {
		ep = srv.VirtualHostEndpoint()
		opts = append(opts, v1.HTTPClient(srv.VirtualHostClient()))
	} else {
		opts = append(opts, v1.ForcePathStyle(true))
	}
	if !m.sigV1 {
		opts = append(opts, v1.AuthVersion(v1.AuthV4), v1.Region(srv.Region))
	}
	c, err := v1.New(ep, srv.AccessKeyID, srv.AccessKeySecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randName(prefix string) string { return fmt.Sprintf("%s-%08x", prefix, rand.Uint32()) }
