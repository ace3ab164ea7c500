package service

import (
	"slices"
	"strings"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// CORS limits: OSS takes at most 10 rules; S3 takes 100.
const (
	MaxCORSRules   = 10
	MaxS3CORSRules = 100
)

// corsMethods are the methods a CORS rule may allow, as OSS lists them.
var corsMethods = map[string]bool{"GET": true, "PUT": true, "DELETE": true, "POST": true, "HEAD": true}

// ValidateCORS checks a configuration before it replaces the bucket's:
// 1 to limit rules, each with an origin and an allowed method; at most one
// '*' in an origin or an allowed header; none in an exposed header.
func ValidateCORS(c *meta.CORSConfig, limit int) error {
	switch {
	case len(c.Rules) == 0:
		return oss.ErrCORSNoRule
	case len(c.Rules) > limit:
		return oss.ErrCORSRuleBeyondLimit
	}
	for _, r := range c.Rules {
		if len(r.Methods) == 0 {
			return oss.ErrCORSInvalidMethod.WithMessage("A CORSRule must allow at least one method.")
		}
		for _, m := range r.Methods {
			if !corsMethods[m] {
				return oss.ErrCORSInvalidMethod.WithMessage("Unsupported CORS AllowedMethod %q: use GET, PUT, DELETE, POST or HEAD.", m)
			}
		}
		if len(r.Origins) == 0 {
			return oss.ErrCORSInvalidRule.WithMessage("A CORSRule must allow at least one origin.")
		}
		for _, o := range r.Origins {
			if o == "" || strings.Count(o, "*") > 1 {
				return oss.ErrCORSInvalidRule.WithMessage("CORS AllowedOrigin %q: it must be non-empty, with at most one '*'.", o)
			}
		}
		for _, h := range r.Headers {
			if strings.Count(h, "*") > 1 {
				return oss.ErrCORSInvalidRule.WithMessage("CORS AllowedHeader %q may hold at most one '*'.", h)
			}
		}
		for _, h := range r.Expose {
			if strings.Contains(h, "*") {
				return oss.ErrCORSInvalidRule.WithMessage("CORS ExposeHeader %q may not hold '*'.", h)
			}
		}
		if r.MaxAge < -1 {
			return oss.ErrCORSInvalidRule.WithMessage("CORS MaxAgeSeconds must not be negative.")
		}
	}
	return nil
}

// MatchCORS returns the first rule of c that allows a request from origin
// with method and, for a preflight, every header it announces; nil when
// none does (or c is nil). Origins match exactly apart from their '*';
// headers match with '*' too, ignoring case.
func MatchCORS(c *meta.CORSConfig, origin, method string, headers []string) *meta.CORSRule {
	if c == nil {
		return nil
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !anyMatch(r.Origins, origin, false) || !slices.Contains(r.Methods, method) {
			continue
		}
		ok := true
		for _, h := range headers {
			if !anyMatch(r.Headers, h, true) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

// OriginMatches reports whether origin matches a rule's origin pattern.
func OriginMatches(pattern, origin string) bool { return wildcard(pattern, origin) }

func anyMatch(patterns []string, s string, fold bool) bool {
	if fold {
		s = strings.ToLower(s)
	}
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

// wildcard matches s against p, where p may hold one '*' standing for any
// run of characters (ValidateCORS allows no more).
func wildcard(p, s string) bool {
	before, after, found := strings.Cut(p, "*")
	if !found {
		return p == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}
