package service

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/oss"
)

// twentyStatements is a bucket policy of the size teams reach: per-prefix
// grants to other accounts, IP and Referer conditions, time windows and a
// few Denies — twenty statements, none of which matches the benchmark's
// request until the last, so every one is tried.
func twentyStatements() string {
	var st []string
	for i := range 16 {
		st = append(st, fmt.Sprintf(`{"Effect":"Allow","Action":["oss:GetObject","oss:PutObject"],"Principal":["%d"],`+
			`"Resource":["acs:oss:*:*:bkt/team-%d/*"],"Condition":{"IpAddress":{"acs:SourceIp":["10.%d.0.0/16","192.168.%d.0/24"]}}}`, 3000+i, i, i, i))
	}
	st = append(st,
		`{"Effect":"Deny","Action":["oss:DeleteObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/archive/*"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}`,
		`{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/site/*"],"Condition":{"StringLike":{"acs:Referer":["https://*.example.com/*"]}}}`,
		`{"Effect":"Deny","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"DateGreaterThan":{"acs:CurrentTime":["2099-01-01T00:00:00Z"]}}}`,
		`{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/shared/*"]}`)
	return `{"Version":"1","Statement":[` + strings.Join(st, ",") + `]}`
}

// BenchmarkPolicyEvaluate is what a bucket policy adds to a request: the
// decision for a GetObject against a 20-statement policy (parsed once and
// cached per bucket, as Service.BucketPolicy does), allowed by the last
// statement, and one no statement decides.
func BenchmarkPolicyEvaluate(b *testing.B) {
	p, err := ParsePolicy([]byte(twentyStatements()), polBucket, false)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(p.Statements); n != 20 {
		b.Fatalf("%d statements, want 20", n)
	}
	other := Principal{Account: Account{ID: polOther}, AccessKeyID: "AKOTHER"}
	for _, tc := range []struct {
		name string
		key  string
		want Decision
	}{{"allowed-by-last", "shared/report.csv", Allowed}, {"undecided", "private/x", NoDecision}} {
		ri := RequestInfo{Op: oss.OpGetObject, Key: tc.key, SourceIP: "172.16.1.2", Secure: true, Referer: "https://app.example.org/"}
		if got := p.Evaluate(other, polBucket, polOwner, &ri, polNow, nil); got != tc.want {
			b.Fatalf("%s: %v, want %v", tc.name, got, tc.want)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(other, polBucket, polOwner, &ri, polNow, nil)
			}
		})
	}
}
