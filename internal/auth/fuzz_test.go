package auth

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// fuzzModel is a request in decoded form, so that a mutation changes
// exactly one element and the wire encoding stays canonical.
type fuzzModel struct {
	method, bucket, key string
	query               [][2]string // decoded key, value
	header              [][2]string // name, value
}

func baseModel() fuzzModel {
	return fuzzModel{
		method: "PUT", bucket: "examplebucket", key: "dir/ü key+1.txt",
		query: [][2]string{{"uploadId", "abc"}, {"partNumber", "3"}, {"prefix", "p q&r"}, {"x-oss-process", "a/b"}},
		header: [][2]string{{"Content-Type", "text/plain"}, {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
			{"x-oss-meta-author", "alice"}, {"Cache-Control", "no-cache"}, {"User-Agent", "ua/1"}},
	}
}

func (m fuzzModel) rawQuery() string {
	var kv []string
	for _, p := range m.query {
		kv = append(kv, p[0], p[1])
	}
	return appendParams("", kv...)
}

func (m fuzzModel) httpHeader() http.Header {
	h := http.Header{}
	for _, p := range m.header {
		h[p[0]] = append(h[p[0]], p[1])
	}
	return h
}

// fuzzField points at one mutable element; a value knows the name of its
// header or parameter, because the name decides whether it is signed.
type fuzzField struct {
	s       *string
	isName  bool
	nameOf  func() string // for values: the name of their header or parameter
	isQuery bool
}

func (m *fuzzModel) fields() []fuzzField {
	fs := []fuzzField{{s: &m.method}, {s: &m.bucket}, {s: &m.key}}
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

// signedName says whether a mode signs a header or query parameter name.
func signedName(m mode, name string, query bool) bool {
	if query {
		return m.version == VersionV4 || isSubResource(name)
	}
	low := strings.ToLower(name)
	if m.version == VersionV4 {
		return v4Signed([]string{"cache-control"})(low)
	}
	return isOSSHeader(low) || low == "content-type" || low == "content-md5"
}

// FuzzVerifyMutation signs a request with key K, changes one byte of one
// element and checks: a changed signed element is always rejected, a
// changed unsigned one is always accepted, and nothing panics.
func FuzzVerifyMutation(f *testing.F) {
	bm := baseModel()
	n := len(bm.fields())
	for mi := range modes {
		for fi := 0; fi < n; fi++ {
			f.Add(uint8(mi), uint8(fi), uint16(fi), uint8(1+fi))
		}
	}
	f.Add(uint8(2), uint8(2), uint16(4), uint8(0x80)) // inside "ü"
	f.Add(uint8(0), uint8(13), uint16(0), uint8(0x20))
	f.Fuzz(func(t *testing.T, mi, fi uint8, pos uint16, x uint8) {
		m := modes[int(mi)%len(modes)]
		if x == 0 {
			x = 1
		}
		base := baseModel()
		req, _ := http.NewRequest(base.method, "http://h/", nil)
		req.URL.RawQuery = base.rawQuery()
		req.Header = base.httpHeader()
		m.sign(req, base.bucket, base.key, "ak", "sk")
		authSuffix := strings.TrimPrefix(req.URL.RawQuery, base.rawQuery())

		mut := baseModel()
		fs := mut.fields()
		fld := fs[int(fi)%len(fs)]
		before := *fld.s
		var nameBefore string
		if fld.nameOf != nil {
			nameBefore = fld.nameOf()
		}
		b := []byte(before)
		b[int(pos)%len(b)] ^= x
		*fld.s = string(b)

		h := req.Header.Clone()
		for _, p := range base.header {
			delete(h, p[0])
		}
		for k, v := range mut.httpHeader() {
			h[k] = append(h[k], v...)
		}
		in := Input{Method: mut.method, Bucket: mut.bucket, Key: mut.key, RawQuery: mut.rawQuery() + authSuffix,
			Header: h, Now: rtNow.Add(time.Minute), Region: testRegion}
		_, err := Verify(in, keys("ak", "sk"))
		if err != nil {
			var e *oss.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *oss.Error", err)
			}
		}

		var signed, unchanged bool
		switch {
		case fld.isName:
			after := *fld.s
			if !fld.isQuery && strings.EqualFold(before, after) {
				unchanged = true // header names are case-insensitive
			}
			signed = signedName(m, before, fld.isQuery) || signedName(m, after, fld.isQuery)
		case fld.nameOf != nil:
			signed = signedName(m, nameBefore, fld.isQuery)
		default:
			signed = true // method, bucket, key
		}
		switch {
		case unchanged:
		case signed && err == nil:
			t.Fatalf("%s: changed signed element %q -> %q accepted", m.name, before, *fld.s)
		case !signed && err != nil:
			t.Fatalf("%s: changed unsigned element %q -> %q refused: %v", m.name, before, *fld.s, err)
		}
	})
}

// FuzzVerifyInput feeds arbitrary requests to Verify: it must not panic,
// must return only *oss.Error with a 4xx status, and a request it accepts
// as signed must stop verifying when the secret changes.
func FuzzVerifyInput(f *testing.F) {
	for _, m := range modes {
		in := signedInput(m)
		f.Add(in.Method, in.Bucket, in.Key, in.RawQuery, in.Header.Get("Authorization"),
			in.Header.Get("Date"), in.Header.Get("x-oss-date"), "x-oss-meta-author", "alice", in.Now.Unix())
	}
	f.Add("GET", "b", "", "acl", "OSS ak:sig", "", "", "", "", int64(0))
	f.Add("GET", "", "", "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=ak%2F20240304%2Fcn-hangzhou%2Foss%2Faliyun_v4_request", "", "", "", "", "", int64(-1))
	f.Add("PUT", "b", "k", "%zz&=&&a=%", "OSS4-HMAC-SHA256 Credential=ak/20240304/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host,Signature=00", "", "20240304T050607Z", "Host", "h", int64(1709528767))
	f.Fuzz(func(t *testing.T, method, bucket, key, rawQuery, authz, date, ossDate, hName, hValue string, now int64) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		if date != "" {
			h.Set("Date", date)
		}
		if ossDate != "" {
			h.Set("x-oss-date", ossDate)
		}
		if hName != "" {
			h[hName] = append(h[hName], hValue)
		}
		in := Input{Method: method, Bucket: bucket, Key: key, RawQuery: rawQuery, Header: h,
			Now: time.Unix(now, 0), Region: testRegion, Host: "h"}
		res, err := Verify(in, akSK)
		if err != nil {
			var e *oss.Error
			if !errors.As(err, &e) || e.Code == "" || e.Status < 400 || e.Status > 499 {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if res.Version == VersionAnonymous {
			if len(h.Values("Authorization")) > 0 {
				t.Fatalf("Authorization %q treated as anonymous", authz)
			}
			return
		}
		if res.AccessKeyID != "ak" {
			t.Fatalf("accepted unknown key: %+v", res)
		}
		if _, err := Verify(in, keys("ak", "sk2")); err == nil {
			t.Fatalf("request verifies with any secret: %+v", in)
		}
	})
}

// FuzzParseAuthorization: the header parsers never panic, and what they
// accept survives a format/parse round trip unchanged.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=", "ak", ":", "a:b:c",
		"Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe",
		"Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
		"Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f, AdditionalHeaders=ZAbc;abc;abc, Credential=ak/20231216/r/oss/aliyun_v4_request",
		"Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=,",
		"Credential==,Signature==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ak, sig, err := parseV1Authorization(s); err == nil {
			if ak+":"+sig != s {
				t.Fatalf("v1 %q parsed as %q:%q", s, ak, sig)
			}
		} else if err.Status != 400 {
			t.Fatalf("v1 status %d", err.Status)
		}
		a, err := parseV4Authorization(s)
		if err != nil {
			if err.Status != 400 || err.Code != "InvalidArgument" {
				t.Fatalf("v4 error %+v", err)
			}
			return
		}
		formatted := "Credential=" + a.cred.ak + "/" + a.cred.scope()
		if len(a.additional) > 0 {
			formatted += ",AdditionalHeaders=" + strings.Join(a.additional, ";")
		}
		formatted += ",Signature=" + a.signature
		b, err := parseV4Authorization(formatted)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of %q: %q -> %+v, %v", s, formatted, b, err)
		}
	})
}
