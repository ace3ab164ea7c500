package auth

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// The vectors of spec §6 (docs: /work/shared/spec/oss-logging.md), which
// come from the SDKs' own signer tests. ak=ak, sk=sk throughout.

func keys(pairs ...string) Lookup {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return func(ak string) (string, bool) { s, ok := m[ak]; return s, ok }
}

var akSK = keys("ak", "sk")

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func httpTime(s string) time.Time {
	t, err := http.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

// asOSS unwraps an error from Verify, failing if it is not *oss.Error.
func asOSS(t *testing.T, err error) *oss.Error {
	t.Helper()
	var e *oss.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *oss.Error", err, err)
	}
	return e
}

func extra(e *oss.Error, name string) string {
	for _, kv := range e.Extra {
		if kv.Name == name {
			return kv.Value
		}
	}
	return ""
}

// withAuth returns a copy of in whose Authorization is replaced.
func withAuth(in Input, authz string) Input {
	in.Header = in.Header.Clone()
	in.Header.Set("Authorization", authz)
	return in
}

const v1VectorDate = "Wed, 28 Dec 2022 10:27:41 GMT"

func TestV1HeaderVectors(t *testing.T) {
	now := httpTime(v1VectorDate)
	full := func() http.Header {
		return hdr("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==", "Content-Type", "text/html",
			"x-oss-meta-author", "alice", "x-oss-meta-magic", "abracadabra",
			"x-oss-date", v1VectorDate, "Date", v1VectorDate)
	}
	tests := []struct {
		name, method, bucket, key, query string
		header                           http.Header
		stringToSign, authz              string
	}{
		{"1 object", "PUT", "examplebucket", "nelson", "", full(),
			"PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson",
			"OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M="},
		{"2 acl", "PUT", "examplebucket", "nelson", "acl", full(),
			"PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson?acl",
			"OSS ak:/afkugFbmWDQ967j1vr6zygBLQk="},
		{"3 non-sub-resource dropped", "GET", "examplebucket", "", "resourceGroup&non-resousce=null",
			hdr("x-oss-date", v1VectorDate, "Date", v1VectorDate),
			"GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?resourceGroup",
			"OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs="},
		{"4 sorted", "GET", "examplebucket", "", "resourceGroup&acl",
			hdr("x-oss-date", v1VectorDate, "Date", v1VectorDate),
			"GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?acl&resourceGroup",
			"OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk="},
		{"5 logging", "PUT", "examplebucket", "", "logging",
			hdr("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", "Content-Type", "application/xml", "Date", v1VectorDate),
			"PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\napplication/xml\nWed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?logging",
			"OSS ak:gnISH659ANBEnbG0TOL1s25eTLc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Method: tt.method, Bucket: tt.bucket, Key: tt.key, RawQuery: tt.query,
				Header: tt.header, Now: now, Region: "cn-hangzhou"}
			res, err := Verify(withAuth(in, tt.authz), akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res != (Result{AccessKeyID: "ak", Version: VersionV1}) {
				t.Errorf("result = %+v", res)
			}
			// A wrong signature must fail and show the server's StringToSign.
			_, err = Verify(withAuth(in, "OSS ak:AAAAAAAAAAAAAAAAAAAAAAAAAAA="), akSK)
			e := asOSS(t, err)
			if e.Code != "SignatureDoesNotMatch" || extra(e, "StringToSign") != tt.stringToSign {
				t.Errorf("mismatch error %s, StringToSign\n%q\nwant\n%q", e.Code, extra(e, "StringToSign"), tt.stringToSign)
			}
			// Our own signer must produce the vector.
			req, _ := http.NewRequest(tt.method, "http://h/?"+tt.query, nil)
			req.Header = tt.header.Clone()
			SignV1(req, tt.bucket, tt.key, "ak", "sk", now)
			if got := req.Header.Get("Authorization"); got != tt.authz {
				t.Errorf("SignV1 = %q, want %q", got, tt.authz)
			}
		})
	}
}

func TestV1PresignVectors(t *testing.T) {
	tests := []struct {
		name, key, query, token string
		expires                 int64
	}{
		{"versionId", "key",
			"Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D&versionId=versionId", "", 1699807420},
		{"sts and plus in key", "key+123",
			"Expires=1699808204&OSSAccessKeyId=ak&Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D&security-token=token&versionId=versionId", "token", 1699808204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Method: "GET", Bucket: "bucket", Key: tt.key, RawQuery: tt.query,
				Header: http.Header{}, Now: time.Unix(tt.expires-60, 0), Region: "cn-hangzhou"}
			res, err := Verify(in, akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := Result{AccessKeyID: "ak", Version: VersionV1, Presigned: true, SecurityToken: tt.token}
			if res != want {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			// At Expires it still works; one second later it has expired.
			in.Now = time.Unix(tt.expires, 0)
			if _, err := Verify(in, akSK); err != nil {
				t.Errorf("at Expires: %v", err)
			}
			in.Now = time.Unix(tt.expires+1, 0)
			_, err = Verify(in, akSK)
			e := asOSS(t, err)
			if e.Code != "AccessDenied" || e.Message != "Request has expired." ||
				extra(e, "Expires") != isoTime(time.Unix(tt.expires, 0)) || extra(e, "ServerTime") != isoTime(in.Now) {
				t.Errorf("expired: %+v", e)
			}
		})
	}
}

// v4VectorRequest is the request of V2SDK's TestV4AuthHeader family.
func v4VectorRequest(signTime time.Time, contentType string, extraHeader ...string) Input {
	v := url.Values{}
	v.Add("param1", "value1")
	v.Add("+param1", "value3")
	v.Add("|param1", "value4")
	v.Add("+param2", "")
	v.Add("|param2", "")
	v.Add("param2", "")
	h := hdr("x-oss-head1", "value", "abc", "value", "ZAbc", "value", "XYZ", "value",
		"content-type", contentType)
	for i := 0; i+1 < len(extraHeader); i += 2 {
		h.Add(extraHeader[i], extraHeader[i+1])
	}
	return Input{Method: "PUT", Bucket: "bucket", Key: "1234+-/123/1.txt", RawQuery: v.Encode(),
		Header: h, Now: signTime, Region: "cn-hangzhou"}
}

func TestV4HeaderVectors(t *testing.T) {
	headerAt := func(sec int64, token string) Input {
		st := time.Unix(sec, 0).UTC()
		in := v4VectorRequest(st, "text/plain", "x-oss-content-sha256", "UNSIGNED-PAYLOAD",
			"x-oss-date", st.Format("20060102T150405Z"), "Date", st.Format(http.TimeFormat))
		if token != "" {
			in.Header.Set("x-oss-security-token", token)
		}
		return in
	}
	loggingAt := httpTime(v1VectorDate)
	logging := Input{Method: "GET", Bucket: "examplebucket", RawQuery: "logging", Now: loggingAt, Region: "cn-hangzhou",
		Header: hdr("Content-Type", "application/xml", "x-oss-content-sha256", "UNSIGNED-PAYLOAD",
			"x-oss-date", "20221228T102741Z", "Date", v1VectorDate)}

	tests := []struct {
		name       string
		in         Input
		authz      string
		token      string
		additional []string
		canonical  string // "" when the spec gives none
	}{
		{"basic", headerAt(1702743657, ""),
			"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe",
			"", nil,
			"PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n" +
				"content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"},
		{"sts token", headerAt(1702784856, "token"),
			"OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea",
			"token", nil, ""},
		{"additional headers", headerAt(1702747512, ""),
			"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
			"", []string{"ZAbc", "abc"}, ""},
		{"additional headers incl. default-signed and absent", headerAt(1702747512, ""),
			"OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
			"", []string{"x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"}, ""},
		{"logging", logging,
			"OSS4-HMAC-SHA256 Credential=ak/20221228/cn-hangzhou/oss/aliyun_v4_request,Signature=8338a4822ab63f328462091e69ea8c342dbc7c30bc590e1002c093f92c4bd8a7",
			"", nil,
			"GET\n/examplebucket/\nlogging\ncontent-type:application/xml\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20221228T102741Z\n\n\nUNSIGNED-PAYLOAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Verify(withAuth(tt.in, tt.authz), akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := (Result{AccessKeyID: "ak", Version: VersionV4, SecurityToken: tt.token}); res != want {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			if tt.canonical != "" {
				bad := tt.authz[:len(tt.authz)-64] + "0000000000000000000000000000000000000000000000000000000000000000"
				_, err := Verify(withAuth(tt.in, bad), akSK)
				e := asOSS(t, err)
				if got := extra(e, "CanonicalRequest"); got != tt.canonical {
					t.Errorf("CanonicalRequest\n%q\nwant\n%q", got, tt.canonical)
				}
			}
			// Our signer reproduces the vector from the same request.
			req, _ := http.NewRequest(tt.in.Method, "http://h/?"+tt.in.RawQuery, nil)
			req.Header = tt.in.Header.Clone()
			SignV4(req, tt.in.Bucket, tt.in.Key, "ak", "sk", "cn-hangzhou", tt.in.Now, tt.additional...)
			if got := req.Header.Get("Authorization"); got != tt.authz {
				t.Errorf("SignV4 = %q, want %q", got, tt.authz)
			}
		})
	}
}

// TestV4CloudBoxOutOfScope: the CloudBox vector signs with product
// "oss-cloudbox", which ossd does not serve; its credential is refused as
// malformed instead of being checked.
func TestV4CloudBoxOutOfScope(t *testing.T) {
	st := time.Unix(1702743657, 0).UTC()
	in := v4VectorRequest(st, "text/plain", "x-oss-content-sha256", "UNSIGNED-PAYLOAD",
		"x-oss-date", st.Format("20060102T150405Z"))
	in.Region = "cb-123"
	_, err := Verify(withAuth(in, "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43"), akSK)
	if e := asOSS(t, err); e.Code != "InvalidArgument" || e.Status != 400 {
		t.Errorf("cloudbox: %+v", e)
	}
}

func TestV4PresignVectors(t *testing.T) {
	// Raw queries as V1SDK's TestAuthV4Query* print them; V2SDK's
	// TestV4AuthQuery* assert the same signatures.
	tests := []struct {
		name, query, token string
		signTime           int64
	}{
		{"basic", "%2Bparam1=value3&%2Bparam2&param1=value1&param2&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20231217T025437Z&x-oss-expires=599&x-oss-signature=a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe&x-oss-signature-version=OSS4-HMAC-SHA256&%7Cparam1=value4&%7Cparam2",
			"", 1702781677},
		{"sts token", "%2Bparam1=value3&%2Bparam2&param1=value1&param2&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20231217T035628Z&x-oss-expires=599&x-oss-security-token=token&x-oss-signature=3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5&x-oss-signature-version=OSS4-HMAC-SHA256&%7Cparam1=value4&%7Cparam2",
			"token", 1702785388},
		{"additional headers", "%2Bparam1=value3&%2Bparam2&param1=value1&param2&x-oss-additional-headers=abc%3Bzabc&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20231217T033009Z&x-oss-expires=599&x-oss-signature=6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7&x-oss-signature-version=OSS4-HMAC-SHA256&%7Cparam1=value4&%7Cparam2",
			"", 1702783809},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := v4VectorRequest(time.Unix(tt.signTime+100, 0), "application/octet-stream")
			in.RawQuery = tt.query
			res, err := Verify(in, akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := (Result{AccessKeyID: "ak", Version: VersionV4, Presigned: true, SecurityToken: tt.token}); res != want {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			in.Now = time.Unix(tt.signTime+599, 0)
			if _, err := Verify(in, akSK); err != nil {
				t.Errorf("at expiry: %v", err)
			}
			in.Now = time.Unix(tt.signTime+600, 0)
			_, err = Verify(in, akSK)
			if e := asOSS(t, err); e.Message != "Request has expired." || extra(e, "Expires") != isoTime(time.Unix(tt.signTime+599, 0)) {
				t.Errorf("expired: %+v", e)
			}
			in.Now = time.Unix(tt.signTime-16*60, 0)
			_, err = Verify(in, akSK)
			if e := asOSS(t, err); e.EC != "0002-00000235" {
				t.Errorf("before x-oss-date: %+v", e)
			}
		})
	}
}
