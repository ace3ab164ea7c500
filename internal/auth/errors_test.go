package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

func TestAnonymous(t *testing.T) {
	for _, q := range []string{"", "acl", "prefix=a&Expires=123", "x-oss-process=image%2Fresize"} {
		res, err := Verify(Input{Method: "GET", Bucket: "b", RawQuery: q, Header: http.Header{"Date": {"junk"}}}, nil)
		if err != nil || res != (Result{Version: VersionAnonymous}) {
			t.Errorf("query %q: %+v, %v", q, res, err)
		}
	}
}

// wantErr checks the wire identity of an error and the extras it must carry.
func wantErr(t *testing.T, err error, code string, status int, ec string, extras ...string) *oss.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", code)
	}
	e := asOSS(t, err)
	if e.Code != code || e.Status != status || (ec != "" && e.EC != ec) {
		t.Errorf("got %s %d %s (%s); want %s %d %s", e.Code, e.Status, e.EC, e.Message, code, status, ec)
	}
	for _, x := range extras {
		if extra(e, x) == "" {
			t.Errorf("%s: missing extra element %s in %v", code, x, e.Extra)
		}
	}
	return e
}

func TestUnknownAccessKey(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			_, err := Verify(signedInput(m), keys("someone-else", "sk"))
			e := wantErr(t, err, "InvalidAccessKeyId", 403, oss.ErrInvalidAccessKeyID.EC, "OSSAccessKeyId")
			if extra(e, "OSSAccessKeyId") != "ak" {
				t.Errorf("OSSAccessKeyId = %q", extra(e, "OSSAccessKeyId"))
			}
			// A nil Lookup knows no keys.
			_, err = Verify(signedInput(m), nil)
			wantErr(t, err, "InvalidAccessKeyId", 403, "")
		})
	}
}

func TestSignatureMismatchElements(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			_, err := Verify(signedInput(m), keys("ak", "wrong"))
			want := []string{"OSSAccessKeyId", "SignatureProvided", "StringToSign", "StringToSignBytes"}
			if m.version == VersionV4 {
				want = append(want, "CanonicalRequest")
			}
			e := wantErr(t, err, "SignatureDoesNotMatch", 403, "", want...)
			if m.version == VersionV1 && !strings.HasPrefix(extra(e, "StringToSign"), "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n") {
				t.Errorf("StringToSign = %q", extra(e, "StringToSign"))
			}
			if got := extra(e, "StringToSignBytes"); !strings.HasPrefix(got, "50 55 54 0a") && !strings.HasPrefix(got, "4f 53 53 34") {
				t.Errorf("StringToSignBytes = %q", got)
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	for _, m := range modes {
		if m.presigned {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			base := signedInput(m)
			for _, d := range []time.Duration{MaxSkew, -MaxSkew, 14 * time.Minute} {
				in := clone(base)
				in.Now = rtNow.Add(d)
				if _, err := Verify(in, akSK); err != nil {
					t.Errorf("skew %v refused: %v", d, err)
				}
			}
			for _, d := range []time.Duration{MaxSkew + time.Second, -MaxSkew - time.Second, 24 * time.Hour} {
				in := clone(base)
				in.Now = rtNow.Add(d)
				_, err := Verify(in, akSK)
				e := wantErr(t, err, "RequestTimeTooSkewed", 403, oss.ErrRequestTimeTooSkewed.EC, "RequestTime", "ServerTime", "MaxAllowedSkewMilliseconds")
				if extra(e, "RequestTime") != "2024-03-04T05:06:07.000Z" || extra(e, "ServerTime") != isoTime(in.Now) {
					t.Errorf("times: %v", e.Extra)
				}
			}
		})
	}
}

func TestDateHeaders(t *testing.T) {
	v1 := signedInput(modes[0])
	v4 := signedInput(modes[2])
	t.Run("v1 missing date", func(t *testing.T) {
		in := clone(v1)
		in.Header.Del("Date")
		_, err := Verify(in, akSK)
		wantErr(t, err, "AccessDenied", 403, oss.ErrMissingDateHeader.EC)
	})
	t.Run("v1 bad date", func(t *testing.T) {
		in := clone(v1)
		in.Header.Set("Date", "yesterday")
		_, err := Verify(in, akSK)
		wantErr(t, err, "AccessDenied", 403, "0002-00000502")
	})
	t.Run("v1 x-oss-date sets the time, Date is still signed", func(t *testing.T) {
		// A signed request whose x-oss-date (signed as an x-oss header) is
		// 20 minutes off its Date: the skew check must use x-oss-date.
		req, _ := http.NewRequest("GET", "http://h/", nil)
		req.Header.Set("x-oss-date", rtNow.Add(20*time.Minute).Format(iso8601Basic))
		SignV1(req, "b", "", "ak", "sk", rtNow)
		in := Input{Method: "GET", Bucket: "b", Header: req.Header, Now: rtNow, Region: testRegion}
		_, err := Verify(in, akSK)
		wantErr(t, err, "RequestTimeTooSkewed", 403, "")
		in.Now = rtNow.Add(20 * time.Minute)
		if _, err := Verify(in, akSK); err != nil {
			t.Errorf("x-oss-date in range refused: %v", err)
		}
	})
	t.Run("v4 missing dates", func(t *testing.T) {
		in := clone(v4)
		in.Header.Del("Date")
		in.Header.Del("x-oss-date")
		_, err := Verify(in, akSK)
		wantErr(t, err, "AccessDenied", 403, oss.ErrMissingDateHeader.EC)
	})
	t.Run("v4 x-oss-date in HTTP form", func(t *testing.T) {
		in := clone(v4)
		in.Header.Set("x-oss-date", rtNow.Format(http.TimeFormat))
		_, err := Verify(in, akSK)
		wantErr(t, err, "AccessDenied", 403, "0002-00000502")
	})
	t.Run("v4 credential date is not the request date", func(t *testing.T) {
		in := clone(v4)
		in.Header.Set("Authorization", strings.Replace(in.Header.Get("Authorization"), "/20240304/", "/20240305/", 1))
		_, err := Verify(in, akSK)
		wantErr(t, err, "InvalidArgument", 400, "0002-00000223")
	})
}

func TestRegion(t *testing.T) {
	in := signedInput(modes[2])
	in.Region = "cn-beijing"
	_, err := Verify(in, akSK)
	e := wantErr(t, err, "InvalidArgument", 400, "0002-00000228", "ArgumentName", "ArgumentValue")
	if e.Message != "The signing region in credential is invalid." {
		t.Errorf("message %q", e.Message)
	}
	in = signedInput(modes[3])
	in.Region = "cn-beijing"
	_, err = Verify(in, akSK)
	wantErr(t, err, "InvalidArgument", 400, "0002-00000226", "ArgumentName", "ArgumentValue")
}

func TestMalformedAuthorization(t *testing.T) {
	const cred = "Credential=ak/20240304/cn-hangzhou/oss/aliyun_v4_request"
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		authz string
		code  string
	}{
		{"OSS", "InvalidArgument"},
		{"OSS ", "InvalidArgument"},
		{"OSS ak", "InvalidArgument"},
		{"OSS :sig", "InvalidArgument"},
		{"OSS ak:", "InvalidArgument"},
		{"OSS a k:sig", "InvalidArgument"},
		{"OSS ak:si:g", "InvalidArgument"},
		{"oss ak:sig", "InvalidArgument"},
		{"Basic YWs6c2s=", "InvalidArgument"},
		{"Bearer x", "InvalidArgument"},
		{"", "InvalidArgument"},
		{"AWS ak:sig", "InvalidArgument"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=x", "AuthorizationHeaderMalformed"},
		{"OSS4-HMAC-SHA256", "InvalidArgument"},
		{"OSS4-HMAC-SHA256 ", "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + "," + sig + "," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + ",SignedHeaders=host," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + "," + sig + ",", "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + ",Signature=xyz", "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + ",AdditionalHeaders=a b," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 " + cred + ",AdditionalHeaders=a;;b," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/oss/abc," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/oss," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=ak/2024-03-04/cn-hangzhou/oss/aliyun_v4_request," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=ak/20241304/cn-hangzhou/oss/aliyun_v4_request," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=/20240304/cn-hangzhou/oss/aliyun_v4_request," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=a\rk/20240304/cn-hangzhou/oss/aliyun_v4_request," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/s3/aliyun_v4_request," + sig, "InvalidArgument"},
		{"OSS4-HMAC-SHA256 Credential=a/k/20240304/cn-hangzhou/oss/aliyun_v4_request," + sig, "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.authz, func(t *testing.T) {
			in := Input{Method: "GET", Bucket: "b", Header: hdr("Authorization", tt.authz, "Date", rtNow.Format(http.TimeFormat)),
				Now: rtNow, Region: testRegion}
			_, err := Verify(in, akSK)
			e := wantErr(t, err, tt.code, 400, "")
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		in := signedInput(modes[0])
		in.Header.Add("Authorization", in.Header.Get("Authorization"))
		_, err := Verify(in, akSK)
		wantErr(t, err, "InvalidArgument", 400, "")
	})
	t.Run("header and query signatures", func(t *testing.T) {
		in := signedInput(modes[0])
		in.RawQuery += "&OSSAccessKeyId=ak&Expires=1&Signature=x"
		_, err := Verify(in, akSK)
		wantErr(t, err, "InvalidArgument", 400, "")
	})
}

func TestPresignParameters(t *testing.T) {
	v1 := signedInput(modes[1])
	v4 := signedInput(modes[3])
	tests := []struct {
		name   string
		base   Input
		edit   func(raw string) string
		code   string
		status int
		ec     string
	}{
		{"v1 no Signature", v1, func(r string) string { return dropParams(r, "Signature") }, "AccessDenied", 403, "0002-00000068"},
		{"v1 no Expires", v1, func(r string) string { return dropParams(r, "Expires") }, "AccessDenied", 403, "0002-00000068"},
		{"v1 no OSSAccessKeyId", v1, func(r string) string { return dropParams(r, "OSSAccessKeyId") }, "AccessDenied", 403, "0002-00000068"},
		{"v1 Expires not a number", v1, func(r string) string { return replaceParam(r, "Expires", "abc") }, "AccessDenied", 403, "0002-00000070"},
		{"v1 Signature twice", v1, func(r string) string { return r + "&Signature=x" }, "AccessDenied", 403, ""},
		{"v4 no x-oss-signature", v4, func(r string) string { return dropParams(r, "x-oss-signature") }, "AccessDenied", 403, ""},
		{"v4 no x-oss-date", v4, func(r string) string { return dropParams(r, "x-oss-date") }, "AccessDenied", 403, ""},
		{"v4 no version", v4, func(r string) string { return dropParams(r, "x-oss-signature-version") }, "AccessDenied", 403, ""},
		{"v4 URL relabelled OSS2", v4, func(r string) string { return replaceParam(r, "x-oss-signature-version", "OSS2") }, "AccessDenied", 403, "0002-00000115"},
		{"unknown signature version", v4, func(r string) string { return replaceParam(r, "x-oss-signature-version", "OSS3") }, "InvalidArgument", 400, ""},
		{"v4 expires zero", v4, func(r string) string { return replaceParam(r, "x-oss-expires", "0") }, "AccessDenied", 403, "0002-00000070"},
		{"v4 expires over 7 days", v4, func(r string) string { return replaceParam(r, "x-oss-expires", "604801") }, "AccessDenied", 403, "0002-00000070"},
		{"v4 expires not a number", v4, func(r string) string { return replaceParam(r, "x-oss-expires", "1h") }, "AccessDenied", 403, "0002-00000070"},
		{"v4 date not ISO", v4, func(r string) string { return replaceParam(r, "x-oss-date", "2024-03-04T05:06:07Z") }, "AccessDenied", 403, "0002-00000502"},
		{"v4 bad credential", v4, func(r string) string { return replaceParam(r, "x-oss-credential", "ak/20240304/cn-hangzhou/oss") }, "InvalidArgument", 400, "0002-00000224"},
		{"v4 bad additional headers", v4, func(r string) string { return replaceParam(r, "x-oss-additional-headers", "a b") }, "InvalidArgument", 400, "0002-00000224"},
		{"aws presign", v4, func(string) string { return "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x" }, "AuthorizationQueryParametersError", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := clone(tt.base)
			in.RawQuery = tt.edit(in.RawQuery)
			_, err := Verify(in, akSK)
			wantErr(t, err, tt.code, tt.status, tt.ec)
		})
	}
}

func TestPayloadHash(t *testing.T) {
	const h = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
	req, _ := http.NewRequest("PUT", "http://h/", nil)
	req.Header.Set("x-oss-content-sha256", h)
	SignV4(req, "b", "k", "ak", "sk", testRegion, rtNow)
	in := Input{Method: "PUT", Bucket: "b", Key: "k", Header: req.Header, Now: rtNow, Region: testRegion}
	res, err := Verify(in, akSK)
	if err != nil {
		t.Fatal(err)
	}
	if res.PayloadSHA256 != strings.ToLower(h) {
		t.Errorf("PayloadSHA256 = %q", res.PayloadSHA256)
	}
	in = clone(in)
	in.Header.Set("x-oss-content-sha256", "STREAMING-UNSIGNED")
	_, err = Verify(in, akSK)
	wantErr(t, err, "InvalidArgument", 400, "")

	// V1 never declares a payload hash, even if the header is there.
	req, _ = http.NewRequest("PUT", "http://h/", nil)
	req.Header.Set("x-oss-content-sha256", h)
	SignV1(req, "b", "k", "ak", "sk", rtNow)
	res, err = Verify(Input{Method: "PUT", Bucket: "b", Key: "k", Header: req.Header, Now: rtNow}, akSK)
	if err != nil || res.PayloadSHA256 != "" {
		t.Errorf("v1: %+v %v", res, err)
	}
}

// TestV4SignedHost: net/http keeps Host out of r.Header, so Verify takes it
// from Input.Host when the client signed it.
func TestV4SignedHost(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://b.oss.example/k", nil)
	req.Header.Set("Host", "b.oss.example")
	SignV4(req, "b", "k", "ak", "sk", testRegion, rtNow, "host")
	if !strings.Contains(req.Header.Get("Authorization"), "AdditionalHeaders=host,") {
		t.Fatalf("host not signed: %s", req.Header.Get("Authorization"))
	}
	h := req.Header.Clone()
	h.Del("Host")
	in := Input{Method: "GET", Bucket: "b", Key: "k", Header: h, Host: "b.oss.example", Now: rtNow, Region: testRegion}
	if _, err := Verify(in, akSK); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	in.Host = "evil.example"
	if _, err := Verify(in, akSK); err == nil {
		t.Error("changed Host accepted")
	}
}

// TestRepeatedHeaders pins the decision on repeated x-oss-* headers: the
// V2SDK form (values joined with ',') and the V1SDK form (first value)
// both verify; anything else does not.
func TestRepeatedHeaders(t *testing.T) {
	for _, version := range []string{VersionV1, VersionV4} {
		t.Run(version, func(t *testing.T) {
			sign := func(values ...string) http.Header {
				req, _ := http.NewRequest("PUT", "http://h/", nil)
				for _, v := range values {
					req.Header.Add("x-oss-meta-a", v)
				}
				if version == VersionV1 {
					SignV1(req, "b", "k", "ak", "sk", rtNow)
				} else {
					SignV4(req, "b", "k", "ak", "sk", testRegion, rtNow)
				}
				return req.Header
			}
			verify := func(h http.Header, values ...string) error {
				h = h.Clone()
				h.Del("x-oss-meta-a")
				for _, v := range values {
					h.Add("x-oss-meta-a", v)
				}
				_, err := Verify(Input{Method: "PUT", Bucket: "b", Key: "k", Header: h, Now: rtNow, Region: testRegion}, akSK)
				return err
			}
			if err := verify(sign("1", "2"), "1", "2"); err != nil {
				t.Errorf("joined form refused: %v", err)
			}
			if err := verify(sign("1"), "1", "2"); err != nil {
				t.Errorf("first-value form refused: %v", err)
			}
			if err := verify(sign("2"), "1", "2"); err == nil {
				t.Error("second value alone accepted")
			}
			if err := verify(sign("1", "2"), "2", "1"); err == nil {
				t.Error("reordered values accepted")
			}
		})
	}
}
