package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Round trips: what our signers produce verifies, and changing any one
// signed element of the request afterwards is rejected.

var rtNow = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

// mode signs a base request one of the four ways.
type mode struct {
	name      string
	presigned bool
	version   string
	sign      func(r *http.Request, bucket, key, ak, sk string)
}

var modes = []mode{
	{"v1 header", false, VersionV1, func(r *http.Request, b, k, ak, sk string) { SignV1(r, b, k, ak, sk, rtNow) }},
	{"v1 presign", true, VersionV1, func(r *http.Request, b, k, ak, sk string) { PresignV1(r, b, k, ak, sk, rtNow.Add(time.Hour)) }},
	{"v4 header", false, VersionV4, func(r *http.Request, b, k, ak, sk string) {
		SignV4(r, b, k, ak, sk, testRegion, rtNow, "Cache-Control")
	}},
	{"v4 presign", true, VersionV4, func(r *http.Request, b, k, ak, sk string) {
		PresignV4(r, b, k, ak, sk, testRegion, rtNow, time.Hour, "Cache-Control")
	}},
	{"v2 header", false, VersionV2, func(r *http.Request, b, k, ak, sk string) { SignV2(r, b, k, ak, sk, rtNow, "Cache-Control") }},
	{"v2 presign", true, VersionV2, func(r *http.Request, b, k, ak, sk string) {
		PresignV2(r, b, k, ak, sk, rtNow.Add(time.Hour), "Cache-Control")
	}},
}

const (
	rtBucket = "examplebucket"
	rtKey    = "dir/ü key+1.txt"
)

// signedInput builds the base request, signs it in mode m and returns the
// Input a server would see.
func signedInput(m mode) Input {
	req, _ := http.NewRequest("PUT", "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/x", nil)
	req.URL.RawQuery = "uploadId=abc&partNumber=3&prefix=p%20q"
	req.Header = hdr("Content-Type", "text/plain", "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==",
		"x-oss-meta-author", "alice", "x-oss-security-token", "tok", "Cache-Control", "no-cache", "User-Agent", "ua/1")
	m.sign(req, rtBucket, rtKey, "ak", "sk")
	return Input{Method: req.Method, Bucket: rtBucket, Key: rtKey, RawQuery: req.URL.RawQuery,
		Header: req.Header, Now: rtNow.Add(time.Minute), Region: testRegion}
}

func clone(in Input) Input {
	in.Header = in.Header.Clone()
	return in
}

func TestRoundTrip(t *testing.T) {
	type mutation struct {
		name   string
		modes  string // which modes it applies to: "" all, else a substring match ("v1", "v4", "header", "presign")
		apply  func(in *Input)
		accept bool // the element is not signed in this mode
	}
	mutations := []mutation{
		{name: "method", apply: func(in *Input) { in.Method = "POST" }},
		{name: "bucket", apply: func(in *Input) { in.Bucket = "otherbucket" }},
		{name: "key", apply: func(in *Input) { in.Key = "dir/ü key+2.txt" }},
		{name: "key to bucket level", apply: func(in *Input) { in.Key = "" }},
		{name: "signed header value", apply: func(in *Input) { in.Header.Set("x-oss-meta-author", "mallory") }},
		{name: "signed header added", apply: func(in *Input) { in.Header.Set("x-oss-meta-extra", "1") }},
		{name: "signed header removed", apply: func(in *Input) { in.Header.Del("x-oss-meta-author") }},
		{name: "content-type", apply: func(in *Input) { in.Header.Set("Content-Type", "text/html") }},
		{name: "content-md5", apply: func(in *Input) { in.Header.Set("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==") }},
		{name: "security token", apply: func(in *Input) { in.Header.Set("x-oss-security-token", "other") }},
		{name: "additional header", modes: "v4", apply: func(in *Input) { in.Header.Set("Cache-Control", "max-age=1") }},
		{name: "sub-resource value", apply: func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "uploadId", "abd") }},
		{name: "sub-resource added", apply: func(in *Input) { in.RawQuery += "&acl" }},
		{name: "sub-resource removed", apply: func(in *Input) { in.RawQuery = dropParams(in.RawQuery, "partNumber") }},
		{name: "x-oss query param added", apply: func(in *Input) { in.RawQuery += "&x-oss-process=image%2Fresize" }},
		{name: "plain query param", modes: "v4", apply: func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "prefix", "pq") }},
		{name: "plain query param (unsigned in v1)", modes: "v1", accept: true,
			apply: func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "prefix", "pq") }},
		{name: "unsigned header", accept: true, apply: func(in *Input) { in.Header.Set("User-Agent", "other") }},
		{name: "additional header (unsigned in v1)", modes: "v1", accept: true,
			apply: func(in *Input) { in.Header.Set("Cache-Control", "max-age=1") }},
		{name: "Date", modes: "v1 header", apply: func(in *Input) { in.Header.Set("Date", rtNow.Add(time.Second).Format(http.TimeFormat)) }},
		{name: "x-oss-date", modes: "v4 header", apply: func(in *Input) { in.Header.Set("x-oss-date", rtNow.Add(time.Second).Format(iso8601Basic)) }},
		{name: "Expires", modes: "v1 presign", apply: func(in *Input) {
			in.RawQuery = replaceParam(in.RawQuery, "Expires", "1709535968")
		}},
		{name: "x-oss-date param", modes: "v4 presign", apply: func(in *Input) {
			in.RawQuery = replaceParam(in.RawQuery, "x-oss-date", rtNow.Add(time.Second).Format(iso8601Basic))
		}},
		{name: "x-oss-expires", modes: "v4 presign", apply: func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "x-oss-expires", "7200") }},
		{name: "additional headers list", modes: "v4 presign", apply: func(in *Input) {
			in.RawQuery = replaceParam(in.RawQuery, "x-oss-additional-headers", "user-agent")
		}},
		{name: "payload hash", modes: "v4", apply: func(in *Input) {
			in.Header.Set("x-oss-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		}},
		{name: "additional header", modes: "v2", apply: func(in *Input) { in.Header.Set("Cache-Control", "max-age=1") }},
		{name: "plain query param", modes: "v2", apply: func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "prefix", "pq") }},
		{name: "Date", modes: "v2 header", apply: func(in *Input) { in.Header.Set("Date", rtNow.Add(time.Second).Format(http.TimeFormat)) }},
		{name: "x-oss-expires", modes: "v2 presign", apply: func(in *Input) {
			in.RawQuery = replaceParam(in.RawQuery, "x-oss-expires", "1709535968")
		}},
		{name: "additional headers list", modes: "v2 presign", apply: func(in *Input) {
			in.RawQuery = replaceParam(in.RawQuery, "x-oss-additional-headers", "user-agent")
		}},
		{name: "secret", apply: func(in *Input) {}}, // verified below with another lookup
		{name: "ak swapped", apply: func(in *Input) {
			if v, ok := first(parseQuery(in.RawQuery), "OSSAccessKeyId"); ok && v == "ak" {
				in.RawQuery = replaceParam(in.RawQuery, "OSSAccessKeyId", "ak2")
			}
			if a := in.Header.Get("Authorization"); a != "" {
				in.Header.Set("Authorization", strings.Replace(a, "ak", "ak2", 1))
			}
			if v, ok := first(parseQuery(in.RawQuery), "x-oss-access-key-id"); ok && v == "ak" {
				in.RawQuery = replaceParam(in.RawQuery, "x-oss-access-key-id", "ak2")
			}
			if v, ok := first(parseQuery(in.RawQuery), "x-oss-credential"); ok {
				in.RawQuery = replaceParam(in.RawQuery, "x-oss-credential", strings.Replace(v, "ak", "ak2", 1))
			}
		}},
		{name: "noop", accept: true, apply: func(in *Input) {}},
		{name: "query reordered", accept: true, apply: setQueryReversed},
	}
	twoKeys := keys("ak", "sk", "ak2", "sk2")
	for _, m := range modes {
		for _, mu := range mutations {
			if mu.modes != "" && !strings.Contains(m.name, mu.modes) {
				continue
			}
			t.Run(m.name+"/"+mu.name, func(t *testing.T) {
				in := clone(signedInput(m))
				res, err := Verify(in, twoKeys)
				if err != nil {
					t.Fatalf("unmodified request refused: %v %q", err, asOSS(t, err).Extra)
				}
				if res.AccessKeyID != "ak" || res.Version != m.version || res.Presigned != m.presigned {
					t.Fatalf("result %+v", res)
				}
				mu.apply(&in)
				lookup := twoKeys
				if mu.name == "secret" {
					lookup = keys("ak", "sk-other")
				}
				_, err = Verify(in, lookup)
				if mu.accept && err != nil {
					t.Errorf("unsigned change refused: %v", err)
				}
				if !mu.accept && err == nil {
					t.Errorf("signed change accepted")
				}
			})
		}
	}
}

func setQueryReversed(in *Input) {
	ps := splitRaw(in.RawQuery)
	for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
		ps[i], ps[j] = ps[j], ps[i]
	}
	in.RawQuery = strings.Join(ps, "&")
}

func splitRaw(raw string) []string {
	if raw == "" {
		return nil
	}
	return strings.Split(raw, "&")
}

// replaceParam sets the value of the first parameter whose decoded key is
// name, encoding the new value canonically.
func replaceParam(raw, name, value string) string {
	ps := splitRaw(raw)
	for i, p := range ps {
		k, _, _ := strings.Cut(p, "=")
		if dk, _ := decodeQueryPart(k); dk == name {
			ps[i] = k + "=" + escape(value, true)
			break
		}
	}
	return strings.Join(ps, "&")
}

// TestV1DateFromXOssDate: ali-oss sends no Date header and signs the
// x-oss-date value in the Date line; that must verify.
func TestV1DateFromXOssDate(t *testing.T) {
	now := time.Date(2026, 11, 24, 23, 48, 51, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	sts := "PUT\n\n\n" + date + "\nx-oss-date:" + date + "\n/probe-b/"
	mac := hmac.New(sha1.New, []byte("sk"))
	mac.Write([]byte(sts))
	req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1/probe-b/", nil)
	req.Header.Set("x-oss-date", date)
	req.Header.Set("Authorization", "OSS ak:"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	_, err := Verify(Input{Method: "PUT", Bucket: "probe-b", RawQuery: "", Header: req.Header, Now: now, Region: "cn-hangzhou"},
		func(string) (string, bool) { return "sk", true })
	if err != nil {
		t.Fatalf("x-oss-date-only V1 request rejected: %v", err)
	}
}
