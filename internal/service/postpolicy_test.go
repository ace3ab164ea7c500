package service

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

func TestParsePostPolicy(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const exp = `"expiration":"2030-01-01T00:00:00Z"`
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"minimal", `{` + exp + `,"conditions":[]}`, true},
		{"all forms", `{` + exp + `,"conditions":[{"bucket":"b"},["eq","$key","k"],["starts-with","$Content-Type","text/"],["content-length-range",0,10]]}`, true},
		{"milliseconds", `{"expiration":"2030-01-01T00:00:00.000Z","conditions":[]}`, true},
		{"no expiration", `{"conditions":[]}`, false},
		{"EXPIRATION is not expiration", `{"EXPIRATION":"2030-01-01T00:00:00Z","conditions":[]}`, false},
		{"expiration not ISO 8601", `{"expiration":"2030-01-01 00:00:00+00:00","conditions":[]}`, false},
		{"no conditions", `{` + exp + `}`, false},
		{"CONDITIONS is not conditions", `{` + exp + `,"CONDITIONS":[]}`, false},
		{"empty condition", `{` + exp + `,"conditions":[{}]}`, false},
		{"range with one bound", `{` + exp + `,"conditions":[["content-length-range",0]]}`, false},
		{"negative range", `{` + exp + `,"conditions":[["content-length-range",-1,10]]}`, false},
		{"unknown operator", `{` + exp + `,"conditions":[["ends-with","$key","x"]]}`, false},
		{"field without $", `{` + exp + `,"conditions":[["eq","key","x"]]}`, false},
		{"not JSON", `expiration`, false},
	} {
		_, err := ParsePostPolicy(b64(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		var oe *oss.Error
		if err != nil && (!errors.As(err, &oe) || oe.Code != "InvalidPolicyDocument" || oe.Status != 400) {
			t.Errorf("%s: %v, want 400 InvalidPolicyDocument", tc.name, err)
		}
	}
	if _, err := ParsePostPolicy("%%%"); err == nil {
		t.Error("a policy that is not base64 accepted")
	}
}

func TestPostPolicyCheck(t *testing.T) {
	doc := `{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","up/"],{"acl":"private"},["content-length-range",1,5]]}`
	p, err := ParsePostPolicy(base64.StdEncoding.EncodeToString([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if p.MinSize != 1 || p.MaxSize != 5 {
		t.Errorf("size range %d-%d", p.MinSize, p.MaxSize)
	}
	now := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := map[string]string{"key": "up/a", "acl": "private", "policy": "…", "signature": "…", "awsaccesskeyid": "…", "x-ignore-me": "1"}
	for _, tc := range []struct {
		name   string
		now    time.Time
		bucket string
		change map[string]string
		strict bool
		ok     bool
	}{
		{"meets every condition", now, "b", nil, true, true},
		{"expired", p.Expiration, "b", nil, true, false},
		{"other bucket", now, "c", nil, true, false},
		{"key outside the prefix", now, "b", map[string]string{"key": "down/a"}, true, false},
		{"acl differs", now, "b", map[string]string{"acl": "public-read"}, true, false},
		{"field no condition names, S3", now, "b", map[string]string{"x-amz-meta-a": "1"}, true, false},
		{"field no condition names, OSS", now, "b", map[string]string{"x-oss-meta-a": "1"}, false, true},
	} {
		fields := map[string]string{}
		for k, v := range ok {
			fields[k] = v
		}
		for k, v := range tc.change {
			fields[k] = v
		}
		err := p.Check(tc.now, tc.bucket, fields, tc.strict)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
