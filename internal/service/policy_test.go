package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

const polBucket, polOwner, polOther = "bkt", "1000", "2000"

var polNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestPolicyEvaluate drives Evaluate with policies in both languages.
func TestPolicyEvaluate(t *testing.T) {
	owner := Principal{Account: Account{ID: polOwner}, AccessKeyID: "AKOWNER"}
	other := Principal{Account: Account{ID: polOther}, AccessKeyID: "AKOTHER"}
	anon := Principal{}
	get := func(key string) RequestInfo { return RequestInfo{Op: oss.OpGetObject, Key: key, SourceIP: "10.1.2.3"} }
	list := func(prefix string) RequestInfo {
		return RequestInfo{Op: oss.OpListObjects, Prefix: prefix, HasPrefix: true, SourceIP: "10.1.2.3"}
	}
	allowOtherRead := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/pub/*"]}]}`
	cond := func(op, key, val string) string {
		return `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/*","acs:oss:*:*:bkt"],"Condition":{"` + op + `":{"` + key + `":` + val + `}}}]}`
	}
	cases := []struct {
		name    string
		policy  string
		s3      bool
		p       Principal
		ri      RequestInfo
		blocked bool
		want    Decision
	}{
		{"allow other account under prefix", allowOtherRead, false, other, get("pub/a"), false, Allowed},
		{"resource prefix not matched", allowOtherRead, false, other, get("priv/a"), false, NoDecision},
		{"principal mismatch", allowOtherRead, false, anon, get("pub/a"), false, NoDecision},
		{"action mismatch", allowOtherRead, false, other, RequestInfo{Op: oss.OpPutObject, Key: "pub/a"}, false, NoDecision},
		{"HeadObject is GetObject", allowOtherRead, false, other, RequestInfo{Op: oss.OpHeadObject, Key: "pub/a"}, false, Allowed},
		{"deny beats allow", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]},
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/secret*"]}]}`, false, other, get("secret.txt"), false, Denied},
		{"oss: * without a condition spares the owner", `{"Version":"1","Statement":[
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, owner, get("x"), false, NoDecision},
		{"oss: * without a condition still denies others", `{"Version":"1","Statement":[
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, Denied},
		{"oss: * with a condition applies to the owner", `{"Version":"1","Statement":[
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}]}`, false, owner, get("x"), false, Denied},
		{"oss: the owner named explicitly", `{"Version":"1","Statement":[
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["1000"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, owner, get("x"), false, Denied},
		{"aws: * applies to the owner", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Deny","Action":"s3:GetObject","Principal":"*","Resource":"arn:aws:s3:::bkt/*"}]}`, true, owner, get("x"), false, Denied},
		{"deny for others only leaves the allow", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]},
			{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/secret*"]}]}`, false, anon, get("open.txt"), false, Allowed},
		{"anonymous allowed by public policy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, anon, get("x"), false, Allowed},
		{"block public access ignores public policy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, anon, get("x"), true, NoDecision},
		{"block public access keeps an IP-restricted allow", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}}]}`, false, anon, get("x"), true, Allowed},
		{"restrict: a public policy's cross-account allow is cut off too", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/pub/*"]},
			{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), true, NoDecision},
		{"restrict off: the same cross-account allow holds", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/pub/*"]},
			{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, Allowed},
		{"restrict: a non-public policy's cross-account allow holds", allowOtherRead, false, other, get("pub/a"), true, Allowed},
		{"restrict: the owner keeps a public policy's allow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Principal":"*","Resource":"arn:aws:s3:::bkt/*"}]}`, true, owner, get("x"), true, Allowed},
		{"restrict: a public policy's deny still applies", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"s3:GetObject","Principal":"*","Resource":"arn:aws:s3:::bkt/*"},
			{"Effect":"Deny","Action":"s3:GetObject","Principal":"*","Resource":"arn:aws:s3:::bkt/secret*"}]}`, true, other, get("secret"), true, Denied},
		// RAM: ossd has no RAM users apart from accounts; a UID in Principal
		// names the --users entry with that id, the ram ARN of an account
		// its root, and STS role sessions match nothing (no STS).
		{"oss: a RAM user UID names the user with that id", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, Allowed},
		{"oss: another UID does not", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2001"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, NoDecision},
		{"oss: acs:ram root ARN", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["acs:ram::2000:root"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, Allowed},
		{"oss: acs:ram user ARN names its account's identity", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["acs:ram::2000:user/reader"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, Allowed},
		{"oss: acs:ram user ARN of another account", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["acs:ram::2001:user/reader"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, NoDecision},
		{"oss: an STS role session matches nobody", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["arn:sts::2000:assumed-role/reader/*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, other, get("x"), false, NoDecision},
		{"oss: a UID is not an access key's owner by another name", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["AKOTHER"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false, anon, get("x"), false, NoDecision},
		{"resource account must be the owner", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:9999:bkt/*"]}]}`, false, other, get("x"), false, NoDecision},
		{"resource naming the owner", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:1000:bkt/*"]}]}`, false, other, get("x"), false, Allowed},
		{"IpAddress met", cond("IpAddress", "acs:SourceIp", `["10.0.0.0/8"]`), false, other, get("x"), false, Allowed},
		{"IpAddress not met", cond("IpAddress", "acs:SourceIp", `["192.168.0.0/16"]`), false, other, get("x"), false, NoDecision},
		{"NotIpAddress met", cond("NotIpAddress", "acs:SourceIp", `"192.168.1.1"`), false, other, get("x"), false, Allowed},
		{"NotIpAddress not met", cond("NotIpAddress", "acs:SourceIp", `"10.1.2.3"`), false, other, get("x"), false, NoDecision},
		{"SecureTransport met", cond("Bool", "acs:SecureTransport", `["false"]`), false, other, get("x"), false, Allowed},
		{"SecureTransport not met", cond("Bool", "acs:SecureTransport", `true`), false, other, get("x"), false, NoDecision},
		{"Referer StringLike met", cond("StringLike", "acs:Referer", `["https://*.example.com/*"]`), false, other, RequestInfo{Op: oss.OpGetObject, Key: "x", Referer: "https://www.example.com/page"}, false, Allowed},
		{"Referer StringLike not met", cond("StringLike", "acs:Referer", `["https://*.example.com/*"]`), false, other, RequestInfo{Op: oss.OpGetObject, Key: "x", Referer: "https://evil.test/"}, false, NoDecision},
		{"Referer absent", cond("StringLike", "acs:Referer", `["*"]`), false, other, get("x"), false, NoDecision},
		{"oss:Prefix StringEquals met", cond("StringEquals", "oss:Prefix", `["pub/"]`), false, other, list("pub/"), false, Allowed},
		{"oss:Prefix StringEquals not met", cond("StringEquals", "oss:Prefix", `["pub/"]`), false, other, list("priv/"), false, NoDecision},
		{"StringNotEquals met", cond("StringNotEquals", "oss:Prefix", `["priv/"]`), false, other, list("pub/"), false, Allowed},
		{"StringNotEquals not met", cond("StringNotEquals", "oss:Prefix", `["priv/"]`), false, other, list("priv/"), false, NoDecision},
		{"oss:Delimiter met", cond("StringEquals", "oss:Delimiter", `"/"`), false, other, RequestInfo{Op: oss.OpListObjects, Delimiter: "/", HasDelimiter: true}, false, Allowed},
		{"oss:Delimiter not met", cond("StringEquals", "oss:Delimiter", `"/"`), false, other, RequestInfo{Op: oss.OpListObjects}, false, NoDecision},
		{"DateLessThan met", cond("DateLessThan", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`), false, other, get("x"), false, Allowed},
		{"DateLessThan not met", cond("DateLessThan", "acs:CurrentTime", `"2026-01-01T00:00:00Z"`), false, other, get("x"), false, NoDecision},
		{"DateGreaterThan met", cond("DateGreaterThan", "acs:CurrentTime", `"2026-01-01T00:00:00Z"`), false, other, get("x"), false, Allowed},
		{"DateGreaterThan not met", cond("DateGreaterThan", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`), false, other, get("x"), false, NoDecision},
		{"x-amz-copy-source met", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringLike":{"s3:x-amz-copy-source":"src/public/*"}}}]}`, true, other,
			RequestInfo{Op: oss.OpCopyObject, Key: "k", Header: func(n string) string { return map[string]string{"x-amz-copy-source": "src/public/a"}[n] }}, false, Allowed},
		{"x-amz-copy-source not met", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringLike":{"s3:x-amz-copy-source":"src/public/*"}}}]}`, true, other,
			RequestInfo{Op: oss.OpCopyObject, Key: "k", Header: func(n string) string { return map[string]string{"x-amz-copy-source": "src/private/a"}[n] }}, false, NoDecision},
		{"ExistingObjectTag met", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Security":"public"}}}]}`, true, other,
			RequestInfo{Op: oss.OpGetObject, Key: "k", ObjectTags: map[string]string{"Security": "public"}}, false, Allowed},
		{"ExistingObjectTag not met", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Security":"public"}}}]}`, true, other,
			RequestInfo{Op: oss.OpGetObject, Key: "k", ObjectTags: map[string]string{"security": "public"}}, false, NoDecision},
		// AWS's language.
		{"aws allow with arn principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::2000:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/pub/*"}]}`, true, other, get("pub/a"), false, Allowed},
		{"aws list bucket is ListObjects", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt","Condition":{"StringEquals":{"s3:prefix":"pub/"}}}]}`, true, anon, list("pub/"), false, Allowed},
		{"aws wildcard action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"2000"},"Action":"s3:Get*","Resource":"arn:aws:s3:::bkt/*"}]}`, true, other, get("k"), false, Allowed},
		{"aws NotPrincipal deny spares the listed", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"1000"},"Action":"s3:*","Resource":"arn:aws:s3:::bkt/*"}]}`, true, owner, get("k"), false, NoDecision},
		{"aws NotPrincipal deny hits the others", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"1000"},"Action":"s3:*","Resource":"arn:aws:s3:::bkt/*"}]}`, true, other, get("k"), false, Denied},
		{"aws SourceIp", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bkt/*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.168.0.0/16"}}}]}`, true, owner, get("k"), false, Denied},
		{"aws CurrentTime", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}]}`, true, anon, get("k"), false, Allowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tc.policy), polBucket, tc.s3)
			if err != nil {
				t.Fatalf("ParsePolicy: %v", err)
			}
			blocked := func() bool { return tc.blocked }
			if got := p.Evaluate(tc.p, polBucket, polOwner, &tc.ri, polNow, blocked); got != tc.want {
				t.Errorf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestParsePolicyErrors: the refusals, with each dialect's code and EC.
func TestParsePolicyErrors(t *testing.T) {
	cases := []struct {
		name, policy string
		s3           bool
		code, ec     string
	}{
		{"not JSON", `nope`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"version not a string", `{"Version":1,"Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"]}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"version 2", `{"Version":"2","Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"]}]}`, false, "InvalidPolicyDocument", "0030-00000002"},
		{"bad effect", `{"Version":"1","Statement":[{"Effect":"Maybe","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"]}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"other bucket", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:other/*"]}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"bad action", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ec2:Run"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"]}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"bad ip", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"],"Condition":{"IpAddress":{"acs:SourceIp":"300.1.1.1"}}}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"bad operator", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt"],"Condition":{"Sometimes":{"acs:SourceIp":"1.1.1.1"}}}]}`, false, "InvalidPolicyDocument", "0030-00000005"},
		{"s3 not JSON", `nope`, true, "MalformedPolicy", ""},
		{"s3 version 1", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"s3:*","Principal":"*","Resource":"arn:aws:s3:::bkt"}]}`, true, "MalformedPolicy", ""},
		{"s3 no principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt"}]}`, true, "MalformedPolicy", ""},
		{"s3 Allow with NotPrincipal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::t1:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt"}]}`, true, "MalformedPolicy", ""},
		{"s3 other bucket", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}]}`, true, "MalformedPolicy", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.policy), polBucket, tc.s3)
			var oe *oss.Error
			if !errors.As(err, &oe) || oe.Code != tc.code || oe.EC != tc.ec {
				t.Fatalf("ParsePolicy = %v, want %s (EC %q)", err, tc.code, tc.ec)
			}
		})
	}
	// The oss2 sample's policy (no Principal, OSS's language) is accepted.
	if _, err := ParsePolicy([]byte(`{"Version":"1","Statement":[{"Action":["oss:PutObject"],"Effect":"Allow","Resource":["acs:oss:*:*:*/*"]}]}`), polBucket, false); err != nil {
		t.Errorf("oss2 sample policy: %v", err)
	}
}

// TestPolicyPublic: OSS's definition of a public policy.
func TestPolicyPublic(t *testing.T) {
	cases := []struct {
		policy string
		want   bool
	}{
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, true},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["2000"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false},
		{`{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`, false},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`, false},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"StringLike":{"acs:Referer":"*.example.com"}}}]}`, true},
	}
	for i, tc := range cases {
		p, err := ParsePolicy([]byte(tc.policy), polBucket, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Public(); got != tc.want {
			t.Errorf("%d: Public = %v, want %v (%s)", i, got, tc.want, strings.TrimSpace(tc.policy))
		}
	}
}
