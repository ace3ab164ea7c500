package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ossd/ossd/internal/oss"
)

// FuzzAWSParseAuthorization: the AWS header parsers never panic, refuse
// with the right error, and what they accept survives a format/parse round
// trip unchanged.
func FuzzAWSParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-date,Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
		"Credential=ak/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host;X-Amz-Date;host, Signature=FE5F80F77D5FA3BECA038A248FF027D0445342FE2855DDC963176630326F1024",
		"Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024,Credential=a/20130524/r/s3/aws4_request,SignedHeaders=host",
		"Credential=,SignedHeaders=,Signature=", ",,", "=", "AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "a:b:c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ak, sig, err := parseAWS2Authorization(s); err == nil {
			if ak+":"+sig != s {
				t.Fatalf("v2 %q parsed as %q:%q", s, ak, sig)
			}
		} else if err.Code != "InvalidArgument" || err.Status != 400 {
			t.Fatalf("v2 error %+v", err)
		}
		a, err := parseAWS4Authorization(s)
		if err != nil {
			if err.Code != "AuthorizationHeaderMalformed" || err.Status != 400 {
				t.Fatalf("v4 error %+v", err)
			}
			return
		}
		formatted := "Credential=" + a.cred.ak + "/" + a.cred.scope() + ", SignedHeaders=" + strings.Join(a.signed, ";") + ", Signature=" + a.signature
		b, err := parseAWS4Authorization(formatted)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of %q: %q -> %+v, %v", s, formatted, b, err)
		}
		if !sort.StringsAreSorted(a.signed) || a.cred.service != "s3" {
			t.Fatalf("accepted %+v", a)
		}
	})
}

// FuzzAWSChunked encodes data in one of the three streaming modes, checks
// that it decodes back, then flips one byte: in the signed modes the
// reader must refuse, or return exactly the same data and trailers
// (only the hex case of a size or signature can change harmlessly). Raw
// bodies are decoded too. Nothing may panic, and errors from a reader over
// a bytes.Reader are always a 4xx *oss.Error.
func FuzzAWSChunked(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(5), uint8(0), uint32(3), uint8(1), []byte("5;chunk-signature=00\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte(strings.Repeat("x", 300)), uint16(64), uint8(1), uint32(200), uint8(0x20), []byte("0\r\n\r\n"))
	f.Add([]byte(""), uint16(1), uint8(2), uint32(0), uint8(0x41), []byte("1\r\na\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))
	f.Add([]byte("abc"), uint16(1), uint8(1), uint32(90), uint8(0x80), []byte("fffffffffffffff;chunk-signature=0\r\n"))
	modes := []string{AWSStreamingSigned, AWSStreamingSignedTrailer, AWSStreamingUnsignedTrailer}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, mi uint8, pos uint32, x uint8, raw []byte) {
		mode := modes[int(mi)%len(modes)]
		if len(data) > 4096 { // keep an execution fast: one HMAC per chunk
			data = data[:4096]
		}
		var names []string
		var trailers [][2]string
		if mode != AWSStreamingSigned {
			names = []string{"x-amz-checksum-crc32"}
			trailers = [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
		}
		s, cs := streamFor(mode, int64(len(data)), names...)
		body, _ := encodeChunked(data, max(int(chunk), 1), cs, trailers)
		got, trailer, err := readAllChunked(s, body)
		if err != nil || !bytes.Equal(got, data) || trailer.Get("x-amz-checksum-crc32") != trailerValue(trailers) {
			t.Fatalf("valid body: %d bytes, %v, %v", len(got), trailer, err)
		}
		check := func(err error) {
			if err == nil {
				return
			}
			var e *oss.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("error %T %v", err, err)
			}
		}
		if x != 0 {
			mut := bytes.Clone(body)
			mut[int(pos)%len(mut)] ^= x
			s2, _ := streamFor(mode, int64(len(data)), names...)
			got, trailer, err := readAllChunked(s2, mut)
			check(err)
			if err == nil && s2.Signed() && (!bytes.Equal(got, data) || trailer.Get("x-amz-checksum-crc32") != trailerValue(trailers)) {
				t.Fatalf("mutated signed body accepted: %q, %v", got, trailer)
			}
		}
		s3, _ := streamFor(mode, int64(len(data)), names...)
		_, _, err = readAllChunked(s3, raw)
		check(err)
		s4, _ := streamFor(mode, -1)
		_, _, err = readAllChunked(s4, raw)
		check(err)
	})
}

func trailerValue(tr [][2]string) string {
	if len(tr) == 0 {
		return ""
	}
	return tr[0][1]
}

// awsFuzzModes sign a request model one of the AWS ways.
var awsFuzzModes = []string{"aws4 header", "aws4 presign", "aws2 header", "aws2 presign"}

// awsModel is a request in decoded form, so that a mutation changes
// exactly one element.
type awsModel struct {
	method, host, bucket, key string
	query                     [][2]string
	header                    [][2]string
}

func baseAWSModel() awsModel {
	return awsModel{method: "PUT", host: "s3.example", bucket: "examplebucket", key: "dir/ü key+1.txt",
		query: [][2]string{{"uploadId", "abc"}, {"partNumber", "3"}, {"prefix", "p q&r"}, {"x-id", "UploadPart"}},
		header: [][2]string{{"Content-Type", "text/plain"}, {"Content-Md5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
			{"X-Amz-Meta-Author", "alice"}, {"Cache-Control", "no-cache"}, {"X-Amz-Content-Sha256", AWSUnsignedPayload}}}
}

func (m awsModel) rawQuery() string {
	var kv []string
	for _, p := range m.query {
		kv = append(kv, p[0], p[1])
	}
	return appendParams("", kv...)
}

func (m awsModel) path() string { return "/" + m.bucket + "/" + escape(m.key, false) }

func (m awsModel) httpHeader() http.Header {
	h := http.Header{}
	for _, p := range m.header {
		h[p[0]] = append(h[p[0]], p[1])
	}
	return h
}

func (m *awsModel) fields() []fuzzField {
	fs := []fuzzField{{s: &m.method}, {s: &m.host}, {s: &m.bucket}, {s: &m.key}}
	for i := range m.query {
		p := &m.query[i]
		fs = append(fs, fuzzField{s: &p[0], isName: true, isQuery: true},
			fuzzField{s: &p[1], isQuery: true, nameOf: func() string { return p[0] }})
	}
	for i := range m.header {
		p := &m.header[i]
		fs = append(fs, fuzzField{s: &p[0], isName: true},
			fuzzField{s: &p[1], nameOf: func() string { return p[0] }})
	}
	return fs
}

// signAWSModel signs m at rtNow and returns the Input the server would
// see, with "User-Agent: ua" added unsigned.
func signAWSModel(t *testing.T, mode string, m awsModel) Input {
	in := Input{Method: m.method, Host: m.host, Bucket: m.bucket, Key: m.key, Path: m.path(), RawQuery: m.rawQuery(),
		Header: m.httpHeader(), Now: rtNow.Add(time.Minute), Region: testRegion}
	creds := aws.Credentials{AccessKeyID: "ak", SecretAccessKey: "sk"}
	req, _ := http.NewRequest(m.method, "http://"+m.host+m.path()+"?"+m.rawQuery(), nil)
	req.Header = m.httpHeader()
	signer := v4signer.NewSigner(func(o *v4signer.SignerOptions) {
		o.DisableURIPathEscaping = true
		o.DisableHeaderHoisting = true
	})
	switch mode {
	case "aws4 header":
		if err := signer.SignHTTP(context.Background(), creds, req, AWSUnsignedPayload, "s3", testRegion, rtNow); err != nil {
			t.Fatal(err)
		}
		in.Header = req.Header.Clone()
	case "aws4 presign":
		req.URL.RawQuery += "&X-Amz-Expires=3600"
		u, _, err := signer.PresignHTTP(context.Background(), creds, req, AWSUnsignedPayload, "s3", testRegion, rtNow)
		if err != nil {
			t.Fatal(err)
		}
		in.RawQuery = u[strings.Index(u, "?")+1:]
	case "aws2 header", "aws2 presign":
		h := m.httpHeader()
		date := rtNow.Format(http.TimeFormat)
		if mode == "aws2 presign" {
			date = "1709532367"
		} else {
			h.Set("Date", date)
		}
		var amz []string
		for k, vs := range h {
			if low := strings.ToLower(k); strings.HasPrefix(low, "x-amz-") {
				amz = append(amz, low+":"+strings.Join(vs, ","))
			}
		}
		sort.Strings(amz)
		sts := m.method + "\n" + h.Get("Content-Md5") + "\n" + h.Get("Content-Type") + "\n" + date + "\n"
		for _, a := range amz {
			sts += a + "\n"
		}
		sts += m.path() + "?partNumber=3&uploadId=abc"
		sig := sign2("sk", sts)
		if mode == "aws2 header" {
			h.Set("Authorization", "AWS ak:"+sig)
		} else {
			in.RawQuery += "&" + appendParams("", "AWSAccessKeyId", "ak", "Expires", date, "Signature", sig)
		}
		in.Header = h
	}
	in.Header.Set("User-Agent", "ua")
	return in
}

// awsSignedName says whether a mode covers a header or query name.
func awsSignedName(mode, name string, query bool) bool {
	low := strings.ToLower(name)
	if strings.HasPrefix(mode, "aws4") {
		if query {
			return true
		}
		// The SDK signs every header it was given; an unsigned x-amz-*
		// header is refused.
		return low != "user-agent" || strings.HasPrefix(low, "x-amz-")
	}
	if query {
		return aws2SubResources[name] || (mode == "aws2 presign" && strings.HasPrefix(low, "x-amz-"))
	}
	return strings.HasPrefix(low, "x-amz-") || low == "content-type" || low == "content-md5" || low == "date"
}

// FuzzAWSVerifyMutation signs a request with the real aws-sdk-go-v2 signer
// (SigV4) or the documented algorithm (SigV2), checks the untouched
// request verifies, then mutates it: one byte of one element changed, one
// parameter or header removed, a header or parameter added, or the
// request replayed a day later. A mutation of anything the mode signs is
// always refused, of anything it does not sign always accepted; errors
// are 4xx *oss.Error; nothing panics.
func FuzzAWSVerifyMutation(f *testing.F) {
	bm := baseAWSModel()
	n := len(bm.fields())
	for mi := range awsFuzzModes {
		for fi := 0; fi < n; fi++ {
			f.Add(uint8(mi), uint8(fi), uint16(fi), uint8(1+fi), uint8(fi%mutKinds), "", "")
		}
		for _, nv := range [][2]string{{"X-Amz-Meta-Evil", "1"}, {"x-amz-acl", "public-read"}, {"X-Other", "v"},
			{"acl", ""}, {"prefix", "p"}, {"response-content-type", "a/b"}, {"Range", "bytes=0-1"}} {
			f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutAddHdr), nv[0], nv[1])
			f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutAddQry), nv[0], nv[1])
		}
		f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutReplay), "", "")
	}
	f.Add(uint8(0), uint8(3), uint16(4), uint8(0x80), uint8(mutFlip), "", "") // inside "ü"
	f.Fuzz(func(t *testing.T, mi, fi uint8, pos uint16, x, kind uint8, name, value string) {
		mode := awsFuzzModes[int(mi)%len(awsFuzzModes)]
		if x == 0 {
			x = 1
		}
		base := baseAWSModel()
		signed := signAWSModel(t, mode, base)
		if _, err := Verify(signed, akSK); err != nil {
			t.Fatalf("%s: base request refused: %v", mode, err)
		}
		// The presigned query's own parameters (the signer re-sorts the
		// whole query, so they are picked out by name, not position).
		var authParams []string
		for _, kv := range strings.Split(signed.RawQuery, "&") {
			if nm, _, _ := strings.Cut(kv, "="); strings.HasPrefix(nm, "X-Amz-") || nm == "AWSAccessKeyId" || nm == "Expires" || nm == "Signature" {
				authParams = append(authParams, kv)
			}
		}
		build := func(mm awsModel) Input {
			in := signed
			in.Method, in.Host, in.Bucket, in.Key, in.Path = mm.method, mm.host, mm.bucket, mm.key, mm.path()
			in.RawQuery = strings.Join(append([]string{mm.rawQuery()}, authParams...), "&")
			in.Header = signed.Header.Clone()
			for _, p := range base.header {
				delete(in.Header, p[0])
			}
			for k, v := range mm.httpHeader() {
				in.Header[k] = append(in.Header[k], v...)
			}
			return in
		}
		if _, err := Verify(build(base), akSK); err != nil {
			t.Fatalf("%s: base request, rebuilt, refused: %v", mode, err)
		}

		mut := baseAWSModel()
		fs := mut.fields()
		fi %= uint8(len(fs))
		fld := fs[fi]
		in := build(base)
		var what string
		want := eitherWay
		switch k := int(kind) % mutKinds; {
		case k == mutDelete && (fld.isName || fld.nameOf != nil):
			nm, isQuery := removePair(&mut.query, &mut.header, 4, int(fi))
			what = "removed " + nm
			want = pick(awsSignedName(mode, nm, isQuery))
		case k == mutDelete:
			what = "emptied " + *fld.s
			*fld.s = ""
			want = mustRefuse // method, bucket, key; the host for SigV4
			if fld.s == &mut.host && !strings.HasPrefix(mode, "aws4") {
				want = mustAccept
			}
		case k == mutAddHdr:
			name = textproto.CanonicalMIMEHeaderKey(name)
			low := strings.ToLower(name)
			if !token(name) || len(in.Header.Values(name)) > 0 || low == "authorization" || low == "x-amz-content-sha256" || low == "x-amz-date" {
				// Not sendable or a repeated header; or one that selects the
				// scheme (an UNSIGNED-PAYLOAD hash on a presigned URL is
				// accepted by design, see TestAWSErrors).
				return
			}
			mut.header = append(mut.header, [2]string{name, value})
			what = "added header " + name
			// A header the signer did not cover: SigV4 and SigV2 refuse an
			// unsigned x-amz-* one; SigV2 also signs Content-Type,
			// Content-MD5 and Date (all already present).
			want = pick(strings.HasPrefix(low, "x-amz-"))
		case k == mutAddQry:
			if name == "" || hasName(mut.query, name, false) || authParam(name) {
				return
			}
			mut.query = append(mut.query, [2]string{name, value})
			what = "added parameter " + name
			want = pick(awsSignedName(mode, name, true))
		case k == mutReplay:
			what = "replayed a day later"
			want = mustRefuse
			in.Now = rtNow.Add(25 * time.Hour)
		default: // mutFlip
			before, nameBefore := fld.flip(int(pos), x)
			what = fmt.Sprintf("changed %q -> %q", before, *fld.s)
			switch {
			case fld.isName:
				if !fld.isQuery && strings.EqualFold(before, *fld.s) {
					return // header names are case-insensitive
				}
				want = pick(awsSignedName(mode, before, fld.isQuery) || awsSignedName(mode, *fld.s, fld.isQuery))
			case fld.nameOf != nil:
				want = pick(awsSignedName(mode, nameBefore, fld.isQuery))
			case fld.s == &mut.host:
				want = pick(strings.HasPrefix(mode, "aws4"))
			default:
				want = mustRefuse // method, bucket, key
			}
		}
		if kind%mutKinds != mutReplay {
			in = build(mut)
		}
		_, err := Verify(in, akSK)
		if err != nil {
			var e *oss.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("%s: %s: bad error %v", mode, what, err)
			}
		}
		switch {
		case want == mustRefuse && err == nil:
			t.Fatalf("%s: %s (signed): accepted", mode, what)
		case want == mustAccept && err != nil:
			t.Fatalf("%s: %s (not signed): refused: %v", mode, what, err)
		}
	})
}

// FuzzAWSVerifyInput feeds arbitrary AWS-looking requests to Verify: it
// must not panic and must return only 4xx *oss.Error values.
func FuzzAWSVerifyInput(f *testing.F) {
	in := awsHeaderInput()
	f.Add(in.Method, in.Path, in.RawQuery, in.Header.Get("Authorization"), in.Header.Get("x-amz-date"), emptyHash, "", int64(rtNow.Unix()))
	p := awsPresignInput()
	f.Add(p.Method, p.Path, p.RawQuery, "", "", "", "", int64(rtNow.Unix()))
	f.Add("PUT", "/b/k", "", in.Header.Get("Authorization"), in.Header.Get("x-amz-date"), AWSStreamingSignedTrailer, "x-amz-checksum-crc32", int64(rtNow.Unix()))
	f.Add("GET", "/%zz", "AWSAccessKeyId=ak&Expires=1&Signature=%", "AWS ak:x", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, method, path, rawQuery, authz, amzDate, payload, trailer string, now int64) {
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": authz, "x-amz-date": amzDate, "x-amz-content-sha256": payload,
			"x-amz-trailer": trailer, "x-amz-decoded-content-length": "3"} {
			if v != "" {
				h.Set(k, v)
			}
		}
		bucket, key := s3Resource("h", path)
		in := Input{Method: method, Bucket: bucket, Key: key, Path: path, RawQuery: rawQuery, Header: h, Host: "h",
			Now: time.Unix(now, 0), Region: testRegion}
		res, err := Verify(in, akSK)
		if err != nil {
			var e *oss.Error
			if !errors.As(err, &e) || e.Code == "" || e.Status < 400 || e.Status > 499 {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if res.Version != VersionAnonymous {
			if _, err := Verify(in, keys("ak", "sk2")); err == nil {
				t.Fatalf("request verifies with any secret: %+v", in)
			}
		}
		if res.Streaming != nil {
			io.ReadAll(res.Streaming.NewReader(strings.NewReader("3\r\nabc\r\n0\r\n\r\n")))
		}
	})
}
