package service

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// PostPolicy is the policy document of a browser form upload (PostObject):
// until when the form may be used and the conditions its fields must meet.
type PostPolicy struct {
	Expiration time.Time
	conds      []postCond
	// MinSize and MaxSize bound the file (content-length-range); MaxSize
	// < 0 when the policy sets no range.
	MinSize, MaxSize int64
}

// postCond is one condition: the field (lower-case, without "$") must
// equal or start with value. "bucket" is the bucket posted to.
type postCond struct {
	op, field, value string
}

func policyErr(format string, args ...any) *oss.Error {
	return oss.ErrInvalidPolicyDocument.WithMessage("Invalid Policy: "+format, args...)
}

// ParsePostPolicy decodes a policy field (base64 JSON). The names are case
// sensitive ("expiration", "conditions"), as on S3 and OSS; a document
// without an expiration or a conditions list, an expiration that is not
// ISO 8601, an empty condition or a content-length-range without two
// non-negative integers is a malformed policy (400).
func ParsePostPolicy(b64 string) (*PostPolicy, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, policyErr("the policy is not valid base64.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, policyErr("the policy is not a JSON object.")
	}
	var exp string
	if json.Unmarshal(doc["expiration"], &exp) != nil || exp == "" {
		return nil, policyErr("Policy missing expiration.")
	}
	p := &PostPolicy{MaxSize: -1}
	for _, layout := range []string{"2006-01-02T15:04:05.000Z", time.RFC3339Nano} {
		if p.Expiration, err = time.Parse(layout, exp); err == nil {
			break
		}
	}
	if err != nil {
		return nil, policyErr("Invalid 'expiration' value: %q.", exp)
	}
	var conds []json.RawMessage
	if json.Unmarshal(doc["conditions"], &conds) != nil || doc["conditions"] == nil {
		return nil, policyErr("Policy missing conditions.")
	}
	for _, c := range conds {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *PostPolicy) addCondition(c json.RawMessage) error {
	var obj map[string]any
	if json.Unmarshal(c, &obj) == nil {
		if len(obj) != 1 {
			return policyErr("a condition object must hold exactly one field.")
		}
		for k, v := range obj {
			s, ok := v.(string)
			if !ok {
				return policyErr("the value of condition %q is not a string.", k)
			}
			p.conds = append(p.conds, postCond{"eq", strings.ToLower(strings.TrimPrefix(k, "$")), s})
		}
		return nil
	}
	var list []any
	if json.Unmarshal(c, &list) != nil || len(list) == 0 {
		return policyErr("a condition must be an object or a list.")
	}
	op, _ := list[0].(string)
	switch strings.ToLower(op) {
	case "content-length-range":
		if len(list) != 3 {
			return policyErr("content-length-range takes a minimum and a maximum.")
		}
		min, ok1 := list[1].(float64)
		max, ok2 := list[2].(float64)
		if !ok1 || !ok2 || min < 0 || max < min || min != math.Trunc(min) || max != math.Trunc(max) {
			return policyErr("content-length-range takes two non-negative integers, the minimum first.")
		}
		p.MinSize, p.MaxSize = int64(min), int64(max)
		return nil
	case "eq", "starts-with":
		if len(list) != 3 {
			return policyErr("%s takes a field and a value.", op)
		}
		field, ok1 := list[1].(string)
		value, ok2 := list[2].(string)
		if !ok1 || !ok2 || !strings.HasPrefix(field, "$") {
			return policyErr("%s takes a $field and a string value.", op)
		}
		p.conds = append(p.conds, postCond{strings.ToLower(op), strings.ToLower(field[1:]), value})
		return nil
	}
	return policyErr("unknown condition %q.", op)
}

// postExempt are form fields no condition needs to name: the signature's
// own, the file, x-ignore-* (S3's rule) and x-amz-checksum-* (a check of
// the file's bytes, which grants nothing).
var postExempt = map[string]bool{
	"awsaccesskeyid": true, "ossaccesskeyid": true, "signature": true, "policy": true, "file": true,
	"x-amz-signature": true, "x-oss-signature": true, "x-amz-security-token": true, "x-oss-security-token": true,
}

// Check applies the policy to a form posted to bucket at now; fields are
// lower-cased names with the key after ${filename} was replaced. S3 also
// refuses a field that no condition names (strict); OSS does not. A failed
// check is 403 AccessDenied, as both answer it.
func (p *PostPolicy) Check(now time.Time, bucket string, fields map[string]string, strict bool) error {
	if !now.Before(p.Expiration) {
		return oss.ErrAccessDenied.WithMessage("Invalid according to Policy: Policy expired.")
	}
	named := map[string]bool{}
	for _, c := range p.conds {
		named[c.field] = true
		got, ok := fields[c.field]
		if c.field == "bucket" {
			got, ok = bucket, true
		}
		if !ok || c.op == "eq" && got != c.value || c.op == "starts-with" && !strings.HasPrefix(got, c.value) {
			return oss.ErrAccessDenied.WithMessage("Invalid according to Policy: Policy Condition failed: [%q, \"$%s\", %q]", c.op, c.field, c.value)
		}
	}
	if strict {
		for name := range fields {
			if !named[name] && !postExempt[name] && !strings.HasPrefix(name, "x-ignore-") && !strings.HasPrefix(name, "x-amz-checksum-") {
				return oss.ErrAccessDenied.WithMessage("Invalid according to Policy: Extra input fields: %s", name)
			}
		}
	}
	return nil
}
