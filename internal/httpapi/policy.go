package httpapi

import (
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// policyRequest is what a bucket policy may see of rq: its action, object
// and condition keys (source IP, HTTPS, Referer, a listing's prefix and
// delimiter).
func policyRequest(rq *request) service.RequestInfo {
	ip := rq.r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return service.RequestInfo{
		Op: rq.op, Key: rq.key, SourceIP: ip, Secure: rq.r.TLS != nil, Referer: rq.r.Referer(),
		Prefix: rq.q.get("prefix"), HasPrefix: rq.q.has("prefix"),
		Delimiter: rq.q.get("delimiter"), HasDelimiter: rq.q.has("delimiter"),
		Header: func(name string) string { return policyHeader(rq.r.Header, name) },
	}
}

// policyHeader is a header a condition key names, in either dialect's
// spelling (an S3 request's x-amz- headers may have been mapped to OSS's
// by then). A copy source is compared as "bucket/key", unescaped.
func policyHeader(h http.Header, name string) string {
	v := h.Get(name)
	if v == "" {
		if rest, ok := strings.CutPrefix(name, "x-amz-"); ok {
			v = h.Get("x-oss-" + rest)
		}
	}
	if strings.HasSuffix(name, "copy-source") {
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		v = strings.TrimPrefix(v, "/")
	}
	return v
}

// putBucketPolicy stores a bucket policy; service checks it (its size,
// its grammar, and that it is not public while public access is blocked).
func (h *Handler) putBucketPolicy(rq *request) error {
	body, err := h.readBody(rq)
	if err != nil {
		return err
	}
	if err := h.svc.PutBucketPolicy(rq.ctx, rq.bucket, body, rq.s3); err != nil {
		return err
	}
	if rq.s3 {
		return writeEmpty(rq, http.StatusNoContent)
	}
	return writeEmpty(rq, http.StatusOK)
}

func noSuchPolicy(rq *request) error {
	if rq.s3 {
		return oss.ErrNoSuchBucketPolicy.WithMessage("The bucket policy does not exist")
	}
	return oss.ErrNoSuchBucketPolicy
}

// getBucketPolicy returns the policy exactly as it was put.
func (h *Handler) getBucketPolicy(rq *request) error {
	if rq.b.Policy == "" {
		return noSuchPolicy(rq)
	}
	hdr := rq.w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(rq.b.Policy)))
	rq.w.WriteHeader(http.StatusOK)
	_, err := rq.w.Write([]byte(rq.b.Policy))
	return err
}

func (h *Handler) deleteBucketPolicy(rq *request) error {
	if err := h.svc.DeleteBucketPolicy(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

type policyStatusXML struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	IsPublic bool     `xml:"IsPublic"`
}

// getBucketPolicyStatus says whether the policy is public by OSS's
// definition (an Allow to "*" unrestricted by source IP or VPC).
func (h *Handler) getBucketPolicyStatus(rq *request) error {
	if rq.b.Policy == "" {
		return noSuchPolicy(rq)
	}
	p, err := h.svc.BucketPolicy(rq.b)
	if err != nil {
		return err
	}
	return h.writeXML(rq, http.StatusOK, policyStatusXML{IsPublic: p.Public()})
}
