package auth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// awsHeaderInput is a SigV4 header-signed GET of b/k at rtNow by ak/sk.
func awsHeaderInput() Input {
	in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/b/k", Host: "h", Now: rtNow, Region: testRegion,
		Header: hdr("x-amz-date", rtNow.Format(iso8601Basic), "x-amz-content-sha256", emptyHash)}
	return signAWS4(in, "ak", "sk")
}

// awsPresignInput is a SigV4 presigned GET of b/k at rtNow by ak/sk,
// valid for an hour.
func awsPresignInput() Input {
	c := aws4Credential{ak: "ak", date: rtNow.Format(dateOnly), region: testRegion, service: "s3"}
	raw := appendParams("", "X-Amz-Algorithm", aws4Algorithm, "X-Amz-Credential", "ak/"+c.scope(),
		"X-Amz-Date", rtNow.Format(iso8601Basic), "X-Amz-Expires", "3600", "X-Amz-SignedHeaders", "host")
	in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/b/k", Host: "h", Now: rtNow, Region: testRegion,
		Header: http.Header{}, RawQuery: raw}
	cr := "GET\n/b/k\n" + aws4Queries(parseQuery(raw), true)[0] + "\nhost:h\n\nhost\n" + AWSUnsignedPayload
	sig := newChunkSigner("sk", c, "", "").hmac(aws4StringToSign(rtNow.Format(iso8601Basic), c, cr))
	in.RawQuery += "&X-Amz-Signature=" + sig
	return in
}

// awsV2Input is a SigV2 header-signed GET of b/k at rtNow by ak/sk.
func awsV2Input() Input {
	date := rtNow.Format(http.TimeFormat)
	in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/k", Host: "b.h", Now: rtNow, Region: testRegion,
		Header: hdr("Date", date, "x-amz-meta-a", "1")}
	in.Header.Set("Authorization", "AWS ak:"+sign2("sk", "GET\n\n\n"+date+"\nx-amz-meta-a:1\n/b/k"))
	return in
}

func TestAWSBaseInputsVerify(t *testing.T) {
	for name, in := range map[string]Input{"header": awsHeaderInput(), "presign": awsPresignInput(), "v2": awsV2Input()} {
		if _, err := Verify(in, akSK); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAWS4MalformedAuthorization(t *testing.T) {
	const cred = "Credential=ak/20240304/cn-hangzhou/s3/aws4_request"
	const sh = "SignedHeaders=host;x-amz-content-sha256;x-amz-date"
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		authz, code, msg string
	}{
		{"AWS4-HMAC-SHA256", "AuthorizationHeaderMalformed", "three components"},
		{"AWS4-HMAC-SHA256 ", "AuthorizationHeaderMalformed", ""},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh, "AuthorizationHeaderMalformed", "three components"},
		{"AWS4-HMAC-SHA256 " + cred + "," + sig, "AuthorizationHeaderMalformed", "three components"},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig + "," + sig, "AuthorizationHeaderMalformed", "repeated"},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig + ",", "AuthorizationHeaderMalformed", ""},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig + ",Extra=1", "AuthorizationHeaderMalformed", ""},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh + ",Signature=x", "AuthorizationHeaderMalformed", "64 hex"},
		{"AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=," + sig, "AuthorizationHeaderMalformed", "SignedHeaders"},
		{"AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=host;;a," + sig, "AuthorizationHeaderMalformed", "SignedHeaders"},
		{"AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=ho st," + sig, "AuthorizationHeaderMalformed", "SignedHeaders"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/s3," + sh + "," + sig, "AuthorizationHeaderMalformed", "Credential is mal-formed"},
		{"AWS4-HMAC-SHA256 Credential=ak/2024-03-04/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "Credential is mal-formed"},
		{"AWS4-HMAC-SHA256 Credential=ak/20241304/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "Credential is mal-formed"},
		{"AWS4-HMAC-SHA256 Credential=/20240304/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "Credential is mal-formed"},
		{"AWS4-HMAC-SHA256 Credential=a/k/20240304/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "Credential is mal-formed"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/ec2/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "incorrect service"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/s3/aliyun_v4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "incorrect terminal"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/eu-west-1/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "the region 'eu-west-1' is wrong; expecting 'cn-hangzhou'"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240305/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "AuthorizationHeaderMalformed", "Invalid credential date"},
		{"AWS4-HMAC-SHA256 Credential=nobody/20240304/cn-hangzhou/s3/aws4_request," + sh + "," + sig, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."},
		{"AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig, "SignatureDoesNotMatch", "The request signature we calculated"},
		{"AWS4-HMAC-SHA256 Credential=ak/20240304/us-east-1/s3/aws4_request," + sh + "," + sig, "SignatureDoesNotMatch", ""},
		{"AWS", "InvalidArgument", "Expected AwsAccessKeyId:signature"},
		{"AWS ak", "InvalidArgument", "Expected AwsAccessKeyId:signature"},
		{"AWS :bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "InvalidArgument", ""},
		{"AWS ak:", "InvalidArgument", ""},
		{"AWS ak:sig", "InvalidArgument", ""},
		{"AWS ak:bWq2s1WEIj+Ydj0vQ697zp+IXM=", "InvalidArgument", ""},
		{"AWS nobody:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "InvalidAccessKeyId", ""},
		{"AWS ak:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "SignatureDoesNotMatch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.authz, func(t *testing.T) {
			in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/b/k", Host: "h", Now: rtNow, Region: testRegion,
				Header: hdr("Authorization", tt.authz, "x-amz-date", rtNow.Format(iso8601Basic), "Date", rtNow.Format(http.TimeFormat),
					"x-amz-content-sha256", emptyHash)}
			_, err := Verify(in, akSK)
			e := wantErr(t, err, tt.code, asOSSStatus(tt.code), "")
			if !strings.Contains(e.Message, tt.msg) || e.EC != "" {
				t.Errorf("message %q (EC %q), want %q", e.Message, e.EC, tt.msg)
			}
			switch tt.code {
			case "InvalidAccessKeyId":
				if extra(e, "AWSAccessKeyId") != "nobody" {
					t.Errorf("extras %v", e.Extra)
				}
			case "AuthorizationHeaderMalformed":
				if strings.Contains(tt.msg, "region") && extra(e, "Region") != testRegion {
					t.Errorf("Region element %v", e.Extra)
				}
			}
		})
	}
}

func TestAWS4HeaderChecks(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(in *Input)
		code   string
		extras []string
	}{
		{"skew late", func(in *Input) { in.Now = rtNow.Add(MaxSkew + time.Second) }, "RequestTimeTooSkewed",
			[]string{"RequestTime", "ServerTime", "MaxAllowedSkewMilliseconds"}},
		{"skew early", func(in *Input) { in.Now = rtNow.Add(-MaxSkew - time.Second) }, "RequestTimeTooSkewed", nil},
		{"skew edge", func(in *Input) { in.Now = rtNow.Add(MaxSkew) }, "", nil},
		{"no date", func(in *Input) { in.Header.Del("x-amz-date") }, "AccessDenied", nil},
		{"bad x-amz-date", func(in *Input) { in.Header.Set("x-amz-date", "2024-03-04T05:06:07Z") }, "AccessDenied", nil},
		{"no x-amz-content-sha256", func(in *Input) { in.Header.Del("x-amz-content-sha256") }, "InvalidRequest", nil},
		{"bad x-amz-content-sha256", func(in *Input) { in.Header.Set("x-amz-content-sha256", "abc") }, "InvalidArgument", []string{"ArgumentName"}},
		{"unsigned x-amz header", func(in *Input) { in.Header.Set("x-amz-acl", "public-read") }, "AccessDenied", []string{"HeadersNotSigned"}},
		{"unsigned header", func(in *Input) { in.Header.Set("Cache-Control", "no-cache") }, "", nil},
		{"host not signed", func(in *Input) {
			a := in.Header.Get("Authorization")
			in.Header.Set("Authorization", strings.Replace(a, "SignedHeaders=host;", "SignedHeaders=", 1))
		}, "AccessDenied", []string{"HeadersNotSigned"}},
		{"path not the resource", func(in *Input) { in.Key = "other" }, "InvalidURI", nil},
		{"virtual-hosted path", func(in *Input) { in.Path = "/k" }, "SignatureDoesNotMatch", nil},
		{"no Lookup", nil, "InvalidAccessKeyId", nil},
		{"header and query", func(in *Input) { in.RawQuery = "X-Amz-Signature=x" }, "InvalidArgument", nil},
		{"two Authorization headers", func(in *Input) { in.Header.Add("Authorization", in.Header.Get("Authorization")) }, "InvalidArgument", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := awsHeaderInput()
			lookup := akSK
			if tt.edit == nil {
				lookup = nil
			} else {
				tt.edit(&in)
			}
			res, err := Verify(in, lookup)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if res.PayloadSHA256 != emptyHash || res.Version != VersionAWS4 {
					t.Errorf("%+v", res)
				}
				return
			}
			wantErr(t, err, tt.code, asOSSStatus(tt.code), "", tt.extras...)
		})
	}
}

func TestAWS4DateHeaderOnly(t *testing.T) {
	// With only Date, the timestamp signed is Date in ISO 8601 basic form.
	in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/b/k", Host: "h", Now: rtNow, Region: testRegion,
		Header: hdr("Date", rtNow.Format(http.TimeFormat), "x-amz-content-sha256", emptyHash, "x-amz-date", rtNow.Format(iso8601Basic))}
	in = signAWS4(in, "ak", "sk")
	// signAWS4 signed x-amz-date's value; drop the header but keep the
	// same SignedHeaders minus x-amz-date.
	a := strings.Replace(in.Header.Get("Authorization"), ";x-amz-date", "", 1)
	in.Header.Del("x-amz-date")
	c := aws4Credential{ak: "ak", date: rtNow.Format(dateOnly), region: testRegion, service: "s3"}
	signed, _ := parseSignedHeaders("date;host;x-amz-content-sha256")
	cr := "GET\n/b/k\n\n" + aws4CanonicalHeaders(in, signed) + "\ndate;host;x-amz-content-sha256\n" + emptyHash
	sig := newChunkSigner("sk", c, "", "").hmac(aws4StringToSign(rtNow.Format(iso8601Basic), c, cr))
	a = a[:strings.Index(a, "Signature=")] + "Signature=" + sig
	in.Header.Set("Authorization", a)
	if _, err := Verify(in, akSK); err != nil {
		t.Fatalf("%v\n%v", err, asOSS(t, err).Extra)
	}
}

func TestAWS4PresignParameters(t *testing.T) {
	tests := []struct {
		name string
		edit func(raw string) string
		code string
		msg  string
	}{
		{"no signature", func(r string) string { return dropParams(r, "X-Amz-Signature") }, "AuthorizationQueryParametersError", "requires the X-Amz-Algorithm"},
		{"no credential", func(r string) string { return dropParams(r, "X-Amz-Credential") }, "AuthorizationQueryParametersError", "requires"},
		{"no date", func(r string) string { return dropParams(r, "X-Amz-Date") }, "AuthorizationQueryParametersError", "requires"},
		{"no expires", func(r string) string { return dropParams(r, "X-Amz-Expires") }, "AuthorizationQueryParametersError", "requires"},
		{"no signed headers", func(r string) string { return dropParams(r, "X-Amz-SignedHeaders") }, "AuthorizationQueryParametersError", "requires"},
		{"only algorithm and signature", func(string) string { return "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x" }, "AuthorizationQueryParametersError", "requires"},
		{"repeated", func(r string) string { return r + "&X-Amz-Expires=1" }, "AuthorizationQueryParametersError", "more than once"},
		{"algorithm", func(r string) string { return replaceParam(r, "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }, "AuthorizationQueryParametersError", "only supports"},
		{"date form", func(r string) string { return replaceParam(r, "X-Amz-Date", "2024-03-04T05:06:07Z") }, "AuthorizationQueryParametersError", "ISO8601"},
		{"expires not a number", func(r string) string { return replaceParam(r, "X-Amz-Expires", "1h") }, "AuthorizationQueryParametersError", "should be a number"},
		{"expires negative", func(r string) string { return replaceParam(r, "X-Amz-Expires", "-1") }, "AuthorizationQueryParametersError", "non-negative"},
		{"expires over a week", func(r string) string { return replaceParam(r, "X-Amz-Expires", "604801") }, "AuthorizationQueryParametersError", "less than a week"},
		{"expires overflow", func(r string) string { return replaceParam(r, "X-Amz-Expires", "99999999999999999999") }, "AuthorizationQueryParametersError", "less than a week"},
		{"credential", func(r string) string { return replaceParam(r, "X-Amz-Credential", "ak/20240304/cn-hangzhou/s3") }, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed"},
		{"credential date", func(r string) string {
			return replaceParam(r, "X-Amz-Credential", "ak/20240305/cn-hangzhou/s3/aws4_request")
		}, "AuthorizationQueryParametersError", "Invalid credential date"},
		{"region", func(r string) string {
			return replaceParam(r, "X-Amz-Credential", "ak/20240304/eu-west-1/s3/aws4_request")
		}, "AuthorizationQueryParametersError", "the region 'eu-west-1' is wrong"},
		{"signed headers", func(r string) string { return replaceParam(r, "X-Amz-SignedHeaders", "a b") }, "AuthorizationQueryParametersError", "X-Amz-SignedHeaders"},
		{"signature form", func(r string) string { return replaceParam(r, "X-Amz-Signature", "xyz") }, "AuthorizationQueryParametersError", "X-Amz-Signature"},
		{"unknown key", func(r string) string {
			return replaceParam(r, "X-Amz-Credential", "nobody/20240304/cn-hangzhou/s3/aws4_request")
		}, "InvalidAccessKeyId", ""},
		{"signature", func(r string) string { return replaceParam(r, "X-Amz-Signature", strings.Repeat("0", 64)) }, "SignatureDoesNotMatch", ""},
		{"expires shortened", func(r string) string { return replaceParam(r, "X-Amz-Expires", "60") }, "SignatureDoesNotMatch", ""},
		{"param added", func(r string) string { return r + "&versionId=1" }, "SignatureDoesNotMatch", ""},
		{"with OSS parameters", func(r string) string { return r + "&OSSAccessKeyId=ak" }, "InvalidArgument", ""},
		{"with SigV2 parameters", func(r string) string { return r + "&AWSAccessKeyId=ak" }, "InvalidArgument", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := awsPresignInput()
			in.RawQuery = tt.edit(in.RawQuery)
			_, err := Verify(in, akSK)
			e := wantErr(t, err, tt.code, asOSSStatus(tt.code), "")
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
	t.Run("headers", func(t *testing.T) {
		for _, tc := range []struct {
			name, header, value, code string
		}{
			{"unsigned x-amz header", "x-amz-acl", "public-read", "AccessDenied"},
			{"payload hash header", "x-amz-content-sha256", emptyHash, "SignatureDoesNotMatch"}, // signed UNSIGNED-PAYLOAD... and the hash too
			{"streaming", "x-amz-content-sha256", AWSStreamingSigned, "InvalidRequest"},
			{"bad payload hash", "x-amz-content-sha256", "zz", "InvalidArgument"},
			{"unsigned header", "Range", "bytes=0-1", ""},
		} {
			in := awsPresignInput()
			in.Header.Set(tc.header, tc.value)
			res, err := Verify(in, akSK)
			if tc.code == "" {
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			if tc.name == "payload hash header" {
				// UNSIGNED-PAYLOAD is also tried: the URL still verifies,
				// and the body is not checked against the unsigned header.
				if err != nil || res.PayloadSHA256 != "" {
					t.Errorf("%s: %+v %v", tc.name, res, err)
				}
				continue
			}
			wantErr(t, err, tc.code, asOSSStatus(tc.code), "")
		}
	})
}

func TestAWS2Checks(t *testing.T) {
	tests := []struct {
		name string
		edit func(in *Input)
		code string
	}{
		{"skew", func(in *Input) { in.Now = rtNow.Add(MaxSkew + time.Second) }, "RequestTimeTooSkewed"},
		{"no date", func(in *Input) { in.Header.Del("Date") }, "AccessDenied"},
		{"bad date", func(in *Input) { in.Header.Set("Date", "yesterday") }, "AccessDenied"},
		{"amz header changed", func(in *Input) { in.Header.Set("x-amz-meta-a", "2") }, "SignatureDoesNotMatch"},
		{"amz header added", func(in *Input) { in.Header.Set("x-amz-acl", "private") }, "SignatureDoesNotMatch"},
		{"content-type added", func(in *Input) { in.Header.Set("Content-Type", "text/plain") }, "SignatureDoesNotMatch"},
		{"sub-resource added", func(in *Input) { in.RawQuery = "acl" }, "SignatureDoesNotMatch"},
		{"cors sub-resource added", func(in *Input) { in.RawQuery = "cors" }, "SignatureDoesNotMatch"},
		{"other param added", func(in *Input) { in.RawQuery = "prefix=a" }, ""},
		{"unsigned header", func(in *Input) { in.Header.Set("User-Agent", "x") }, ""},
		{"key", func(in *Input) { in.Key, in.Path = "k2", "/k2" }, "SignatureDoesNotMatch"},
		{"bucket", func(in *Input) { in.Bucket = "c" }, "SignatureDoesNotMatch"},
		{"path not the resource", func(in *Input) { in.Path = "/other" }, "InvalidURI"},
		{"method", func(in *Input) { in.Method = "HEAD" }, "SignatureDoesNotMatch"},
		{"x-amz-date empties the Date line", func(in *Input) { in.Header.Set("x-amz-date", in.Header.Get("Date")) }, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := clone(awsV2Input())
			tt.edit(&in)
			res, err := Verify(in, akSK)
			if tt.code == "" {
				if err != nil || res.Version != VersionAWS2 {
					t.Fatalf("%+v %v", res, err)
				}
				return
			}
			wantErr(t, err, tt.code, asOSSStatus(tt.code), "")
		})
	}
}

func TestAWS2SubResourceForms(t *testing.T) {
	// "?uploads=" may be signed as "uploads" (S3) or "uploads=" (botocore).
	date := rtNow.Format(http.TimeFormat)
	for _, tc := range []struct{ query, resource string }{
		{"uploads=", "/b/k?uploads"},
		{"uploads=", "/b/k?uploads="},
		{"uploads", "/b/k?uploads"},
		{"cors", "/b/k?cors"},
		{"partNumber=2&uploadId=a%2Bb", "/b/k?partNumber=2&uploadId=a+b"},
		{"response-content-disposition=attachment%3B%20x&x-id=GetObject", "/b/k?response-content-disposition=attachment; x"},
	} {
		in := Input{Method: "GET", Bucket: "b", Key: "k", Path: "/b/k", Host: "h", Now: rtNow, Region: testRegion,
			RawQuery: tc.query, Header: hdr("Date", date)}
		in.Header.Set("Authorization", "AWS ak:"+sign2("sk", "GET\n\n\n"+date+"\n"+tc.resource))
		if _, err := Verify(in, akSK); err != nil {
			t.Errorf("%q signed as %q: %v", tc.query, tc.resource, err)
		}
	}
}

func TestAWS2Presign(t *testing.T) {
	exp := rtNow.Add(time.Hour).Unix()
	presign := func(query string, stringToSign string) Input {
		sig := sign2("sk", stringToSign)
		return Input{Method: "PUT", Bucket: "b", Key: "k", Path: "/k", Host: "b.h", Now: rtNow, Region: testRegion, Header: http.Header{},
			RawQuery: query + "&AWSAccessKeyId=ak&Expires=" + itoa(exp) + "&Signature=" + escape(sig, true)}
	}
	// botocore moves the signed x-amz-*, Content-Type and Content-MD5
	// headers into the query.
	in := presign("x-amz-security-token=tok&content-type=text%2Fplain&x-amz-acl=private",
		"PUT\n\ntext/plain\n"+itoa(exp)+"\nx-amz-acl:private\nx-amz-security-token:tok\n/b/k")
	res, err := Verify(in, akSK)
	if err != nil || res != (Result{AccessKeyID: "ak", Version: VersionAWS2, Presigned: true, SecurityToken: "tok"}) {
		t.Fatalf("%+v %v", res, err)
	}
	for _, tc := range []struct {
		name string
		edit func(in *Input)
		code string
	}{
		{"amz param changed", func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "x-amz-acl", "public-read") }, "SignatureDoesNotMatch"},
		{"amz header added", func(in *Input) { in.Header.Set("x-amz-meta-a", "1") }, "SignatureDoesNotMatch"},
		{"expired", func(in *Input) { in.Now = time.Unix(exp+1, 0) }, "AccessDenied"},
		{"no Signature", func(in *Input) { in.RawQuery = dropParams(in.RawQuery, "Signature") }, "AccessDenied"},
		{"no Expires", func(in *Input) { in.RawQuery = dropParams(in.RawQuery, "Expires") }, "AccessDenied"},
		{"Expires not a number", func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "Expires", "soon") }, "AccessDenied"},
		{"AWSAccessKeyId twice", func(in *Input) { in.RawQuery += "&AWSAccessKeyId=ak" }, "AccessDenied"},
		{"unknown key", func(in *Input) { in.RawQuery = replaceParam(in.RawQuery, "AWSAccessKeyId", "nobody") }, "InvalidAccessKeyId"},
		{"with OSS parameters", func(in *Input) { in.RawQuery += "&OSSAccessKeyId=ak" }, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := clone(in)
			tc.edit(&in)
			_, err := Verify(in, akSK)
			wantErr(t, err, tc.code, asOSSStatus(tc.code), "")
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPayloadMismatch(t *testing.T) {
	err := PayloadMismatch(Result{Version: VersionAWS4, PayloadSHA256: emptyHash}, "abc")
	e := wantErr(t, err, "XAmzContentSHA256Mismatch", 400, "", "ClientComputedContentSHA256", "S3ComputedContentSHA256")
	if extra(e, "ClientComputedContentSHA256") != emptyHash || extra(e, "S3ComputedContentSHA256") != "abc" {
		t.Errorf("%v", e.Extra)
	}
	err = PayloadMismatch(Result{Version: VersionV4, PayloadSHA256: emptyHash}, "abc")
	if !errors.Is(err, oss.ErrInvalidDigest) {
		t.Errorf("OSS V4: %v", err)
	}
}
