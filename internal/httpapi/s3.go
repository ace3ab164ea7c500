package httpapi

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
)

// ossd answers the Amazon S3 API on the same port as OSS, as OSS itself
// does. An S3 request is told apart by its signature (AWS SigV4 or V2, in
// the header or the query) or, unsigned, by x-amz-* headers. It then runs
// through the same handlers as an OSS request: its x-amz-* headers are
// mapped to their x-oss-* twins once the signature is checked, and on the
// way out x-oss-* headers become x-amz-*, XML documents get S3's
// namespace, errors lose OSS's EC fields, and storage classes take S3's
// names.

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// isS3 reports whether r speaks the S3 dialect.
func isS3(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(a, "AWS4-HMAC-SHA256"), strings.HasPrefix(a, "AWS "):
		return true
	case a != "":
		return false
	}
	q := r.URL.RawQuery
	if strings.Contains(q, "X-Amz-Algorithm=") || strings.Contains(q, "AWSAccessKeyId=") {
		return true
	}
	if strings.Contains(q, "OSSAccessKeyId=") || strings.Contains(q, "x-oss-signature") {
		return false
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "X-Amz-") {
			return true
		}
	}
	return false
}

// s3HeaderIn maps S3 request headers to the OSS headers handlers read.
// Only called after the signature is verified (it signed the originals).
var s3HeaderIn = map[string]string{
	"X-Amz-Copy-Source":                     "X-Oss-Copy-Source",
	"X-Amz-Copy-Source-Range":               "X-Oss-Copy-Source-Range",
	"X-Amz-Copy-Source-If-Match":            "X-Oss-Copy-Source-If-Match",
	"X-Amz-Copy-Source-If-None-Match":       "X-Oss-Copy-Source-If-None-Match",
	"X-Amz-Copy-Source-If-Modified-Since":   "X-Oss-Copy-Source-If-Modified-Since",
	"X-Amz-Copy-Source-If-Unmodified-Since": "X-Oss-Copy-Source-If-Unmodified-Since",
	"X-Amz-Metadata-Directive":              "X-Oss-Metadata-Directive",
	"X-Amz-Tagging":                         "X-Oss-Tagging",
	"X-Amz-Tagging-Directive":               "X-Oss-Tagging-Directive",
	"X-Amz-Server-Side-Encryption":          "X-Oss-Server-Side-Encryption",
}

// s3ClassIn and s3ClassOut translate storage class names.
var s3ClassIn = map[string]string{
	"STANDARD": "Standard", "STANDARD_IA": "IA", "ONEZONE_IA": "IA", "INTELLIGENT_TIERING": "Standard",
	"REDUCED_REDUNDANCY": "Standard", "GLACIER_IR": "Archive", "GLACIER": "Archive", "DEEP_ARCHIVE": "ColdArchive",
}

var s3ClassOut = map[string]string{
	"Standard": "STANDARD", "IA": "STANDARD_IA", "Archive": "GLACIER", "ColdArchive": "DEEP_ARCHIVE", "DeepColdArchive": "DEEP_ARCHIVE",
}

// class renders a storage class in the request's dialect.
func (rq *request) class(c string) string {
	if rq.s3 {
		if s, ok := s3ClassOut[c]; ok {
			return s
		}
	}
	return c
}

// translateS3Request rewrites an S3 request's headers into OSS's.
func translateS3Request(rq *request) {
	h := rq.r.Header
	for k, vs := range h {
		switch {
		case strings.HasPrefix(k, "X-Amz-Meta-"):
			h["X-Oss-Meta-"+k[len("X-Amz-Meta-"):]] = vs
		case k == "X-Amz-Acl":
			if rq.key != "" {
				h["X-Oss-Object-Acl"] = vs
			} else {
				h["X-Oss-Acl"] = vs
			}
		case k == "X-Amz-Storage-Class":
			if c, ok := s3ClassIn[strings.ToUpper(vs[0])]; ok {
				h.Set("X-Oss-Storage-Class", c)
			} else {
				h["X-Oss-Storage-Class"] = vs
			}
		case k == "X-Amz-Copy-Source":
			// S3 allows "bucket/key" without the leading slash.
			v := vs[0]
			if !strings.HasPrefix(v, "/") {
				v = "/" + v
			}
			h.Set("X-Oss-Copy-Source", v)
		default:
			if o, ok := s3HeaderIn[k]; ok {
				h[o] = vs
			}
		}
	}
}

// s3HeaderOut names the S3 twin of each OSS response header; "" drops it.
var s3HeaderOut = map[string]string{
	"X-Oss-Request-Id":                    "X-Amz-Request-Id",
	"X-Oss-Version-Id":                    "X-Amz-Version-Id",
	"X-Oss-Delete-Marker":                 "X-Amz-Delete-Marker",
	"X-Oss-Copy-Source-Version-Id":        "X-Amz-Copy-Source-Version-Id",
	"X-Oss-Server-Side-Encryption":        "X-Amz-Server-Side-Encryption",
	"X-Oss-Server-Side-Encryption-Key-Id": "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
	"X-Oss-Tagging-Count":                 "X-Amz-Tagging-Count",
	"X-Oss-Ec":                            "",
	"X-Oss-Err":                           "",
}

// translateS3Response rewrites response headers for an S3 client, just
// before they are written.
func translateS3Response(rq *request, hdr http.Header) {
	for k, vs := range hdr {
		if !strings.HasPrefix(k, "X-Oss-") {
			continue
		}
		switch {
		case strings.HasPrefix(k, "X-Oss-Meta-"):
			delete(hdr, k)
			hdr["X-Amz-Meta-"+k[len("X-Oss-Meta-"):]] = vs
		case k == "X-Oss-Storage-Class":
			hdr.Set("X-Amz-Storage-Class", rq.class(vs[0]))
			delete(hdr, k)
		default:
			if to, ok := s3HeaderOut[k]; ok {
				delete(hdr, k)
				if to != "" {
					hdr[to] = vs
				}
			}
		}
	}
	hdr.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString([]byte(rq.id)))
}

// withS3Namespace adds S3's xmlns to the root element of an encoded
// document (after the XML declaration).
func withS3Namespace(doc []byte) []byte {
	start := bytes.IndexByte(doc, '<')
	if bytes.HasPrefix(doc[start:], []byte("<?xml")) {
		if end := bytes.Index(doc, []byte("?>")); end >= 0 {
			next := bytes.IndexByte(doc[end:], '<')
			if next < 0 {
				return doc
			}
			start = end + next
		}
	}
	i := start + 1
	for i < len(doc) && doc[i] != '>' && doc[i] != ' ' && doc[i] != '/' {
		i++
	}
	out := make([]byte, 0, len(doc)+len(s3Namespace)+10)
	out = append(out, doc[:i]...)
	out = append(out, ` xmlns="`+s3Namespace+`"`...)
	return append(out, doc[i:]...)
}
