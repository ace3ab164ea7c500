package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// OSS V2 vectors, produced by Python oss2 2.19.1's AuthV2 itself
// (/work/shared/clients/python-oss2) with its clock pinned to
// v1VectorDate (Unix 1672223261); ak=ak, sk=sk. StringToSign is oss2's own.
func TestV2HeaderVectors(t *testing.T) {
	now := httpTime(v1VectorDate)
	tests := []struct {
		name, method, bucket, key, query string
		header                           http.Header
		stringToSign, authz              string
	}{
		{"object put", "PUT", "examplebucket", "nelson", "",
			hdr("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==", "Content-Type", "text/html", "x-oss-meta-author", "alice", "x-oss-meta-magic", "abracadabra"),
			"PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n\n%2Fexamplebucket%2Fnelson",
			"OSS2 AccessKeyId:ak,Signature:OlBBwZKfdN8/0KZa7cCMVxCF6I51UQa2D+x/slJMMZ4="},
		{"every parameter signed, key encoded whole", "GET", "examplebucket", "dir/ü key+1.txt", "acl&prefix=p%20q%26r&x-oss-process=a%2Fb",
			hdr("Range", "bytes=0-9", "x-oss-meta-author", "alice"),
			"GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nrange:bytes=0-9\nx-oss-meta-author:alice\nrange\n%2Fexamplebucket%2Fdir%2F%C3%BC%20key%2B1.txt?acl&prefix=p%20q%26r&x-oss-process=a%2Fb",
			"OSS2 AccessKeyId:ak,AdditionalHeaders:range,Signature:k3SMHdnHXOvibLRYt1vGclZaND3+jqkX0UeikQBcmqY="},
		{"service", "GET", "", "", "", hdr(),
			"GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n\n%2F",
			"OSS2 AccessKeyId:ak,Signature:lOQkEEN/7inCZPFPLCDUyupr/4H8P59+7JyWPKZPvwE="},
		// oss2 lists AdditionalHeaders in set order; the string to sign sorts them.
		{"additional headers unsorted", "GET", "examplebucket", "", "max-keys=10&prefix=a~b",
			hdr("If-Modified-Since", "Wed, 28 Dec 2022 10:00:00 GMT", "Range", "bytes=0-1"),
			"GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nif-modified-since:Wed, 28 Dec 2022 10:00:00 GMT\nrange:bytes=0-1\nif-modified-since;range\n%2Fexamplebucket%2F?max-keys=10&prefix=a~b",
			"OSS2 AccessKeyId:ak,AdditionalHeaders:range;if-modified-since,Signature:X1ZwiNhJdCn4M+JMqJvIIgKrLbhZjcDLAzzZamgg2vU="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			h.Set("Date", v1VectorDate)
			in := Input{Method: tt.method, Bucket: tt.bucket, Key: tt.key, RawQuery: tt.query, Header: h, Now: now, Region: "cn-hangzhou"}
			res, err := Verify(withAuth(in, tt.authz), akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res != (Result{AccessKeyID: "ak", Version: VersionV2}) {
				t.Errorf("result = %+v", res)
			}
			bad := tt.authz[:strings.Index(tt.authz, "Signature:")] + "Signature:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
			_, err = Verify(withAuth(in, bad), akSK)
			e := wantErr(t, err, "SignatureDoesNotMatch", 403, "0002-00000040", "StringToSign", "StringToSignBytes", "SignatureProvided")
			if got := extra(e, "StringToSign"); got != tt.stringToSign {
				t.Errorf("StringToSign\n%q\nwant\n%q", got, tt.stringToSign)
			}
			// Our own signer produces oss2's signature.
			req, _ := http.NewRequest(tt.method, "http://h/?"+tt.query, nil)
			req.Header = tt.header.Clone()
			SignV2(req, tt.bucket, tt.key, "ak", "sk", now, "range", "if-modified-since")
			_, wantSig, _ := strings.Cut(tt.authz, "Signature:")
			if _, gotSig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature:"); gotSig != wantSig {
				t.Errorf("SignV2 = %q, want signature %q", req.Header.Get("Authorization"), wantSig)
			}
		})
	}
}

func TestV2PresignVectors(t *testing.T) {
	now := httpTime(v1VectorDate)
	tests := []struct {
		name, key, query string
		header           http.Header
	}{
		{"response override", "dir/ü key+1.txt",
			"response-content-type=text%2Fplain&x-oss-signature-version=OSS2&x-oss-expires=1672226861&x-oss-access-key-id=ak&x-oss-signature=1Q6pburc%2B%2BrL10DS%2BcuzlCrMWtwMgOlKs%2FOxgACjbBg%3D", hdr()},
		{"sts token and additional header", "k",
			"security-token=tok&x-oss-signature-version=OSS2&x-oss-expires=1672223321&x-oss-access-key-id=ak&x-oss-additional-headers=range&x-oss-signature=DxghhyJWbpfelQh3ftx%2FB0BygojYqpHQza%2FYHzzboiw%3D",
			hdr("Range", "bytes=0-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Method: "GET", Bucket: "examplebucket", Key: tt.key, RawQuery: tt.query, Header: tt.header, Now: now, Region: "cn-hangzhou"}
			res, err := Verify(in, akSK)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKeyID != "ak" || res.Version != VersionV2 || !res.Presigned {
				t.Errorf("result = %+v", res)
			}
			if strings.Contains(tt.query, "security-token=tok") && res.SecurityToken != "tok" {
				t.Errorf("SecurityToken = %q", res.SecurityToken)
			}
			// Refused once x-oss-expires has passed.
			late := in
			late.Now = now.Add(2 * time.Hour)
			_, err = Verify(late, akSK)
			wantErr(t, err, "AccessDenied", 403, "0002-00000069", "Expires", "ServerTime")
			// Tampering with any parameter breaks it: V2 signs them all.
			tampered := in
			tampered.RawQuery += "&max-keys=1"
			_, err = Verify(tampered, akSK)
			wantErr(t, err, "SignatureDoesNotMatch", 403, "0002-00000040", "StringToSign")
		})
	}
}

func TestV2Errors(t *testing.T) {
	now := httpTime(v1VectorDate)
	base := Input{Method: "GET", Bucket: "b", Key: "k", Header: hdr("Date", v1VectorDate), Now: now, Region: "cn-hangzhou"}
	tests := []struct {
		name, authz, code string
		status            int
		ec                string
	}{
		{"unknown field", "OSS2 AccessKeyId:ak,Signature:x,UnknownKey:ABC", "InvalidArgument", 400, "0002-00000104"},
		{"not key:value", "OSS2 AccessKeyId:ak,Signature", "InvalidArgument", 400, "0002-00000104"},
		{"field twice", "OSS2 AccessKeyId:ak,AccessKeyId:ak,Signature:x", "InvalidArgument", 400, "0002-00000104"},
		{"no access key", "OSS2 AdditionalHeaders:host,Signature:x", "InvalidArgument", 400, "0002-00000105"},
		{"empty access key", "OSS2 AccessKeyId:,Signature:x", "InvalidArgument", 400, "0002-00000106"},
		{"access key with CR", "OSS2 AccessKeyId:a\rk,Signature:x", "InvalidArgument", 400, "0002-00000107"},
		{"no signature", "OSS2 AccessKeyId:ak", "InvalidArgument", 400, "0002-00000104"},
		{"empty additional name", "OSS2 AccessKeyId:ak,AdditionalHeaders:host;,Signature:x", "InvalidArgument", 400, "0002-00000104"},
		{"additional header absent", "OSS2 AccessKeyId:ak,AdditionalHeaders:range,Signature:x", "InvalidArgument", 400, "0002-00000112"},
		{"additional header with underscore", "OSS2 AccessKeyId:ak,AdditionalHeaders:x_y,Signature:x", "InvalidArgument", 400, "0002-00000112"},
		{"unknown key", "OSS2 AccessKeyId:nobody,Signature:x", "InvalidAccessKeyId", 403, "0002-00000902"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(withAuth(base, tt.authz), akSK)
			wantErr(t, err, tt.code, tt.status, tt.ec)
		})
	}
	t.Run("skewed", func(t *testing.T) {
		in := base
		in.Now = now.Add(time.Hour)
		_, err := Verify(withAuth(in, "OSS2 AccessKeyId:ak,Signature:x"), akSK)
		wantErr(t, err, "RequestTimeTooSkewed", 403, "", "RequestTime", "ServerTime")
	})
	t.Run("host as additional header comes from Input.Host", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://b.example/k", nil)
		req.Header.Set("Host", "b.example")
		SignV2(req, "b", "k", "ak", "sk", now, "host")
		in := base
		in.Header = req.Header.Clone()
		in.Header.Del("Host")
		in.Host = "b.example"
		if _, err := Verify(in, akSK); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		in.Host = "c.example"
		_, err := Verify(in, akSK)
		wantErr(t, err, "SignatureDoesNotMatch", 403, "")
	})

	presigned := func() Input {
		req, _ := http.NewRequest("GET", "http://h/", nil)
		PresignV2(req, "b", "k", "ak", "sk", now.Add(time.Hour))
		in := base
		in.Header = http.Header{}
		in.RawQuery = req.URL.RawQuery
		return in
	}
	if _, err := Verify(presigned(), akSK); err != nil {
		t.Fatalf("presigned: %v", err)
	}
	queryTests := []struct {
		name   string
		edit   func(string) string
		code   string
		status int
		ec     string
	}{
		{"no x-oss-access-key-id", func(r string) string { return dropParams(r, "x-oss-access-key-id") }, "AccessDenied", 403, "0002-00000115"},
		{"no x-oss-expires", func(r string) string { return dropParams(r, "x-oss-expires") }, "AccessDenied", 403, "0002-00000113"},
		{"empty x-oss-expires", func(r string) string { return replaceParam(r, "x-oss-expires", "") }, "AccessDenied", 403, "0002-00000114"},
		{"x-oss-expires not a number", func(r string) string { return replaceParam(r, "x-oss-expires", "abc") }, "AccessDenied", 403, "0002-00000070"},
		{"no x-oss-signature", func(r string) string { return dropParams(r, "x-oss-signature") }, "AccessDenied", 403, "0002-00000068"},
		{"x-oss-signature twice", func(r string) string { return r + "&x-oss-signature=x" }, "AccessDenied", 403, ""},
		{"unknown version", func(r string) string { return replaceParam(r, "x-oss-signature-version", "OSS3") }, "InvalidArgument", 400, ""},
		{"expires moved", func(r string) string { return replaceParam(r, "x-oss-expires", "1672226862") }, "SignatureDoesNotMatch", 403, "0002-00000040"},
	}
	for _, tt := range queryTests {
		t.Run("url "+tt.name, func(t *testing.T) {
			in := presigned()
			in.RawQuery = tt.edit(in.RawQuery)
			_, err := Verify(in, akSK)
			wantErr(t, err, tt.code, tt.status, tt.ec)
		})
	}
	t.Run("url and header together", func(t *testing.T) {
		_, err := Verify(withAuth(presigned(), "OSS2 AccessKeyId:ak,Signature:x"), akSK)
		wantErr(t, err, "InvalidArgument", 400, "")
	})
}

// TestV1XOSSDate: oss2's Auth signs x-oss-date in the date line when the
// request carries it (it sets Date too); the Go SDKs sign Date. Both verify.
// The vector comes from oss2 2.19.1 with its clock pinned to v1VectorDate.
func TestV1XOSSDate(t *testing.T) {
	now := httpTime(v1VectorDate)
	const xDate = "Wed, 28 Dec 2022 10:28:00 GMT"
	h := hdr("Date", v1VectorDate, "x-oss-date", xDate)
	in := Input{Method: "GET", Bucket: "examplebucket", Key: "k", Header: h, Now: now, Region: "cn-hangzhou"}
	res, err := Verify(withAuth(in, "OSS ak:"+oss2XDateSig), akSK)
	if err != nil || res.Version != VersionV1 {
		t.Fatalf("oss2 form: %+v %v", res, err)
	}
	// The Go SDKs' form (Date line) still verifies.
	req, _ := http.NewRequest("GET", "http://h/", nil)
	req.Header.Set("x-oss-date", xDate)
	SignV1(req, "examplebucket", "k", "ak", "sk", now)
	in.Header = req.Header
	if _, err := Verify(in, akSK); err != nil {
		t.Fatalf("Go SDK form: %v", err)
	}
	// A wrong signature shows the x-oss-date form, the one OSS documents.
	_, err = Verify(withAuth(in, "OSS ak:AAAAAAAAAAAAAAAAAAAAAAAAAAA="), akSK)
	e := wantErr(t, err, "SignatureDoesNotMatch", 403, "", "StringToSign")
	if want := "GET\n\n\n" + xDate + "\nx-oss-date:" + xDate + "\n/examplebucket/k"; extra(e, "StringToSign") != want {
		t.Errorf("StringToSign %q, want %q", extra(e, "StringToSign"), want)
	}
}

// oss2XDateSig is oss2's Auth signature of GET /examplebucket/k with Date
// v1VectorDate and x-oss-date 10:28:00.
const oss2XDateSig = "7KvLjpsrrNPIpvzOaCKzP/3azfE="
