package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
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

// flip XORs one byte of the element with x (at pos modulo its length) and
// returns the element and, for a value, its header or parameter name as
// they were before.
func (fld fuzzField) flip(pos int, x byte) (before, nameBefore string) {
	before = *fld.s
	if fld.nameOf != nil {
		nameBefore = fld.nameOf()
	}
	b := []byte(before)
	b[pos%len(b)] ^= x
	*fld.s = string(b)
	return before, nameBefore
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
		return m.version == VersionV4 || m.version == VersionV2 || isSubResource(name)
	}
	low := strings.ToLower(name)
	switch m.version {
	case VersionV4:
		return v4Signed([]string{"cache-control"})(low)
	case VersionV2:
		return v2Signed([]string{"cache-control"})(low) || low == "content-type" || low == "content-md5"
	}
	return isOSSHeader(low) || low == "content-type" || low == "content-md5"
}

// Mutation kinds shared by the OSS and AWS mutation targets.
const (
	mutFlip   = iota // XOR one byte of one element
	mutDelete        // drop one query parameter or header (method, bucket, key: emptied)
	mutAddHdr        // add a header that was not there
	mutAddQry        // add a query parameter that was not there
	mutReplay        // verify the untouched request a day after signing
	mutKinds
)

// expectation of one mutated request.
type expectation int

const (
	mustRefuse expectation = iota // a signed element changed
	mustAccept                    // only unsigned elements changed
	eitherWay                     // outside the property (documented per case)
)

// authParam says whether a query name belongs to a signature scheme:
// adding one changes how the request is authenticated rather than what it
// asks, so the mutation targets do not predict the outcome.
func authParam(name string) bool {
	low := strings.ToLower(name)
	for _, p := range []string{"signature", "ossaccesskeyid", "expires", "awsaccesskeyid", "security-token"} {
		if low == p {
			return true
		}
	}
	return strings.HasPrefix(low, "x-oss-") || strings.HasPrefix(low, "x-amz-")
}

// removePair drops the query parameter or header that field fi belongs
// to (fields: `scalars` single elements (method, bucket, key, ...), then
// name/value pairs of the query, then of the headers, as fields() lists
// them).
func removePair(query, header *[][2]string, scalars, fi int) (name string, isQuery bool) {
	i := (fi - scalars) / 2
	if i < len(*query) {
		name = (*query)[i][0]
		*query = append((*query)[:i:i], (*query)[i+1:]...)
		return name, true
	}
	i -= len(*query)
	name = (*header)[i][0]
	*header = append((*header)[:i:i], (*header)[i+1:]...)
	return name, false
}

// hasName says whether pairs hold name (case-insensitively for headers).
func hasName(pairs [][2]string, name string, fold bool) bool {
	for _, p := range pairs {
		if p[0] == name || (fold && strings.EqualFold(p[0], name)) {
			return true
		}
	}
	return false
}

// FuzzVerifyMutation signs a request with key K in each OSS mode, checks
// the untouched request verifies, then mutates it: one byte of one
// element changed, one parameter or header removed, a header or parameter
// added, or the request replayed a day later. A mutation of anything the
// mode signs is always refused, of anything it does not sign always
// accepted; errors are *oss.Error; nothing panics.
func FuzzVerifyMutation(f *testing.F) {
	bm := baseModel()
	n := len(bm.fields())
	for mi := range modes {
		for fi := 0; fi < n; fi++ {
			f.Add(uint8(mi), uint8(fi), uint16(fi), uint8(1+fi), uint8(fi%mutKinds), "", "")
		}
		for _, nv := range [][2]string{{"X-Oss-Meta-Evil", "1"}, {"x-oss-acl", "public-read"}, {"Cache-Control", "x"},
			{"X-Other", "v"}, {"acl", ""}, {"prefix", "p"}, {"response-content-type", "a/b"}, {"Range", "bytes=0-1"}} {
			f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutAddHdr), nv[0], nv[1])
			f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutAddQry), nv[0], nv[1])
		}
		f.Add(uint8(mi), uint8(0), uint16(0), uint8(0), uint8(mutReplay), "", "")
	}
	f.Add(uint8(2), uint8(2), uint16(4), uint8(0x80), uint8(mutFlip), "", "") // inside "ü"
	f.Add(uint8(0), uint8(13), uint16(0), uint8(0x20), uint8(mutFlip), "", "")
	f.Fuzz(func(t *testing.T, mi, fi uint8, pos uint16, x, kind uint8, name, value string) {
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
		input := func(mm fuzzModel) Input {
			h := req.Header.Clone()
			for _, p := range base.header {
				delete(h, p[0])
			}
			for k, v := range mm.httpHeader() {
				h[k] = append(h[k], v...)
			}
			q := mm.rawQuery()
			if q != "" && authSuffix != "" && !strings.HasPrefix(authSuffix, "&") {
				q += "&"
			}
			return Input{Method: mm.method, Bucket: mm.bucket, Key: mm.key, RawQuery: q + authSuffix,
				Header: h, Now: rtNow.Add(time.Minute), Region: testRegion}
		}
		if _, err := Verify(input(base), keys("ak", "sk")); err != nil {
			t.Fatalf("%s: the untouched request is refused: %v", m.name, err)
		}

		mut := baseModel()
		fs := mut.fields()
		fi %= uint8(len(fs))
		fld := fs[fi]
		var what string
		want := eitherWay
		after := func() Input { return input(mut) }
		switch k := int(kind) % mutKinds; {
		case k == mutDelete && fld.isName || k == mutDelete && fld.nameOf != nil:
			nm, isQuery := removePair(&mut.query, &mut.header, 3, int(fi))
			what = "removed " + nm
			want = pick(signedName(m, nm, isQuery))
		case k == mutDelete:
			what = "emptied " + *fld.s
			*fld.s = ""
			want = mustRefuse // method, bucket, key
		case k == mutAddHdr:
			name = textproto.CanonicalMIMEHeaderKey(name)
			if !token(name) || hasName(mut.header, name, true) || hasName([][2]string{{"Authorization"}, {"Date"}, {"X-Oss-Date"}}, name, true) {
				return // not sendable, or a repeated header (V1SDK compatibility signs first values only, see checkV1)
			}
			mut.header = append(mut.header, [2]string{name, value})
			what = "added header " + name
			want = pick(signedName(m, name, false))
		case k == mutAddQry:
			if name == "" || hasName(mut.query, name, false) || authParam(name) {
				return
			}
			mut.query = append(mut.query, [2]string{name, value})
			what = "added parameter " + name
			want = pick(signedName(m, name, true))
		case k == mutReplay:
			what = "replayed a day later"
			want = mustRefuse
			after = func() Input { in := input(base); in.Now = rtNow.Add(25 * time.Hour); return in }
		default: // mutFlip
			before, nameBefore := fld.flip(int(pos), x)
			what = fmt.Sprintf("changed %q -> %q", before, *fld.s)
			switch {
			case fld.isName:
				if !fld.isQuery && strings.EqualFold(before, *fld.s) {
					return // header names are case-insensitive
				}
				want = pick(signedName(m, before, fld.isQuery) || signedName(m, *fld.s, fld.isQuery))
			case fld.nameOf != nil:
				want = pick(signedName(m, nameBefore, fld.isQuery))
			default:
				want = mustRefuse // method, bucket, key
			}
		}
		_, err := Verify(after(), keys("ak", "sk"))
		if err != nil {
			var e *oss.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("%s: %s: error %#v is not a 4xx *oss.Error", m.name, what, err)
			}
		}
		switch {
		case want == mustRefuse && err == nil:
			t.Fatalf("%s: %s (signed): accepted", m.name, what)
		case want == mustAccept && err != nil:
			t.Fatalf("%s: %s (not signed): refused: %v", m.name, what, err)
		}
	})
}

func pick(signed bool) expectation {
	if signed {
		return mustRefuse
	}
	return mustAccept
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
		"AccessKeyId:ak,Signature:OlBBwZKfdN8/0KZa7cCMVxCF6I51UQa2D+x/slJMMZ4=",
		"AccessKeyId:ak,AdditionalHeaders:range;if-modified-since,Signature:X1ZwiNhJdCn4M+JMqJvIIgKrLbhZjcDLAzzZamgg2vU=",
		"AccessKeyId:ak,AdditionalHeaders:host;,Signature:x", "AccessKeyId:,Signature:x", "AccessKeyId:a\rk,Signature:x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// V2: a parse either fails with a 400 InvalidArgument or yields
		// fields that format back to an equivalent header.
		if a, err := parseV2Authorization(s); err != nil {
			if err.Status != 400 || err.Code != "InvalidArgument" || err.EC == "" {
				t.Fatalf("v2 error %+v", err)
			}
		} else {
			formatted := "AccessKeyId:" + a.ak
			if len(a.additional) > 0 {
				formatted += ",AdditionalHeaders:" + strings.Join(a.additional, ";")
			}
			formatted += ",Signature:" + a.signature
			b, err := parseV2Authorization(formatted)
			if err != nil || !reflect.DeepEqual(a, b) || a.ak == "" || a.signature == "" {
				t.Fatalf("v2 round trip of %q: %q -> %+v, %v", s, formatted, b, err)
			}
		}
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
