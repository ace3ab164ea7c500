package service

import (
	"errors"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

func TestMatchCORS(t *testing.T) {
	c := &meta.CORSConfig{Rules: []meta.CORSRule{
		{Origins: []string{"https://*.example.com"}, Methods: []string{"GET", "PUT"}, Headers: []string{"x-oss-meta-*", "Content-Type"}, MaxAge: -1},
		{Origins: []string{"*"}, Methods: []string{"GET"}, Headers: []string{"*"}, MaxAge: 60},
	}}
	for _, tc := range []struct {
		name, origin, method string
		headers              []string
		want                 int // rule index, -1 none
	}{
		{"subdomain, allowed method", "https://a.example.com", "PUT", nil, 0},
		{"headers, any case", "https://a.example.com", "PUT", []string{"X-OSS-META-Author", "content-type"}, 0},
		{"header not allowed", "https://a.example.com", "PUT", []string{"x-other"}, -1},
		{"prefix too short for the wildcard", "https://.example.com", "PUT", nil, 0},
		{"bare domain is not a subdomain", "https://example.com", "PUT", nil, -1},
		{"scheme differs", "http://a.example.com", "PUT", nil, -1},
		{"first rule fails, second matches", "https://a.example.com", "GET", []string{"x-other"}, 1},
		{"any origin, GET", "http://elsewhere", "GET", nil, 1},
		{"any origin, PUT not allowed", "http://elsewhere", "PUT", nil, -1},
		{"method case matters", "http://elsewhere", "get", nil, -1},
	} {
		got := MatchCORS(c, tc.origin, tc.method, tc.headers)
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: matched %+v, want none", tc.name, *got)
		case tc.want >= 0 && got != &c.Rules[tc.want]:
			t.Errorf("%s: matched %v, want rule %d", tc.name, got, tc.want)
		}
	}
	if MatchCORS(nil, "http://a", "GET", nil) != nil {
		t.Error("nil configuration matched")
	}
}

func TestValidateCORS(t *testing.T) {
	rule := func(f func(*meta.CORSRule)) *meta.CORSConfig {
		r := meta.CORSRule{Origins: []string{"*"}, Methods: []string{"GET"}, MaxAge: -1}
		f(&r)
		return &meta.CORSConfig{Rules: []meta.CORSRule{r}}
	}
	many := &meta.CORSConfig{}
	for range MaxCORSRules + 1 {
		many.Rules = append(many.Rules, rule(func(*meta.CORSRule) {}).Rules[0])
	}
	for _, tc := range []struct {
		name  string
		c     *meta.CORSConfig
		limit int
		want  *oss.Error
	}{
		{"valid", rule(func(r *meta.CORSRule) { r.Headers = []string{"*"}; r.Expose = []string{"ETag"} }), MaxCORSRules, nil},
		{"no rule", &meta.CORSConfig{}, MaxCORSRules, oss.ErrCORSNoRule},
		{"too many for OSS", many, MaxCORSRules, oss.ErrCORSRuleBeyondLimit},
		{"as many are fine for S3", many, MaxS3CORSRules, nil},
		{"no method", rule(func(r *meta.CORSRule) { r.Methods = nil }), MaxCORSRules, oss.ErrCORSInvalidMethod},
		{"bad method", rule(func(r *meta.CORSRule) { r.Methods = []string{"PATCH"} }), MaxCORSRules, oss.ErrCORSInvalidMethod},
		{"lower-case method", rule(func(r *meta.CORSRule) { r.Methods = []string{"get"} }), MaxCORSRules, oss.ErrCORSInvalidMethod},
		{"no origin", rule(func(r *meta.CORSRule) { r.Origins = nil }), MaxCORSRules, oss.ErrCORSInvalidRule},
		{"two stars in an origin", rule(func(r *meta.CORSRule) { r.Origins = []string{"http://*.*.com"} }), MaxCORSRules, oss.ErrCORSInvalidRule},
		{"two stars in a header", rule(func(r *meta.CORSRule) { r.Headers = []string{"x-*-*"} }), MaxCORSRules, oss.ErrCORSInvalidRule},
		{"star in an exposed header", rule(func(r *meta.CORSRule) { r.Expose = []string{"x-*"} }), MaxCORSRules, oss.ErrCORSInvalidRule},
	} {
		err := ValidateCORS(tc.c, tc.limit)
		var oe *oss.Error
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && (!errors.As(err, &oe) || oe.EC != tc.want.EC || oe.Code != tc.want.Code):
			t.Errorf("%s: %v, want %s (EC %s)", tc.name, err, tc.want.Code, tc.want.EC)
		}
	}
}
