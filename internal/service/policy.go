package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Bucket policy limits: OSS takes documents up to 16 KB, S3 up to 20 KB.
const (
	MaxPolicySize   = 16 * 1024
	MaxS3PolicySize = 20 * 1024
)

// Policy is a bucket policy in either language — OSS's (Version "1",
// oss:* actions, acs:oss resources) or AWS's (2012-10-17, s3:* actions,
// arn:aws:s3 resources) — parsed into one model, so one evaluator serves
// both dialects and a policy written in one answers requests in the other.
type Policy struct {
	Statements []Statement
	// public is Public(), computed once when the policy is parsed: the
	// evaluator asks it on every request RestrictPublicBuckets may cut.
	public bool
}

// Statement is one policy statement. Actions are lower-cased full names
// ("oss:getobject", "s3:get*"); Resources are the part after the bucket
// prefix of the ARN ("bucket/prefix*"), each with the account it names
// ("*" for any).
type Statement struct {
	Allow bool
	// OSSLanguage: the statement came from a Version "1" policy, where a
	// Principal "*" with no Condition does not apply to the bucket owner
	// (OSS's documented rule; AWS's "*" includes the owner).
	OSSLanguage   bool
	Principals    []string // nil: the statement has no Principal
	NotPrincipals []string
	Actions       []string
	NotActions    []string
	Resources     []Resource
	Conditions    []Condition
}

// Resource is one Resource entry: an account ("*" or an id) and a pattern
// over "bucket" or "bucket/key" with '*' and '?'.
type Resource struct {
	Account string
	Pattern string
}

// Condition is one operator applied to one key: Key is normalized, with
// the language's prefix dropped ("sourceip", "prefix", "currenttime").
type Condition struct {
	Op     string // lower-cased operator
	Key    string
	Values []string
}

// RequestInfo is what a bucket policy can see of a request: the operation
// (its action), the object, and the condition keys.
type RequestInfo struct {
	Op        oss.Op
	Key       string
	SourceIP  string
	Secure    bool
	Referer   string
	Prefix    string
	Delimiter string
	// HasPrefix and HasDelimiter tell an absent parameter from an empty one.
	HasPrefix, HasDelimiter bool
	// ObjectTags are the tags of the object the request reads or changes
	// (s3:ExistingObjectTag/<key>, oss:ExistingObjectTag/<key>); nil when
	// the request names no existing object.
	ObjectTags map[string]string
	// Header returns a request header named by a condition key such as
	// s3:x-amz-copy-source or s3:x-amz-acl ("" when absent); nil: none.
	Header func(name string) string
}

type requestInfoKey struct{}

// WithRequest attaches a request's policy view to ctx, where Authorize
// finds it; a context without one (ossd's own work) skips bucket policies.
func WithRequest(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, &ri)
}

func requestFrom(ctx context.Context) (*RequestInfo, bool) {
	ri, ok := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return ri, ok
}

// bucketPolicyErr is the refusal of a policy document in the request's dialect:
// OSS answers InvalidPolicyDocument (EC 0030-00000005), S3 MalformedPolicy.
func bucketPolicyErr(s3 bool, format string, args ...any) error {
	if s3 {
		return oss.ErrMalformedPolicy.WithMessage(format, args...)
	}
	return oss.ErrInvalidBucketPolicy.WithMessage(format, args...)
}

// strList decodes a JSON string or array of strings.
func strList(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 {
		return nil, true
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	return nil, false
}

// scalarList decodes condition values: strings, booleans or numbers, one
// or a list, as their text.
func scalarList(raw json.RawMessage) ([]string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, x)
		case bool, float64:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, false
		}
	}
	return out, true
}

// conditionOps are the operators ossd evaluates.
var conditionOps = map[string]bool{
	"stringequals": true, "stringnotequals": true, "stringlike": true, "stringnotlike": true,
	"stringequalsignorecase": true, "stringnotequalsignorecase": true,
	"ipaddress": true, "notipaddress": true, "bool": true,
	"dategreaterthan": true, "dategreaterthanequals": true, "datelessthan": true, "datelessthanequals": true,
	"dateequals": true, "datenotequals": true,
}

// conditionKey normalizes a condition key of either language: acs:SourceIp
// and aws:SourceIp are both "sourceip"; oss:Prefix and s3:prefix "prefix".
// What follows a '/' (ExistingObjectTag/<tag key>) keeps its case: tag
// keys are case-sensitive.
func conditionKey(k string) string {
	head, tail, slash := strings.Cut(k, "/")
	head = strings.ToLower(head)
	for _, p := range []string{"acs:", "aws:", "oss:", "s3:"} {
		if strings.HasPrefix(head, p) {
			head = head[len(p):]
			break
		}
	}
	if slash {
		return head + "/" + tail
	}
	return head
}

// ParsePolicy parses and checks a bucket policy document for bucket. s3
// picks the dialect of the errors and the Version it takes: OSS accepts
// only "1", S3 "2012-10-17" or "2008-10-17"; both accept either language's
// actions, resources and condition keys.
func ParsePolicy(raw []byte, bucket string, s3 bool) (*Policy, error) {
	return parsePolicy(raw, bucket, s3, false)
}

// parsePolicy is ParsePolicy; anyVersion takes every Version either
// dialect accepts (a stored policy, checked when it was put).
func parsePolicy(raw []byte, bucket string, s3, anyVersion bool) (*Policy, error) {
	var doc struct {
		Version   json.RawMessage
		Statement json.RawMessage
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		if s3 {
			return nil, oss.ErrMalformedPolicy.WithMessage("Policies must be valid JSON and the first byte must be '{'")
		}
		return nil, oss.ErrInvalidBucketPolicy
	}
	var version string
	if json.Unmarshal(doc.Version, &version) != nil {
		return nil, bucketPolicyErr(s3, "Policy Version must be a string.")
	}
	switch {
	case anyVersion && (version == "1" || version == "2012-10-17" || version == "2008-10-17"):
	case s3 && version != "2012-10-17" && version != "2008-10-17":
		return nil, oss.ErrMalformedPolicy.WithMessage("Invalid policy document version")
	case !s3 && version != "1":
		return nil, oss.ErrPolicyVersion
	}
	var stmts []json.RawMessage
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one json.RawMessage
		if json.Unmarshal(doc.Statement, &one) != nil || len(one) == 0 || one[0] != '{' {
			return nil, bucketPolicyErr(s3, "Policy has no valid Statement.")
		}
		stmts = []json.RawMessage{one}
	}
	if len(stmts) == 0 {
		return nil, bucketPolicyErr(s3, "Policy has no valid Statement.")
	}
	p := &Policy{}
	for _, rs := range stmts {
		st, err := parseStatement(rs, bucket, s3)
		if err != nil {
			return nil, err
		}
		st.OSSLanguage = version == "1"
		p.Statements = append(p.Statements, st)
	}
	p.public = p.Public()
	return p, nil
}

func parseStatement(raw json.RawMessage, bucket string, s3 bool) (Statement, error) {
	var in struct {
		Sid          json.RawMessage
		Effect       string
		Principal    json.RawMessage
		NotPrincipal json.RawMessage
		Action       json.RawMessage
		NotAction    json.RawMessage
		Resource     json.RawMessage
		Condition    map[string]map[string]json.RawMessage
	}
	var st Statement
	if err := json.Unmarshal(raw, &in); err != nil {
		return st, bucketPolicyErr(s3, "Policy statement is not valid JSON of the policy grammar.")
	}
	switch in.Effect {
	case "Allow":
		st.Allow = true
	case "Deny":
	default:
		return st, bucketPolicyErr(s3, "Policy statement Effect must be Allow or Deny.")
	}
	var ok bool
	if len(in.Principal) > 0 {
		if st.Principals, ok = parsePrincipal(in.Principal); !ok || len(st.Principals) == 0 {
			return st, bucketPolicyErr(s3, "Invalid principal in policy")
		}
	}
	if len(in.NotPrincipal) > 0 {
		if st.NotPrincipals, ok = parsePrincipal(in.NotPrincipal); !ok || len(st.NotPrincipals) == 0 {
			return st, bucketPolicyErr(s3, "Invalid principal in policy")
		}
	}
	if s3 && st.Allow && st.NotPrincipals != nil {
		// AWS takes NotPrincipal only with Deny.
		return st, oss.ErrMalformedPolicy.WithMessage("Invalid principal in policy: NotPrincipal may only be used with Deny")
	}
	if s3 && st.Principals == nil && st.NotPrincipals == nil {
		return st, oss.ErrMalformedPolicy.WithMessage("Missing required field Principal")
	}
	if st.Actions, ok = strList(in.Action); !ok {
		return st, bucketPolicyErr(s3, "Policy has an invalid action.")
	}
	if st.NotActions, ok = strList(in.NotAction); !ok {
		return st, bucketPolicyErr(s3, "Policy has an invalid action.")
	}
	if len(st.Actions) == 0 && len(st.NotActions) == 0 {
		return st, bucketPolicyErr(s3, "Missing required field Action")
	}
	for _, list := range [][]string{st.Actions, st.NotActions} {
		for i, a := range list {
			l := strings.ToLower(a)
			if l != "*" && !strings.HasPrefix(l, "oss:") && !strings.HasPrefix(l, "s3:") {
				return st, bucketPolicyErr(s3, "Policy has invalid action %q.", a)
			}
			list[i] = l
		}
	}
	res, ok := strList(in.Resource)
	if !ok || len(res) == 0 {
		return st, bucketPolicyErr(s3, "Missing required field Resource")
	}
	for _, r := range res {
		rr, ok := parseResource(r)
		if !ok || !resourceInBucket(rr.Pattern, bucket) {
			if s3 {
				return st, oss.ErrMalformedPolicy.WithMessage("Policy has invalid resource")
			}
			return st, oss.ErrInvalidBucketPolicy.WithMessage("Policy resource %q is not in bucket %s.", r, bucket)
		}
		st.Resources = append(st.Resources, rr)
	}
	for op, kv := range in.Condition {
		lop := strings.ToLower(op)
		if !conditionOps[lop] {
			return st, bucketPolicyErr(s3, "Policy has an unsupported condition operator %q.", op)
		}
		for k, v := range kv {
			vals, ok := scalarList(v)
			if !ok {
				return st, bucketPolicyErr(s3, "Policy condition %s has invalid values.", k)
			}
			c := Condition{Op: lop, Key: conditionKey(k), Values: vals}
			if err := checkCondition(c); err != nil {
				return st, bucketPolicyErr(s3, "Policy condition %s %s: %v", op, k, err)
			}
			st.Conditions = append(st.Conditions, c)
		}
	}
	return st, nil
}

// parsePrincipal reads OSS's ["*"] / ["id", …] and AWS's "*" /
// {"AWS": "…" | […]} (and "CanonicalUser"), reducing AWS IAM ARNs to
// the account or user id they name.
func parsePrincipal(raw json.RawMessage) ([]string, bool) {
	if l, ok := strList(raw); ok {
		return normalizePrincipals(l), true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	var out []string
	for _, v := range m {
		l, ok := strList(v)
		if !ok {
			return nil, false
		}
		out = append(out, normalizePrincipals(l)...)
	}
	return out, true
}

func normalizePrincipals(l []string) []string {
	out := make([]string, 0, len(l))
	for _, s := range l {
		if rest, ok := strings.CutPrefix(s, "arn:aws:iam::"); ok {
			acct, res, _ := strings.Cut(rest, ":")
			if i := strings.LastIndexByte(res, '/'); i >= 0 {
				s = res[i+1:] // user/NAME: the user
			} else {
				s = acct // root: the account
			}
		} else if rest, ok := strings.CutPrefix(s, "acs:ram::"); ok {
			acct, _, _ := strings.Cut(rest, ":")
			s = acct
		}
		out = append(out, s)
	}
	return out
}

// parseResource reads acs:oss:region:account:bucket/key and
// arn:aws:s3:::bucket/key.
func parseResource(r string) (Resource, bool) {
	if rest, ok := strings.CutPrefix(r, "acs:oss:"); ok {
		parts := strings.SplitN(rest, ":", 3) // region, account, resource
		if len(parts) != 3 || parts[2] == "" {
			return Resource{}, false
		}
		return Resource{Account: parts[1], Pattern: parts[2]}, true
	}
	if rest, ok := strings.CutPrefix(r, "arn:aws:s3:::"); ok && rest != "" {
		return Resource{Account: "*", Pattern: rest}, true
	}
	return Resource{}, false
}

// resourceInBucket reports whether a resource pattern can name bucket or
// an object in it: a policy names only its own bucket's resources.
func resourceInBucket(pat, bucket string) bool {
	head, _, _ := strings.Cut(pat, "/")
	return head == "*" || wildMatch(head, bucket) || strings.Contains(head, "*") && wildMatch(pat, bucket+"/")
}

func checkCondition(c Condition) error {
	switch c.Op {
	case "ipaddress", "notipaddress":
		for _, v := range c.Values {
			if _, err := parseCIDR(v); err != nil {
				return err
			}
		}
	case "bool":
		for _, v := range c.Values {
			if lv := strings.ToLower(v); lv != "true" && lv != "false" {
				return fmt.Errorf("%q is not a boolean", v)
			}
		}
	case "dategreaterthan", "dategreaterthanequals", "datelessthan", "datelessthanequals", "dateequals", "datenotequals":
		for _, v := range c.Values {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("%q is not an ISO 8601 time", v)
			}
		}
	}
	return nil
}

func parseCIDR(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		return netip.ParsePrefix(v)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// wildMatch matches s against pat where '*' is any run and '?' any one
// character.
func wildMatch(pat, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && (pat[px] == '?' || pat[px] == s[sx]):
			px++
			sx++
		case px < len(pat) && pat[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// Public reports whether p is public by OSS's definition: some statement
// allows everyone ("*") with no condition restricting the source IP or
// VPC.
func (p *Policy) Public() bool {
	for i := range p.Statements {
		if p.Statements[i].public() {
			return true
		}
	}
	return false
}

func (st *Statement) public() bool {
	if !st.Allow {
		return false
	}
	everyone := st.NotPrincipals != nil
	for _, pr := range st.Principals {
		everyone = everyone || pr == "*"
	}
	if !everyone {
		return false
	}
	for _, c := range st.Conditions {
		if c.Key == "sourceip" && c.Op == "ipaddress" || c.Key == "sourcevpc" && (c.Op == "stringequals" || c.Op == "stringlike") {
			return false
		}
	}
	return true
}

// Decision is a policy's verdict on a request.
type Decision int

const (
	// NoDecision: no statement applies; the ACLs decide.
	NoDecision Decision = iota
	// Allowed: an Allow statement applies and no Deny does.
	Allowed
	// Denied: a Deny statement applies, which nothing overrides.
	Denied
)

// Evaluate decides a request by principal p on bucket (owned by owner).
// An explicit Deny wins over any Allow. When restrict (Block Public
// Access's RestrictPublicBuckets) holds and the policy is public, its
// Allows count only for the owner's account: public and cross-account
// access through a public policy are both cut off, as AWS defines it.
func (p *Policy) Evaluate(pr Principal, bucket, owner string, ri *RequestInfo, now time.Time, restrict func() bool) Decision {
	d := NoDecision
	actions := actionNames(ri.Op)
	resource := bucket
	if ri.Key != "" {
		resource = bucket + "/" + ri.Key
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Allow && d == Allowed {
			continue
		}
		if !st.matchPrincipal(pr, owner) || !st.matchAction(actions) || !st.matchResource(resource, owner) || !st.matchConditions(ri, now) {
			continue
		}
		if !st.Allow {
			return Denied
		}
		if (pr.ID == "" || pr.ID != owner) && p.public && restrict != nil && restrict() {
			continue
		}
		d = Allowed
	}
	return d
}

func (st *Statement) matchPrincipal(pr Principal, owner string) bool {
	// OSS: "*" without a Condition means everyone but the bucket owner.
	starSparesOwner := st.OSSLanguage && len(st.Conditions) == 0 && pr.ID != "" && pr.ID == owner
	in := func(list []string) bool {
		for _, s := range list {
			if s == "*" && !starSparesOwner || !pr.Anonymous() && (s == pr.ID || s == pr.AccessKeyID) {
				return true
			}
		}
		return false
	}
	if st.NotPrincipals != nil {
		return !in(st.NotPrincipals)
	}
	return in(st.Principals)
}

func (st *Statement) matchAction(names []string) bool {
	any := func(list []string) bool {
		for _, a := range list {
			for _, n := range names {
				if a == "*" || wildMatch(a, n) {
					return true
				}
			}
		}
		return false
	}
	if st.NotActions != nil {
		return !any(st.NotActions)
	}
	return any(st.Actions)
}

func (st *Statement) matchResource(resource, owner string) bool {
	for _, r := range st.Resources {
		if (r.Account == "*" || r.Account == "" || r.Account == owner) && wildMatch(r.Pattern, resource) {
			return true
		}
	}
	return false
}

func (st *Statement) matchConditions(ri *RequestInfo, now time.Time) bool {
	for _, c := range st.Conditions {
		if !c.met(ri, now) {
			return false
		}
	}
	return true
}

// value returns the request's value for a condition key and whether the
// request has one.
func (ri *RequestInfo) value(key string, now time.Time) (string, bool) {
	switch key {
	case "sourceip":
		return ri.SourceIP, ri.SourceIP != ""
	case "securetransport":
		return fmt.Sprint(ri.Secure), true
	case "referer":
		return ri.Referer, ri.Referer != ""
	case "prefix":
		return ri.Prefix, ri.HasPrefix
	case "delimiter":
		return ri.Delimiter, ri.HasDelimiter
	case "currenttime":
		return now.UTC().Format(time.RFC3339), true
	}
	if tag, ok := strings.CutPrefix(key, "existingobjecttag/"); ok {
		v, ok := ri.ObjectTags[tag]
		return v, ok
	}
	if ri.Header != nil && (strings.HasPrefix(key, "x-amz-") || strings.HasPrefix(key, "x-oss-")) {
		v := ri.Header(key)
		return v, v != ""
	}
	return "", false
}

// met applies c to the request. A key the request lacks fails every
// positive operator and satisfies every negated one, as in IAM.
func (c Condition) met(ri *RequestInfo, now time.Time) bool {
	v, ok := ri.value(c.Key, now)
	negated := strings.Contains(c.Op, "not")
	if !ok {
		return negated
	}
	anyOf := func(f func(string) bool) bool {
		for _, want := range c.Values {
			if f(want) {
				return true
			}
		}
		return false
	}
	switch c.Op {
	case "stringequals":
		return anyOf(func(w string) bool { return v == w })
	case "stringnotequals":
		return !anyOf(func(w string) bool { return v == w })
	case "stringequalsignorecase":
		return anyOf(func(w string) bool { return strings.EqualFold(v, w) })
	case "stringnotequalsignorecase":
		return !anyOf(func(w string) bool { return strings.EqualFold(v, w) })
	case "stringlike":
		return anyOf(func(w string) bool { return wildMatch(w, v) })
	case "stringnotlike":
		return !anyOf(func(w string) bool { return wildMatch(w, v) })
	case "bool":
		return anyOf(func(w string) bool { return strings.EqualFold(v, w) })
	case "ipaddress", "notipaddress":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return negated
		}
		in := anyOf(func(w string) bool { p, err := parseCIDR(w); return err == nil && p.Contains(a.Unmap()) })
		return in != negated
	}
	// Date operators compare against acs:CurrentTime (or another date key).
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return negated
	}
	return anyOf(func(w string) bool {
		wt, err := time.Parse(time.RFC3339, w)
		if err != nil {
			return false
		}
		switch c.Op {
		case "dategreaterthan":
			return t.After(wt)
		case "dategreaterthanequals":
			return !t.Before(wt)
		case "datelessthan":
			return t.Before(wt)
		case "datelessthanequals":
			return !t.After(wt)
		case "dateequals":
			return t.Equal(wt)
		case "datenotequals":
			return !t.Equal(wt)
		}
		return false
	})
}

// s3Actions names operations whose S3 action differs from their OSS one
// (OSS's action is "oss:" + the operation name, with the exceptions in
// ossActions).
var s3Actions = map[oss.Op]string{
	oss.OpListObjects:             "ListBucket",
	oss.OpListObjectsV2:           "ListBucket",
	oss.OpListObjectVersions:      "ListBucketVersions",
	oss.OpHeadObject:              "GetObject",
	oss.OpGetObjectMeta:           "GetObject",
	oss.OpGetObjectAttributes:     "GetObjectAttributes",
	oss.OpHeadBucket:              "ListBucket",
	oss.OpGetBucketInfo:           "ListBucket",
	oss.OpGetBucketTags:           "GetBucketTagging",
	oss.OpPutBucketTags:           "PutBucketTagging",
	oss.OpDeleteBucketTags:        "PutBucketTagging",
	oss.OpGetBucketCors:           "GetBucketCORS",
	oss.OpPutBucketCors:           "PutBucketCORS",
	oss.OpDeleteBucketCors:        "PutBucketCORS",
	oss.OpGetBucketLifecycle:      "GetLifecycleConfiguration",
	oss.OpPutBucketLifecycle:      "PutLifecycleConfiguration",
	oss.OpDeleteBucketLifecycle:   "PutLifecycleConfiguration",
	oss.OpDeleteBucketLogging:     "PutBucketLogging",
	oss.OpPutPublicAccessBlock:    "PutBucketPublicAccessBlock",
	oss.OpGetPublicAccessBlock:    "GetBucketPublicAccessBlock",
	oss.OpDeletePublicAccessBlock: "PutBucketPublicAccessBlock",
	oss.OpDeleteBucketPolicy:      "DeleteBucketPolicy",
	oss.OpListMultipartUploads:    "ListBucketMultipartUploads",
	oss.OpListParts:               "ListMultipartUploadParts",
	oss.OpInitiateMultipartUpload: "PutObject",
	oss.OpUploadPart:              "PutObject",
	oss.OpUploadPartCopy:          "PutObject",
	oss.OpCompleteMultipartUpload: "PutObject",
	oss.OpCopyObject:              "PutObject",
	oss.OpAppendObject:            "PutObject",
	oss.OpPostObject:              "PutObject",
	oss.OpDeleteMultipleObjects:   "DeleteObject",
	oss.OpGetSymlink:              "GetObject",
	oss.OpPutSymlink:              "PutObject",
}

// ossActions names operations whose OSS action is not "oss:" + the
// operation name: OSS authorizes them as the listed action.
var ossActions = map[oss.Op]string{
	oss.OpListObjects:             "ListObjects",
	oss.OpListObjectsV2:           "ListObjects",
	oss.OpListObjectVersions:      "ListObjectVersions",
	oss.OpHeadObject:              "GetObject",
	oss.OpGetObjectMeta:           "GetObject",
	oss.OpUploadPart:              "PutObject",
	oss.OpUploadPartCopy:          "PutObject",
	oss.OpInitiateMultipartUpload: "PutObject",
	oss.OpCompleteMultipartUpload: "PutObject",
	oss.OpAppendObject:            "PutObject",
	oss.OpPostObject:              "PutObject",
	oss.OpCopyObject:              "PutObject",
	oss.OpDeleteMultipleObjects:   "DeleteObject",
	oss.OpGetBucketTags:           "GetBucketTagging",
	oss.OpPutBucketTags:           "PutBucketTagging",
	oss.OpDeleteBucketTags:        "DeleteBucketTagging",
}

// actionNames are the lower-cased actions an operation needs, in both
// languages: "oss:getobject" and "s3:getobject" for GetObject.
func actionNames(op oss.Op) []string {
	o, ok := ossActions[op]
	if !ok {
		o = string(op)
	}
	s, ok := s3Actions[op]
	if !ok {
		s = string(op)
	}
	return []string{"oss:" + strings.ToLower(o), "s3:" + strings.ToLower(s)}
}

// policyOps are the operations the bucket owner may always perform,
// whatever the policy says, so a Deny cannot lock the owner out of fixing
// it.
var policyOps = map[oss.Op]bool{
	oss.OpPutBucketPolicy: true, oss.OpGetBucketPolicy: true,
	oss.OpDeleteBucketPolicy: true, oss.OpGetBucketPolicyStatus: true,
}

// policyCache holds each bucket's parsed policy, keyed by bucket name and
// checked against the stored text, so a request parses nothing.
type policyCache struct {
	mu sync.RWMutex
	m  map[string]cachedPolicy
}

type cachedPolicy struct {
	raw string
	p   *Policy
}

// BucketPolicy returns b's policy, parsed once per text and cached.
func (s *Service) BucketPolicy(b *meta.Bucket) (*Policy, error) {
	c := &s.policies
	c.mu.RLock()
	e, ok := c.m[b.Name]
	c.mu.RUnlock()
	if ok && e.raw == b.Policy {
		return e.p, nil
	}
	p, err := parsePolicy([]byte(b.Policy), b.Name, false, true)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedPolicy{}
	}
	c.m[b.Name] = cachedPolicy{raw: b.Policy, p: p}
	c.mu.Unlock()
	return p, nil
}

// authorizeByPolicy applies b's bucket policy to a request, before the
// ACLs: decided is true when the policy settles it — an explicit Deny
// (err set), or an Allow (err nil). Otherwise the owner and the ACLs
// decide as before. The owner is never denied the policy operations.
func (s *Service) authorizeByPolicy(ctx context.Context, p Principal, access Access, b *meta.Bucket) (decided bool, err error) {
	if p.Internal || access == AccessAnyone || b == nil || b.Policy == "" {
		return false, nil
	}
	ri, ok := requestFrom(ctx)
	if !ok {
		return false, nil
	}
	pol, perr := s.BucketPolicy(b)
	if perr != nil {
		// Stored text always parsed when it was put; refuse rather than
		// ignore a Deny that cannot be read.
		s.log.Error("parse stored bucket policy", "bucket", b.Name, "err", perr)
		return true, oss.ErrAccessDenied
	}
	owner := p.ID != "" && p.ID == b.Owner
	switch pol.Evaluate(p, b.Name, b.Owner, ri, s.now(), func() bool { return s.PublicAccess(ctx, b).RestrictPublicBuckets }) {
	case Denied:
		if owner && policyOps[ri.Op] {
			return true, nil
		}
		return true, oss.ErrPolicyDenied
	case Allowed:
		return true, nil
	}
	return false, nil
}

// TagMap is tags as ExistingObjectTag conditions look them up.
func TagMap(tags []meta.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// existingTagOps are the operations authorized before their handler reads
// the object, whose policy must still see the object's tags
// (s3:ExistingObjectTag, oss:ExistingObjectTag): AWS evaluates the key for
// the tagging operations as for GetObject. The tags are the object's as
// they stand before the request (PutObjectTagging is judged by the tags
// it replaces).
var existingTagOps = map[oss.Op]bool{
	oss.OpGetObjectTagging:    true,
	oss.OpPutObjectTagging:    true,
	oss.OpDeleteObjectTagging: true,
}

// WithExistingObjectTags adds to ctx's policy view the tags of the object
// version the request addresses (versionID "" for the current one), when
// b has a policy and the operation is one of existingTagOps. A key that
// does not exist has no tags: conditions on them are not met, and the
// ACLs decide (403, or the handler's 404 for a caller they allow).
func (s *Service) WithExistingObjectTags(ctx context.Context, b *meta.Bucket, key, versionID string) context.Context {
	ri, ok := requestFrom(ctx)
	if !ok || b == nil || b.Policy == "" || key == "" || !existingTagOps[ri.Op] {
		return ctx
	}
	v, err := s.Head(ctx, GetInput{Bucket: b.Name, Key: key, VersionID: versionID})
	if err != nil {
		return ctx
	}
	withTags := *ri
	withTags.ObjectTags = TagMap(v.Tags)
	return WithRequest(ctx, withTags)
}
